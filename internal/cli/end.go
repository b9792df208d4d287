package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// The end of input, and the way out.
//
// End of input (pipe mode, without --keep-open) ends the session once (1)
// everything read from stdin has been accepted by the BMC
// (console.Drain), and (2) the BMC has sent nothing for its whole
// retransmission span (console.WaitQuiet): a packet of output lost on the
// way would have come again by then, unless the BMC itself gave it up.
// Output still arriving keeps the console open, up to lingerAfterQuiet plus
// that span. docs/console.md says what this guarantees.

type endPhase int

const (
	running   endPhase = iota
	draining           // end of input: waiting for the BMC to accept all input
	lingering          // end of input: passing output on until the BMC is quiet
)

// Bounds of the end of input and of the way out: every wait on the BMC,
// stdout, stderr or the log has one, so the program always exits.
const (
	lingerAfterQuiet  = 30 * time.Second       // the longest the end of input waits for output that keeps coming
	inputStallBound   = 20 * time.Second       // the longest the end of input waits for the BMC to accept anything
	outputDrainBound  = 10 * time.Second       // the longest the end waits for stdout to take anything
	quitOutputBound   = time.Second            // output still being written after ~., a signal or an error
	inputFlushBound   = time.Second            // input read before ~. or a signal, still going to the stream
	stdinQuietBound   = 100 * time.Millisecond // pipe mode, after a signal: stdin gave nothing more for this long
	messageFlushBound = 2 * time.Second        // stderr
)

type quietResult struct {
	quiet bool
	err   error
}

// beginEnd starts the end of input.
func (f *frontend) beginEnd(now time.Time) {
	if f.phase != running {
		return
	}
	f.phase = draining
	f.progressAt = now
	f.progressOut = f.con.Stats().BytesOut
	f.startDrain()
}

// startDrain waits for the BMC to accept what was written, once all input
// is in the console's queue.
func (f *frontend) startDrain() {
	if f.phase != draining || f.drainStarted || len(f.pending) > 0 {
		return
	}
	f.drainStarted = true
	go func() { f.drained <- f.con.Drain(f.ctx) }()
}

// onHangup: stdout's reader has gone (watchHangup). Nobody wants the
// output any more, but the input is still delivered: what stdin still
// gives until its end (the writer usually went with the reader), then the
// end of input's drain (also under --keep-open), and then the program
// exits 1 without waiting for the BMC to be quiet. It reports whether it
// waits for stdin's end (bounded by the caller).
func (f *frontend) onHangup() (waitInput bool) {
	f.readerGone = true
	f.debugf("stdout: its reader has gone")
	_ = f.con.SetReconnect(false)
	if f.phase == running && f.attached && !f.stdinEOF {
		return true
	}
	f.endAfterHangup()
	return false
}

// endAfterHangup ends the console once stdout's reader has gone and stdin
// has ended or given what it will.
func (f *frontend) endAfterHangup() {
	switch {
	case f.phase == running && f.attached:
		f.beginEnd(time.Now())
	case f.phase != draining: // not attached (nothing in flight), or lingering
		f.stop(errHangup(), endError)
	}
	// draining: onDrained ends it.
}

func errHangup() error { return &localIOError{what: "writing console output", err: errReaderGone} }

func (f *frontend) onDrained(err error) {
	if f.phase != draining {
		return
	}
	if err != nil {
		// The stream ended: what the end of input waited for is lost.
		f.stop(err, endError)
		return
	}
	if f.readerGone {
		f.stop(errHangup(), endError)
		return
	}
	f.phase = lingering
	f.lingerStart = time.Now()
	q := f.con.Stats().Retry
	f.debugf("end of input: all input accepted; waiting for %v without output (SOL retry: %v)", q.Quiet(), q)
	go func() {
		quiet, err := f.con.WaitQuiet(f.ctx, lingerAfterQuiet)
		f.quieted <- quietResult{quiet: quiet, err: err}
	}()
}

func (f *frontend) onQuiet(r quietResult) {
	switch {
	case r.err != nil:
		f.stop(r.err, endError)
	case !r.quiet:
		f.note("end of input: host output still arriving after %v; closing the console", round(time.Since(f.lingerStart)))
		f.stop(nil, endInput)
	default:
		f.stop(nil, endInput)
	}
}

// checkDrainProgress ends the console when the BMC has accepted nothing for
// inputStallBound: never exit 0 with input left behind.
func (f *frontend) checkDrainProgress(now time.Time) {
	if f.phase != draining || now.Before(f.progressAt.Add(inputStallBound)) {
		return
	}
	s := f.con.Stats()
	if s.BytesOut != f.progressOut {
		f.progressOut, f.progressAt = s.BytesOut, now
		return
	}
	pending := s.Queued + s.Stream.Pending
	for _, it := range f.pending {
		pending += len(it.b)
	}
	f.stop(fmt.Errorf("end of input: the BMC accepted none of the last %d bytes of input for %v", pending, inputStallBound), endError)
}

// shutdown ends the console: the stream is deactivated and its session
// closed, output already received is written, the log is closed, messages go
// out, all within bounds. It returns the program's error: nil, a
// *signalError, or the error that ended the console, which the caller
// prints (once) after the terminal is restored.
func (f *frontend) shutdown() error {
	e := f.end
	err := e.err
	if e.how == endSignal {
		f.debugf("%v", err)
	}
	f.cancel() // commands and the end-of-input waits
	attached := f.attached
	if attached && e.how != endError {
		f.flushInput()
	}
	f.closeConsole()
	if werr := f.waitOutput(e.how == endInput); werr != nil && err == nil {
		err = werr
	}
	f.takeOverNotes()
	if f.out != nil {
		f.out.Close()
	}
	if f.log != nil {
		f.wait(f.logDone, console.LogCloseBound)
		f.logR.Close()
	}
	// What the console said on its way out: summaries of rate-limited
	// notes, input not sent or not delivered.
	for ev := range f.sub.C {
		f.sayEvent(ev)
	}
	switch {
	case err == nil || e.how == endSignal:
		if attached {
			f.say("disconnected")
			f.logMark("disconnected")
		}
	case f.everUp:
		// The error itself is the program's one line (run.go prints it after
		// the terminal is restored); the log gets it as a marked line.
		f.logMark("disconnected: " + err.Error())
	default:
		f.logMark("not connected: " + err.Error())
	}
	if f.log != nil {
		bound := console.LogCloseBound
		if f.hurried {
			bound = 0
		}
		if lerr := f.log.CloseWithin(bound); lerr != nil && err == nil {
			err = &localIOError{what: "writing the log", err: lerr}
		}
	}
	if !f.hurried {
		f.msgs.flush(messageFlushBound)
	}
	return err
}

// flushInput hands the console what stdin gave before the end (closing the
// stream then drains it, bounded), so that ~. or a signal ends the console
// promptly without dropping input already written to us: ssh writes its
// last packet to its ProxyCommand, closes its stdin and sends it SIGHUP at
// once, and the sshd at the other end must still get that packet. In pipe
// mode it also reads on while stdin keeps giving (until end of input, a
// pause of stdinQuietBound, or a full queue). A BMC that accepts nothing
// costs inputFlushBound at most; a second signal skips it.
func (f *frontend) flushInput() {
	pipe := !f.ttyIn && !f.esc.Enabled() && f.o.script == nil // a script's stdin is not read
	total := time.NewTimer(inputFlushBound)
	defer total.Stop()
	quiet := time.NewTimer(stdinQuietBound)
	defer quiet.Stop()
	for !f.hurried {
		var input chan inputChunk
		if pipe && !f.stdinEOF && len(f.pending) == 0 {
			input = f.input
		}
		if input == nil && len(f.pending) == 0 {
			break
		}
		select {
		case in := <-input:
			if len(in.b) > 0 {
				f.queue(pendingItem{b: in.b})
			}
			if in.err != nil {
				f.stdinEOF = true
			}
			quiet.Reset(stdinQuietBound)
		case <-quiet.C:
			pipe = false
		case <-f.room:
			f.room = nil
			f.pump()
		case <-total.C:
			return
		case <-f.sigs:
			f.hurry()
		}
	}
	if f.hurried {
		return
	}
	// The console's queue into the stream, within what is left of the bound.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		_ = f.con.Flush(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-total.C:
	case <-f.sigs:
		f.hurry()
	}
}

// closeConsole closes the console (Deactivate Payload, Close Session, each
// bounded by the request timeout); a second signal cuts it short.
func (f *frontend) closeConsole() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if f.hurried {
		cancel()
	}
	done := make(chan struct{})
	go func() {
		_ = f.con.Close(ctx)
		close(done)
	}()
	for {
		select {
		case <-done:
			return
		case <-f.sigs:
			f.hurry()
			cancel()
		}
	}
}

// hurry reports a second signal during the way out: the remaining waits are
// skipped (the terminal is still restored).
func (f *frontend) hurry() {
	if !f.hurried {
		f.hurried = true
		f.debugf("second signal: not waiting any longer")
	}
}

// wait waits for ch within d; a signal cuts it short.
func (f *frontend) wait(ch <-chan error, d time.Duration) {
	if f.hurried {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-f.sigs:
		f.hurry()
	}
}

// waitOutput waits until stdout has taken what the console received. After
// the end of input (strict) it waits while stdout takes anything at all, and
// a stdout that takes nothing for outputDrainBound is an error: output was
// left behind. Otherwise it waits quitOutputBound at most.
func (f *frontend) waitOutput(strict bool) error {
	if f.outEnded {
		return nil
	}
	bound := quitOutputBound
	if strict {
		bound = outputDrainBound
	}
	last := f.copied.Load()
	t := time.NewTimer(bound)
	defer t.Stop()
	for !f.hurried {
		select {
		case err := <-f.outDone:
			f.outEnded = true
			if isLocalIO(err) {
				return err
			}
			return nil
		case <-f.sigs:
			f.hurry()
		case <-t.C:
			if !strict {
				return nil
			}
			if n := f.copied.Load(); n != last {
				last = n
				t.Reset(bound)
				continue
			}
			return &localIOError{what: "writing console output", err: fmt.Errorf("standard output took nothing for %v", bound)}
		}
	}
	return nil
}

func stopSignals(chs ...chan os.Signal) {
	for _, ch := range chs {
		signal.Stop(ch)
	}
}
