package console

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Connecting, losing and reconnecting. The policy:
//
//   - Every loss and every failed attempt waits the next step of the
//     backoff; the backoff starts over only after a session stayed up for
//     Backoff.HealthyAfter.
//   - A session lost otherwise than by a takeover (no answer, keepalives
//     failed, the BMC rebooted) is reconnected taking the console over
//     (unless NoSteal): the console is most likely held by our own dead
//     session.
//   - Taken over: the console does not take it back. Later attempts activate
//     without stealing, with the growing backoff, until the other session
//     has left. Taking it straight back made two reconnecting clients take it
//     from each other 94 times in 15 s; taking it back after a backoff would
//     still have them fight forever, only slower. Reconnect takes it back at
//     once.
//   - Permanent errors (authentication, incompatibility) end the console:
//     another attempt would fail the same way.

func (c *Console) startConnect(steal bool) {
	ctx, cancel := context.WithCancel(c.ctx)
	c.connCancel = cancel
	c.setPhase(StateConnecting)
	c.attempts++
	c.emit(Event{Kind: Connecting, Steal: steal})
	go func() {
		st, err := c.connect(ctx, steal)
		select {
		case c.connected <- connResult{st: st, err: err}:
		case <-c.done:
			if st != nil {
				_ = st.Close()
			}
		}
	}()
}

// connect opens a session and activates SOL.
func (c *Console) connect(ctx context.Context, steal bool) (*sol.Stream, error) {
	var t ipmi.Transport
	var err error
	if c.cfg.Dial != nil {
		t, err = c.cfg.Dial(ctx)
	} else {
		t, err = ipmi.DialUDP(c.cfg.Network, c.cfg.Addr)
	}
	if err != nil {
		return nil, err
	}
	s, err := ipmi.NewSession(ctx, t, c.cfg.Session)
	if err != nil {
		return nil, err
	}
	scfg := c.cfg.SOL
	scfg.NoSteal = !steal
	st, err := sol.Activate(ctx, s, scfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	if ctx.Err() != nil {
		// Cancelled while it came up: nobody will use it.
		_ = st.Close()
		return nil, ctx.Err()
	}
	return st, nil
}

func (c *Console) onConnected(r connResult) {
	c.connCancel()
	c.connCancel = nil
	now := time.Now()
	if r.err != nil {
		err := r.err
		if !c.reconnect || Permanent(err) {
			c.end(err)
			return
		}
		d := c.bo.next()
		c.lastErr, c.retryAt = err, now.Add(d)
		c.setPhase(StateWaiting)
		c.emit(Event{Kind: ConnectFailed, Err: err, Retry: d, Polite: c.polite && errors.Is(err, sol.ErrInUse)})
		return
	}
	st := r.st
	ctx, cancel := context.WithCancel(c.ctx)
	c.att = &attachment{st: st, since: now, ctx: ctx, cancel: cancel}
	c.setPhase(StateAttached)
	c.connects++
	c.lastErr = nil
	s := st.Session()
	info := &SessionInfo{Addr: s.RemoteAddr(), CipherSuite: s.CipherSuite(), Privilege: s.Privilege(),
		BMCSessionID: s.BMCSessionID(), MaxChars: st.Stats().MaxChars}
	// Before the stream goes to the copier: a reader with events sees the
	// connection before its first output.
	c.emit(Event{Kind: Connected, Session: info, Reconnect: c.everUp, Polite: c.polite})
	if !c.everUp {
		c.everUp = true
		go c.readRetry(ctx, st)
	}
	c.polite = false
	c.endDiscard()
	c.copyQ.push(st)
	c.kickSender()
	c.in.notify()
}

// readRetry asks the BMC how it retransmits console output (SOL
// configuration parameter 4), for WaitQuiet; a BMC that does not say leaves
// the assumption in place.
func (c *Console) readRetry(ctx context.Context, st *sol.Stream) {
	r, err := sol.ReadRetry(ctx, st.Session())
	select {
	case c.retryC <- retryResult{r: r, err: err}:
	case <-c.done:
	}
}

func (c *Console) onRetry(r retryResult) {
	if r.err != nil {
		c.retry = RetryInfo{Retry: AssumedRetry}
		c.emit(Event{Kind: RetryKnown, Err: r.err, Detail: c.retry.String()})
		return
	}
	c.retry = RetryInfo{Retry: r.r, Reported: true}
	c.emit(Event{Kind: RetryKnown, Detail: c.retry.String()})
}

// detach makes att no longer the console's; its counters go to the totals.
func (c *Console) detach(att *attachment) {
	s := att.st.Stats()
	c.inDone += s.BytesIn
	c.outDone += s.BytesOut
	c.att = nil
	c.in.notify()
}

// streamEnded handles the end of the current stream: lost, taken over, or
// ended by the BMC.
func (c *Console) streamEnded(att *attachment, err error) {
	if att == nil || c.att != att {
		return
	}
	if err == nil {
		err = fmt.Errorf("sol: %w", sol.ErrClosed)
	}
	now := time.Now()
	stats := att.st.Stats()
	c.detach(att)
	c.losses++
	c.closeStream(att)
	c.bo.sessionEnded(now.Sub(att.since))
	if c.in.inFlight {
		c.in.ended = &endedStream{st: att.st, written: att.written, bytesOut: stats.BytesOut}
	} else {
		c.notDelivered(att.written, stats.BytesOut)
	}
	if c.lossy() {
		// Typed input waits for no session: what was not sent is dropped,
		// and counted.
		c.dropQueue(whyNotConnected)
	}
	if !c.reconnect || Permanent(err) {
		c.end(err)
		return
	}
	d := c.bo.next()
	c.lastErr, c.retryAt = err, now.Add(d)
	c.setPhase(StateWaiting)
	if errors.Is(err, sol.ErrTakenOver) {
		c.polite = true
		c.emit(Event{Kind: TakenOver, Err: err, Retry: d})
		return
	}
	c.emit(Event{Kind: Lost, Err: err, Retry: d})
}

// closeStream deactivates and closes a stream on a goroutine of its own
// (Close waits a bounded time for the BMC); the end waits for it.
func (c *Console) closeStream(att *attachment) {
	att.cancel()
	c.closers++
	go func() {
		err := att.st.Close()
		select {
		case c.closedC <- err:
		case <-c.done:
		}
	}()
}

func (c *Console) onClosed(err error) {
	c.closers--
	if errors.Is(err, sol.ErrUndelivered) {
		c.emit(Event{Kind: InputUndelivered, Err: err})
	}
}

func (c *Console) onStreamEvent(ev sol.Event) {
	switch ev.Kind {
	case sol.InputStalled:
		c.emit(Event{Kind: InputStalled, Detail: ev.Detail})
	case sol.InputResumed:
		c.emit(Event{Kind: InputResumed})
	case sol.HostOff:
		c.emit(Event{Kind: HostOff})
	case sol.HostOn:
		c.emit(Event{Kind: HostOn})
	case sol.BreakDetected:
		c.emit(Event{Kind: HostBreak})
	case sol.Overrun:
		c.emit(Event{Kind: Overrun})
	}
	// TakenOver and SessionLost end the stream: Done handles them.
}

// Reconnect drops the current session, if any, and connects again at once,
// taking the console back if another session has it (unless NoSteal). It
// returns ErrConnecting while an attempt is under way.
func (c *Console) Reconnect() error {
	var err error
	if cerr := c.call(func() {
		switch {
		case c.ending:
			err = ErrClosed
			return
		case c.phase == StateConnecting:
			err = ErrConnecting
			return
		case c.att != nil:
			att := c.att
			c.detach(att)
			c.closeStream(att)
			c.bo.sessionEnded(time.Since(att.since))
			// Close drains what the stream took (bounded); a lossless
			// writer's queue waits for the next stream.
			if c.lossy() {
				c.dropQueue(whyReconnecting)
			}
		}
		c.emit(Event{Kind: Reconnecting})
		// Asked for: the console is taken back if someone else has it.
		c.polite = false
		c.startConnect(!c.cfg.NoSteal)
	}); cerr != nil {
		return cerr
	}
	return err
}

// SetReconnect turns reconnection on or off (Config.Reconnect). Turned off
// while the console waits to reconnect, the console ends at once with the
// error it was waiting on; while an attempt is under way, that attempt's
// failure ends it. A program turns it off at the end of its input, when
// there is nothing left to deliver.
func (c *Console) SetReconnect(on bool) error {
	return c.call(func() {
		c.reconnect = on
		if !on && c.phase == StateWaiting {
			c.end(c.lastErr)
		}
	})
}

// Do runs fn with the console's session, on the caller's goroutine, so that
// commands (power, boot device) go through the session the console already
// has. fn's context ends with ctx and when that session ends. Without a
// session Do returns ErrNotConnected.
func (c *Console) Do(ctx context.Context, fn func(ctx context.Context, s *ipmi.Session) error) error {
	var s *ipmi.Session
	var actx context.Context
	if err := c.call(func() {
		if c.att != nil && !c.ending {
			s, actx = c.att.st.Session(), c.att.ctx
		}
	}); err != nil {
		return err
	}
	if s == nil {
		return ErrNotConnected
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(actx, cancel)
	defer stop()
	err := fn(cctx, s)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("console: the session ended while the command ran: %w", err)
	}
	return err
}

// Annotate puts a note in the console's event stream (a Note event), in
// order with the output for readers that take events: a log then shows it
// where it happened.
func (c *Console) Annotate(text string) error {
	return c.call(func() { c.emit(Event{Kind: Note, Detail: text}) })
}
