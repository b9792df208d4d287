package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/ghmicons/ghmicons/pkg/sol"
)

// The end of input, and the way out.
//
// End of input (pipe mode, without --keep-open) ends the session once (1)
// everything read from stdin has been accepted by the BMC, and (2) the BMC
// has sent nothing for its whole retransmission span (solRetry.quiet): a
// packet of output lost on the way would have come again by then, unless the
// BMC itself gave it up. Output still arriving keeps the console open, up to
// lingerAfterQuiet plus that span. docs/console.md says what this guarantees.

// beginEnd starts the end of input.
func (c *console) beginEnd(now time.Time) {
	c.phase = draining
	c.progressAt = now
	c.progressOut = c.att.st.Stats().BytesOut
	c.startDrain()
}

// startDrain waits for the BMC to accept what was written, once all queued
// input is in the stream.
func (c *console) startDrain() {
	if c.phase != draining || c.draining || c.att == nil || len(c.queue) > 0 || c.inFlight {
		return
	}
	c.draining = true
	st, ctx := c.att.st, c.att.ctx
	go func() { c.drained <- drainResult{st: st, err: st.Drain(ctx)} }()
}

func (c *console) onDrained(r drainResult) {
	c.draining = false
	if c.att == nil || c.att.st != r.st || c.phase != draining || r.err != nil {
		return // the stream ended: streamEnded says so
	}
	now := time.Now()
	c.phase = lingering
	c.lingerStart = now
	c.lastAct = activity(r.st.Stats())
	c.lastActAt = now
	c.lingerCheck = now.Add(checkEvery(c.retry.quiet()))
	c.debugf("end of input: all input accepted; waiting for %v without output (SOL retry: %v)", c.retry.quiet(), c.retry)
}

// checkDrainProgress ends the console when the BMC has accepted nothing for
// inputStallBound: never exit 0 with input left behind.
func (c *console) checkDrainProgress(now time.Time) {
	if now.Before(c.progressAt.Add(inputStallBound)) || c.att == nil {
		return
	}
	out := c.att.st.Stats().BytesOut
	if out != c.progressOut {
		c.progressOut, c.progressAt = out, now
		return
	}
	pending := uint64(c.queued) + c.att.written - min(out, c.att.written)
	c.stop(fmt.Errorf("end of input: the BMC accepted none of the last %d bytes of input for %v", pending, inputStallBound), endError)
}

// activity counts the BMC's console data packets: new output, and
// retransmissions of output already delivered (the BMC did not hear the
// ACK, so it is still trying).
func activity(s sol.Stats) uint64 { return s.BytesIn + s.Duplicates + s.Stale }

func checkEvery(quiet time.Duration) time.Duration { return max(quiet/4, 50*time.Millisecond) }

func (c *console) checkQuiet(now time.Time) {
	if c.att == nil {
		return
	}
	q := c.retry.quiet()
	if a := activity(c.att.st.Stats()); a != c.lastAct {
		c.lastAct, c.lastActAt = a, now
	}
	switch {
	case now.Sub(c.lastActAt) >= q:
		c.stop(nil, endInput)
	case now.Sub(c.lingerStart) >= lingerAfterQuiet+q:
		c.note("end of input: host output still arriving after %v; closing the console", round(now.Sub(c.lingerStart)))
		c.stop(nil, endInput)
	default:
		c.lingerCheck = now.Add(checkEvery(q))
		if t := c.lastActAt.Add(q); t.Before(c.lingerCheck) {
			c.lingerCheck = t
		}
	}
}

// Bounds of the way out: every wait on the BMC, stdout, stderr or the log
// has one, so the program always exits.
const (
	connectCancelBound = 2 * time.Second        // an attempt under way returns after its context ends
	quitOutputBound    = time.Second            // output still being written after ~., a signal or an error
	inputFlushBound    = time.Second            // input read before ~. or a signal, still going to the stream
	stdinQuietBound    = 100 * time.Millisecond // pipe mode, after a signal: stdin gave nothing more for this long
	messageFlushBound  = 2 * time.Second        // stderr
)

// shutdown ends the console: the stream is deactivated and its session
// closed, output already received is written, the log is closed, messages go
// out, all within bounds. It returns the program's error: nil, a
// *signalError, or the error that ended the console, which the caller
// prints (once) after the terminal is restored.
func (c *console) shutdown() error {
	e := c.end
	err := e.err
	if e.how == endSignal {
		c.debugf("%v", err)
	}
	if c.connCancel != nil {
		c.connCancel()
		c.connCancel = nil
		if r, ok := c.waitConnect(); ok && r.st != nil {
			// The attempt got through anyway: close that session too.
			c.closeStream(&attachment{st: r.st, cancel: func() {}})
		}
	}
	att := c.att
	if att != nil && e.how != endError {
		c.flushInput(att)
	}
	c.att = nil
	if att != nil {
		c.closeStream(att)
	}
	c.waitClosers()
	if att != nil {
		// Input the stream took but the BMC never accepted (Close gave up
		// on it): told with what the program itself did not send, in one
		// note.
		if out := att.st.Stats().BytesOut; att.written > out {
			c.discard(int(att.written-out), "the BMC had not accepted it when the console closed")
		}
	}
	if att != nil {
		if werr := c.waitOutput(att.st, e.how == endInput); werr != nil && err == nil {
			err = werr
		}
	}
	for _, s := range c.limiter.flush(time.Now()) {
		c.summary(s)
	}
	c.endDiscard()
	if c.ended != nil {
		c.notDelivered(c.ended.written, c.ended.bytesOut)
	}
	switch {
	case err == nil || e.how == endSignal:
		if att != nil {
			c.note("disconnected")
		}
	case c.everUp:
		// The error itself is the program's one line (run.go prints it after
		// the terminal is restored); the log gets it as a marked line.
		c.logMark("disconnected: " + err.Error())
	default:
		c.logMark("not connected: " + err.Error())
	}
	if c.log != nil {
		bound := logCloseBound
		if c.hurried {
			bound = 0
		}
		if lerr := c.log.closeWithin(bound); lerr != nil && err == nil {
			err = &localIOError{what: "writing the log", err: lerr}
		}
	}
	if !c.hurried {
		c.msgs.flush(messageFlushBound)
	}
	return err
}

// flushInput hands the stream what stdin gave before the end (Close then
// drains it, bounded), so that ~. or a signal ends the console promptly
// without dropping input already written to us: ssh writes its last packet
// to its ProxyCommand, closes its stdin and sends it SIGHUP at once, and the
// sshd at the other end must still get that packet. In pipe mode it also
// reads on while stdin keeps giving (until end of input, a pause of
// stdinQuietBound, or inputQueueBytes). A BMC that accepts nothing costs
// inputFlushBound at most; a second signal skips it.
func (c *console) flushInput(att *attachment) {
	pipe := !c.ttyIn && !c.esc.Enabled()
	total := time.NewTimer(inputFlushBound)
	defer total.Stop()
	quiet := time.NewTimer(stdinQuietBound)
	defer quiet.Stop()
	for !c.hurried {
		var input chan inputChunk
		if pipe && !c.stdinEOF && c.queued < inputQueueBytes {
			input = c.input
		}
		if !c.inFlight && len(c.queue) > 0 {
			c.inFlight = true
			c.sendq <- sendItem{st: att.st, inputItem: c.queue[0]}
		}
		if input == nil && !c.inFlight {
			return
		}
		select {
		case in := <-input:
			if len(in.b) > 0 {
				c.queueInput(inputItem{b: in.b})
			}
			if in.err != nil {
				c.stdinEOF = true
			}
			quiet.Reset(stdinQuietBound)
		case <-quiet.C:
			pipe = false
		case r := <-c.sent:
			c.onSent(r)
		case <-total.C:
			return
		case <-c.sigs:
			c.hurry()
		}
	}
}

func isLocalIO(err error) bool {
	var le *localIOError
	return errors.As(err, &le)
}

// hurry reports a second signal during the way out: the remaining waits are
// skipped (the terminal is still restored).
func (c *console) hurry() {
	c.hurried = true
	c.debugf("second signal: not waiting any longer")
}

// wait waits for ch within d; a signal cuts it short.
func (c *console) wait(ch <-chan struct{}, d time.Duration) {
	if c.hurried {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-c.sigs:
		c.hurry()
	}
}

func (c *console) waitConnect() (connResult, bool) {
	if c.hurried {
		return connResult{}, false
	}
	t := time.NewTimer(connectCancelBound)
	defer t.Stop()
	select {
	case r := <-c.connected:
		return r, true
	case <-t.C:
	case <-c.sigs:
		c.hurry()
	}
	return connResult{}, false
}

// waitClosers waits for the streams being closed: Close drains input, sends
// Deactivate Payload and Close Session, each bounded by the request timeout.
func (c *console) waitClosers() {
	done := make(chan struct{})
	go func() {
		c.closers.Wait()
		close(done)
	}()
	t := c.scfg.Timeout
	if t <= 0 {
		t = time.Second
	}
	c.wait(done, 4*t+time.Second)
}

// waitOutput waits until the copier has written what st received. After the
// end of input (strict) it waits while stdout takes anything at all, and a
// stdout that takes nothing for outputDrainBound is an error: output was
// left behind. Otherwise it waits quitOutputBound at most.
func (c *console) waitOutput(st *sol.Stream, strict bool) error {
	bound := quitOutputBound
	if strict {
		bound = outputDrainBound
	}
	last := c.copied.Load()
	t := time.NewTimer(bound)
	defer t.Stop()
	for !c.hurried {
		select {
		case e := <-c.outEnd:
			c.copierBusy = false
			if len(c.copyWait) > 0 {
				next := c.copyWait[0]
				c.copyWait = c.copyWait[1:]
				c.copy(next)
			}
			if e.st == st {
				if isLocalIO(e.err) {
					return e.err
				}
				return nil
			}
		case <-c.sigs:
			c.hurry()
		case <-t.C:
			if !strict {
				return nil
			}
			if n := c.copied.Load(); n != last {
				last = n
				t.Reset(bound)
				continue
			}
			return &localIOError{what: "writing console output", err: fmt.Errorf("standard output took nothing for %v", bound)}
		}
	}
	return nil
}
