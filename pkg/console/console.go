package console

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Errors a caller branches on.
var (
	// ErrNotConnected: the console has no session right now (it is
	// connecting or waiting to reconnect).
	ErrNotConnected = errors.New("console: not connected")
	// ErrClosed: the console has ended.
	ErrClosed = errors.New("console: closed")
	// ErrNotStarted: the call needs a started console.
	ErrNotStarted = errors.New("console: not started")
	// ErrConnecting: Reconnect while an attempt is already under way.
	ErrConnecting = errors.New("console: already connecting")
)

// errCloseCalled is the cause of the console's context after Close: the
// console then ends with Err() == nil.
var errCloseCalled = errors.New("console: Close called")

// State is what a console is doing.
type State int

// States.
const (
	StateIdle       State = iota // not started
	StateConnecting              // an attempt is under way
	StateWaiting                 // backing off before the next attempt
	StateAttached                // SOL is active
	StateClosed                  // ended
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateWaiting:
		return "waiting to reconnect"
	case StateAttached:
		return "attached"
	case StateClosed:
		return "closed"
	}
	return "state ?"
}

// Console keeps one BMC's SOL console alive and hands its output to any
// number of Readers, its input from one Writer at a time, its events to
// subscribers, and its session to commands.
//
// One goroutine, the owner, holds the console's state and is the only one
// to change it. Everything else reaches it as a message: the methods of
// Console and Writer (run on the owner and answered at once: it never
// waits for I/O), the result of a connection attempt, what the sender wrote
// into the stream, the stream's events and end, closed streams, and timers.
// The blocking I/O happens on goroutines of their own: the connection
// attempt (Dial, session setup, Activate Payload), the sender (Stream.Write
// blocks while the BMC accepts nothing), the copier (Stream.Read, and the
// lossless readers' pace), closing streams (drain, Deactivate, Close
// Session). No lock is held across I/O.
type Console struct {
	cfg     Config
	hub     *hub
	copyQ   streamQueue
	started atomic.Bool
	once    sync.Once

	ctx       context.Context
	cancel    context.CancelCauseFunc
	reqs      chan func()
	hurry     chan struct{} // closed when Close's context ends: skip the bounded waits
	hurryOnce sync.Once
	done      chan struct{}

	// Set by the owner before done is closed.
	err   error
	final Stats

	// Messages to the owner.
	connected chan connResult
	sendq     chan sendItem
	sent      chan sendResult
	closedC   chan error
	retryC    chan retryResult

	// The owner's state.
	phase      State
	since      time.Time
	ending     bool
	endErr     error
	att        *attachment
	everUp     bool
	bo         backoffState
	reconnect  bool
	lastErr    error
	retryAt    time.Time
	polite     bool // taken over: reconnect without taking the console back
	connCancel context.CancelFunc
	closers    int
	retry      RetryInfo
	limiter    *limiter
	attempts   uint64
	connects   uint64
	losses     uint64
	inDone     uint64 // output bytes of streams that ended
	outDone    uint64 // input bytes accepted by streams that ended
	in         input
}

// attachment is a stream while it is the console's.
type attachment struct {
	st      *sol.Stream
	since   time.Time
	written uint64 // bytes the stream took from Write
	ctx     context.Context
	cancel  context.CancelFunc // ends commands running on the stream's session
}

type connResult struct {
	st  *sol.Stream
	err error
}

type retryResult struct {
	r   sol.Retry
	err error
}

// New returns a console for cfg; Start starts it. Readers and subscriptions
// made before Start see everything from the first attempt on.
func New(cfg Config) (*Console, error) {
	if cfg.Addr == "" && cfg.Dial == nil {
		return nil, errors.New("console: no BMC address")
	}
	if cfg.Network == "" {
		cfg.Network = "udp"
	}
	if cfg.InputQueue <= 0 {
		cfg.InputQueue = DefaultInputQueue
	}
	if cfg.NoteWindow == 0 {
		cfg.NoteWindow = DefaultNoteWindow
	}
	c := &Console{cfg: cfg, hub: newHub(max(cfg.History, 0)), reqs: make(chan func()), hurry: make(chan struct{}),
		done: make(chan struct{}), connected: make(chan connResult, 1), sendq: make(chan sendItem, 1),
		sent: make(chan sendResult, 1), closedC: make(chan error), retryC: make(chan retryResult, 1),
		reconnect: cfg.Reconnect, limiter: newLimiter(cfg.NoteWindow),
		bo: backoffState{sched: cfg.Backoff, rand: cfg.Rand}, retry: RetryInfo{Retry: AssumedRetry}}
	c.copyQ.wake = make(chan struct{}, 1)
	c.in.changed = make(chan struct{})
	return c, nil
}

// Start starts the console: the first connection attempt, and the
// reconnection policy after it. The console runs until Close, or until ctx
// ends (then Err returns context.Cause(ctx)), or, without Reconnect, until
// the first loss or failed attempt.
func (c *Console) Start(ctx context.Context) error {
	err := errors.New("console: already started")
	c.once.Do(func() {
		err = nil
		c.ctx, c.cancel = context.WithCancelCause(ctx)
		c.started.Store(true)
		go c.sender()
		go c.copier()
		go c.run()
	})
	return err
}

// testHookCloseUnstarted, when set by a test, runs in Close right after it
// found the console not started.
var testHookCloseUnstarted func(*Console)

// Close ends the console: an attempt under way is cancelled (a session it
// still brings up is closed too), the stream is closed (its input drained
// for a bounded time, Deactivate Payload, Close Session), each wait bounded
// by the session's request timeout, all within about 4 × the timeout +
// 3 s. When ctx ends first, Close stops waiting for the BMC and for the
// readers and returns ctx.Err() once the owner is out (at once).
//
// After Close, Readers still get the output that arrived before, then
// io.EOF; a lossless Reader that nobody reads holds that last output (and
// a goroutine) until it is closed.
func (c *Console) Close(ctx context.Context) error {
	if !c.started.Load() {
		if testHookCloseUnstarted != nil {
			testHookCloseUnstarted(c)
		}
		c.once.Do(func() {
			c.hub.closeEvents()
			c.hub.end(&Event{Kind: Ended, Time: time.Now()})
			c.phase = StateClosed
			c.final = Stats{State: StateClosed}
			close(c.done)
		})
		// A Start that ran at the same moment may have won the Once: then
		// the console runs and is ended as any started console is (waiting
		// on done alone would wait for ever).
		if !c.started.Load() {
			<-c.done
			return nil
		}
	}
	c.cancel(errCloseCalled)
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
	}
	c.hurryOnce.Do(func() { close(c.hurry) })
	<-c.done
	c.hub.abort()
	return ctx.Err()
}

// Done is closed when the console has ended, by Close or by itself (see
// Err).
func (c *Console) Done() <-chan struct{} { return c.done }

// Err returns why the console ended: nil while it runs and after Close, else
// the error that ended it (a loss or failed attempt without Reconnect, a
// Permanent error, or the cause of Start's context).
func (c *Console) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Events subscribes to the console's events; n is the channel's buffer (0
// means 256). See Subscription.
func (c *Console) Events(n int) *Subscription { return c.hub.subscribe(n) }

// NewReader adds a reader of the console's output. See Reader.
func (c *Console) NewReader(cfg ReaderConfig) *Reader { return c.hub.newReader(cfg) }

// call runs fn on the owner and returns once it has run. The owner answers
// calls at once, also while it is ending, so this never waits for I/O.
func (c *Console) call(fn func()) error {
	if !c.started.Load() {
		return ErrNotStarted
	}
	ran := make(chan struct{})
	select {
	case c.reqs <- func() { fn(); close(ran) }:
		<-ran
		return nil
	case <-c.done:
		return ErrClosed
	}
}

// run is the owner: it starts the first attempt and handles messages until
// the console ends.
func (c *Console) run() {
	c.startConnect(!c.cfg.NoSteal)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for !c.ending {
		var timerC <-chan time.Time
		if d := c.deadline(); !d.IsZero() {
			timer.Reset(time.Until(d))
			timerC = timer.C
		}
		var events <-chan sol.Event
		var streamDone <-chan struct{}
		if c.att != nil {
			events, streamDone = c.att.st.Events(), c.att.st.Done()
		}
		select {
		case fn := <-c.reqs:
			fn()
		case <-c.ctx.Done():
			c.end(c.cause())
		case r := <-c.connected:
			c.onConnected(r)
		case ev := <-events:
			c.onStreamEvent(ev)
		case <-streamDone:
			c.streamEnded(c.att, c.att.st.Err())
		case r := <-c.sent:
			c.onSent(r)
		case err := <-c.closedC:
			c.onClosed(err)
		case r := <-c.retryC:
			c.onRetry(r)
		case <-c.hub.lagged:
			for _, ev := range c.hub.takeLags() {
				c.emit(ev)
			}
		case now := <-timerC:
			c.onTimer(now)
		}
	}
	c.shutdown()
}

// cause is why the console's context ended: nil after Close.
func (c *Console) cause() error {
	err := context.Cause(c.ctx)
	if errors.Is(err, errCloseCalled) {
		return nil
	}
	return err
}

// end ends the console; the first reason wins.
func (c *Console) end(err error) {
	if !c.ending {
		c.ending, c.endErr = true, err
	}
}

func (c *Console) setPhase(p State) {
	c.phase, c.since = p, time.Now()
}

// emit publishes an event, through the rate limit.
func (c *Console) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if !c.limiter.allow(ev, ev.Time) {
		return
	}
	c.hub.event(ev)
}

// deadline is the next time the owner has something to do unprompted.
func (c *Console) deadline() time.Time {
	t := c.limiter.deadline()
	if c.phase == StateWaiting && (t.IsZero() || c.retryAt.Before(t)) {
		t = c.retryAt
	}
	return t
}

func (c *Console) onTimer(now time.Time) {
	for _, s := range c.limiter.due(now) {
		c.hub.event(s)
	}
	if c.phase == StateWaiting && !now.Before(c.retryAt) {
		c.startConnect(!c.cfg.NoSteal && !c.polite)
	}
}

// shutdown ends the console within bounds: the attempt under way, the
// stream, the last events. It serves calls meanwhile (they see the console
// ending), so that no caller waits for the BMC.
func (c *Console) shutdown() {
	c.cancel(errCloseCalled) // attempts and commands end
	if c.connCancel != nil {
		c.connCancel()
		c.waitFor(connectCancelBound, func() bool { return c.connCancel == nil })
	}
	if att := c.att; att != nil {
		c.detach(att)
		c.closeStream(att)
	}
	t := c.cfg.Session.Timeout
	if t <= 0 {
		t = time.Second
	}
	c.waitFor(4*t+time.Second, func() bool { return c.closers == 0 })
	now := time.Now()
	for _, s := range c.limiter.flush(now) {
		c.hub.event(s)
	}
	c.endDiscard()
	if e := c.in.ended; e != nil {
		c.notDelivered(e.written, e.bytesOut)
		c.in.ended = nil
	}
	c.setPhase(StateClosed)
	c.err = c.endErr
	c.final = c.stats()
	final := Event{Kind: Ended, Time: time.Now(), Err: c.endErr}
	c.hub.event(final)
	c.hub.closeEvents()
	c.copyQ.close(&final)
	select {
	case <-c.hurry:
		c.hub.abort()
	default:
	}
	close(c.sendq)
	close(c.done)
}

// waitFor handles messages until ok holds, d has passed or Close is cut
// short.
func (c *Console) waitFor(d time.Duration, ok func() bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for !ok() {
		select {
		case fn := <-c.reqs:
			fn()
		case r := <-c.connected:
			c.connCancel = nil
			if r.st != nil {
				// The attempt got through anyway: close that session too.
				c.closeStream(&attachment{st: r.st, cancel: func() {}})
			}
		case r := <-c.sent:
			c.onSent(r)
		case err := <-c.closedC:
			c.onClosed(err)
		case <-t.C:
			return
		case <-c.hurry:
			return
		}
	}
}
