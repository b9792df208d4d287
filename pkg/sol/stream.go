package sol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Errors a caller branches on.
var (
	// ErrTakenOver: another session took the console, or it was deactivated
	// (then the error is also ErrDeactivated).
	ErrTakenOver = errors.New("console taken over by another session")
	// ErrDeactivated: the console was deactivated with no new owner in sight
	// (Deactivate Payload from another session or tool, or the BMC's
	// "SOL deactivating" bit). errors.Is(err, ErrTakenOver) holds too.
	ErrDeactivated error = &wrapped{"console deactivated by the BMC or another session", ErrTakenOver}
	// ErrUndelivered: Close gave up on input the BMC had not accepted.
	ErrUndelivered = errors.New("console input not delivered")
	// ErrInUse: the console is active on another session and stealing it was
	// not allowed.
	ErrInUse = errors.New("console in use by another session")
	// ErrDisabled: SOL is disabled on the BMC.
	ErrDisabled = errors.New("serial over LAN is disabled on the BMC")
	// ErrClosed: the stream was closed.
	ErrClosed = errors.New("console closed")
)

// wrapped is a sentinel error that is also another one.
type wrapped struct {
	msg    string
	parent error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.parent }

// EventKind says what happened.
type EventKind int

// Event kinds.
const (
	HostOff       EventKind = iota + 1 // character transfer unavailable: host off or its serial port busy
	HostOn                             // characters flow again
	BreakDetected                      // the host sent a BREAK
	Overrun                            // the BMC dropped host output
	TakenOver                          // terminal: see Err
	SessionLost                        // terminal: see Err
	// InputStalled: input has waited Config.StallAfter with the BMC
	// accepting none of it (it ACKs 0 characters, NACKs, or does not
	// answer; Detail says which and how much waits). Reported once per
	// stall; InputResumed follows when the BMC accepts input again. A stall
	// does not end the stream by itself: input that no ACK answers ends it
	// after LostAfter (SessionLost), a BMC that answers but takes nothing
	// stays stalled until it takes input or the stream is closed.
	InputStalled
	InputResumed // the BMC accepts input again after InputStalled
)

func (k EventKind) String() string {
	switch k {
	case HostOff:
		return "host off or serial port unavailable"
	case HostOn:
		return "host serial port available"
	case BreakDetected:
		return "break detected"
	case Overrun:
		return "BMC dropped host output (overrun)"
	case TakenOver:
		return "console taken over"
	case SessionLost:
		return "session lost"
	case InputStalled:
		return "console input not accepted by the BMC"
	case InputResumed:
		return "console input accepted again"
	}
	return fmt.Sprintf("event-%d", int(k))
}

// Event is a status change of the console.
//
// BreakDetected and Overrun come when the BMC newly sets the bit, at most
// once per second each (StatusHoldoff); HostOff and HostOn only when the
// state changes; InputStalled and InputResumed on the edges of a stall.
type Event struct {
	Kind   EventKind
	Err    error  // for TakenOver and SessionLost
	Detail string // for InputStalled: how the BMC refuses, how much waits
}

// Config configures a console stream.
type Config struct {
	// Instance of the SOL payload, 1–15; 0 means 1.
	Instance byte
	// NoSteal refuses to take the console from another session (ErrInUse).
	NoSteal bool
	// Keepalive is the longest interval between keepalives (Get Payload
	// Instance Info, which also tells whether this session still owns the
	// console); each wait is drawn from 75–100% of it. 0 means 15 s;
	// negative disables.
	Keepalive time.Duration
	// LostAfter ends the stream when console data stays unacknowledged this
	// long, whether or not keepalives are answered; 0 means 20 s. Data
	// unacknowledged for a second also triggers a keepalive at once, and a
	// failed keepalive is followed by another at once: two failures in a
	// row end the stream (see docs/sol-behaviour.md for the bounds).
	LostAfter time.Duration
	// StallAfter is how long input may wait with the BMC accepting none of
	// it before InputStalled is reported; 0 means 2 s.
	StallAfter time.Duration
	// MinRTO bounds the retransmission timeout from below; 0 means 20 ms.
	MinRTO time.Duration
	// ReadBuffer bounds received output waiting for Read; 0 means 1 MiB.
	ReadBuffer int
	// WriteBuffer bounds input waiting to be sent; 0 means 64 KiB. Write
	// blocks while it is full (until room, the end of the stream or Close;
	// WriteContext also until its context ends).
	WriteBuffer int
	// NoOpening skips the opening packet (Window.RequestOpening) a stream
	// sends before its first keystroke, for a BMC that mishandles a
	// numbered packet without characters.
	NoOpening bool
	// Rand draws keepalive jitter; nil means a random source.
	Rand *rand.Rand
}

// Stats are the stream's counters.
type Stats struct {
	PacketsSent, PacketsReceived uint64
	Retransmissions              uint64 // of console data
	Duplicates                   uint64 // BMC retransmissions received
	Stale                        uint64
	Nacks                        uint64
	Refused                      uint64 // answers that accepted nothing (0 accepted, or NACK)
	BytesIn, BytesOut            uint64 // delivered to Read, accepted by the BMC
	Pending                      int    // written, not yet accepted by the BMC
	RTT                          time.Duration
	MaxChars                     int
	Keepalives, KeepaliveFails   uint64
	Probes                       uint64 // keepalives sent early: data unacknowledged, or after a failure
}

// Stream is an active SOL console. Read returns host output, Write sends
// input; both may be called concurrently with each other and with SendBreak.
type Stream struct {
	sess *ipmi.Session
	cfg  Config
	inst byte

	mu      sync.Mutex // guards w, in, err, pbuf, and the counters
	cond    *sync.Cond // Read waiting for data; Write waiting for room
	w       *Window
	in      []byte // output waiting for Read
	inCap   int
	err     error // first terminal error
	pbuf    []byte
	bytesIn uint64
	queued  uint64 // bytes ever queued by Write
	kaOK    uint64
	kaFail  uint64
	probes  uint64
	hostOff bool
	stalled bool      // InputStalled reported, InputResumed not yet
	probed  time.Time // InFlightSince of the data a probe was asked for

	ctx    context.Context // ends with the stream, for keepalive requests
	cancel context.CancelFunc
	events chan Event
	kick   chan struct{} // the loop should recompute its timer
	probe  chan struct{} // the keepalive should go now
	done   chan struct{} // closed when the stream ends
	loopWG sync.WaitGroup
	closed sync.Once
}

func newStream(sess *ipmi.Session, cfg Config, inst byte, maxChars int) *Stream {
	if cfg.LostAfter <= 0 {
		cfg.LostAfter = 20 * time.Second
	}
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = 2 * time.Second
	}
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = 1 << 20
	}
	if cfg.WriteBuffer <= 0 {
		cfg.WriteBuffer = 64 << 10
	}
	if cfg.Keepalive == 0 {
		cfg.Keepalive = 15 * time.Second
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	st := &Stream{sess: sess, cfg: cfg, inst: inst, w: NewWindow(maxChars, cfg.WriteBuffer), inCap: cfg.ReadBuffer,
		events: make(chan Event, 64), kick: make(chan struct{}, 1), probe: make(chan struct{}, 1), done: make(chan struct{}),
		pbuf: make([]byte, 0, 512)}
	if cfg.MinRTO > 0 {
		st.w.MinRTO = cfg.MinRTO
	}
	st.cond = sync.NewCond(&st.mu)
	st.ctx, st.cancel = context.WithCancel(context.Background())
	return st
}

func (st *Stream) start() {
	st.sess.SetSOLHandler(st.receive)
	if !st.cfg.NoOpening {
		st.mu.Lock()
		st.w.RequestOpening()
		st.flush()
		st.mu.Unlock()
	}
	st.loopWG.Add(1)
	go st.loop()
	if st.cfg.Keepalive > 0 {
		st.loopWG.Add(1)
		go st.keepalive()
	}
}

// Session is the RMCP+ session the console runs on; power and boot commands
// can go through it while the console is open.
func (st *Stream) Session() *ipmi.Session { return st.sess }

// Events delivers status changes. It is never closed; terminal events are
// also returned as errors by Read and Write.
func (st *Stream) Events() <-chan Event { return st.events }

// Done is closed when the stream has ended (error or Close).
func (st *Stream) Done() <-chan struct{} { return st.done }

// Err returns the terminal error, or nil while the console works.
func (st *Stream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

// HostOff reports whether the BMC last said the host's serial port is
// unavailable (usually: powered off).
func (st *Stream) HostOff() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hostOff
}

// Stats returns the counters.
func (st *Stream) Stats() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return Stats{
		PacketsSent: st.w.Sent, PacketsReceived: st.w.Received, Retransmissions: st.w.Retransmits,
		Duplicates: st.w.Duplicates, Stale: st.w.Stale, Nacks: st.w.Nacks, Refused: st.w.Refused, BytesIn: st.bytesIn,
		BytesOut: st.queued - uint64(st.w.Queued()), Pending: st.w.Queued(), RTT: st.w.RTT(), MaxChars: st.w.MaxChars,
		Keepalives: st.kaOK, KeepaliveFails: st.kaFail, Probes: st.probes,
	}
}

func (st *Stream) emit(e Event) {
	select {
	case st.events <- e:
	default: // nobody listening; terminal errors are also in err
	}
}

// fail ends the stream with err; st.mu held.
func (st *Stream) fail(err error, kind EventKind) {
	if st.err != nil {
		return
	}
	st.err = err
	if kind != 0 {
		// Before Done: a reader of Events that stops at Done sees it.
		st.emit(Event{Kind: kind, Err: err})
	}
	close(st.done)
	st.cancel()
	st.cond.Broadcast()
}

// lost ends the stream with ErrSessionLost; st.mu held. The error says how
// much typed input was never delivered.
func (st *Stream) lost(err error) {
	if n := st.w.Queued(); n > 0 {
		err = fmt.Errorf("%w (%s of input not delivered)", err, nbytes(n))
	}
	st.fail(err, SessionLost)
}

func nbytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkStall reports the edges of a stall (InputStalled, InputResumed) and
// returns when the current wait becomes one (zero if none pending); st.mu
// held.
func (st *Stream) checkStall(now time.Time) time.Time {
	since := st.w.InputWaitingSince()
	stalled := !since.IsZero() && now.Sub(since) >= st.cfg.StallAfter
	switch {
	case stalled && !st.stalled:
		st.stalled = true
		st.cond.Broadcast() // Close's drain gives up on stalled input
		st.emit(Event{Kind: InputStalled, Detail: fmt.Sprintf("%v for %v; %s waiting",
			st.w.Refusal(), now.Sub(since).Round(100*time.Millisecond), nbytes(st.w.Queued()))})
	case !stalled && st.stalled:
		st.stalled = false
		st.emit(Event{Kind: InputResumed})
	}
	if since.IsZero() || stalled {
		return time.Time{}
	}
	return since.Add(st.cfg.StallAfter)
}

// receive runs on the session's reader goroutine for every SOL payload.
func (st *Stream) receive(b []byte) {
	p, err := ParsePacket(b)
	if err != nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return
	}
	room := st.inCap - len(st.in)
	d, ev := st.w.Receive(p, room, time.Now())
	if p.AckSeq != 0 {
		st.cond.Broadcast() // writers and Drain wait for accepted input
		if st.stalled {
			st.checkStall(time.Now())
		}
	}
	if len(d) > 0 {
		st.in = append(st.in, d...)
		st.bytesIn += uint64(len(d))
		st.cond.Broadcast()
	}
	st.events1(ev)
	st.flush()
}

// events1 turns window events into stream events; st.mu held.
func (st *Stream) events1(ev Events) {
	if ev == 0 {
		return
	}
	if ev&EvHostOff != 0 {
		st.hostOff = true
		st.emit(Event{Kind: HostOff})
	}
	if ev&EvHostOn != 0 {
		st.hostOff = false
		st.emit(Event{Kind: HostOn})
	}
	if ev&EvBreak != 0 {
		st.emit(Event{Kind: BreakDetected})
	}
	if ev&EvOverrun != 0 {
		st.emit(Event{Kind: Overrun})
	}
	if ev&EvDeactivating != 0 {
		st.fail(fmt.Errorf("sol: %w (the BMC signalled that SOL is deactivating for this session)", ErrDeactivated), TakenOver)
	}
	if ev&(EvNacked) != 0 {
		st.cond.Broadcast() // room may have changed
	}
}

// flush sends everything the window wants sent now; st.mu held.
func (st *Stream) flush() {
	now := time.Now()
	sent := false
	for {
		p, ok := st.w.Poll(now)
		if !ok {
			break
		}
		st.pbuf = p.Append(st.pbuf[:0])
		if err := st.sess.SendSOL(st.pbuf); err != nil {
			st.lost(fmt.Errorf("sol: %w: %w", ipmi.ErrSessionLost, err))
			return
		}
		sent = true
		if p.Seq != 0 && len(p.Data) > 0 {
			st.cond.Broadcast()
		}
	}
	if sent {
		select {
		case st.kick <- struct{}{}:
		default:
		}
	}
}

// probeAfter is how long console data waits for an ACK before a keepalive
// goes at once to ask whether the BMC is still there.
const probeAfter = time.Second

// loop runs the timers: retransmission, deferred ACKs, the bound on
// unacknowledged data, the early keepalive and stall reports.
func (st *Stream) loop() {
	defer st.loopWG.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		st.mu.Lock()
		if st.err != nil {
			st.mu.Unlock()
			return
		}
		now := time.Now()
		next := st.w.Deadline()
		earliest := func(c time.Time) {
			if !c.IsZero() && (next.IsZero() || c.Before(next)) {
				next = c
			}
		}
		if since := st.w.InFlightSince(); !since.IsZero() {
			if now.Sub(since) > st.cfg.LostAfter {
				st.lost(fmt.Errorf("sol: %w: console data unacknowledged for %v", ipmi.ErrSessionLost, now.Sub(since).Round(time.Second)))
				st.mu.Unlock()
				return
			}
			earliest(since.Add(st.cfg.LostAfter + time.Millisecond))
			if !since.Equal(st.probed) {
				if at := since.Add(probeAfter); now.Before(at) {
					earliest(at)
				} else {
					st.probed = since
					select {
					case st.probe <- struct{}{}:
					default:
					}
				}
			}
		}
		earliest(st.checkStall(now))
		st.flush()
		earliest(st.w.Deadline())
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(now), 0)
		}
		st.mu.Unlock()
		t.Reset(wait)
		select {
		case <-t.C:
		case <-st.kick:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		case <-st.done:
			return
		case <-st.sess.Done():
			st.mu.Lock()
			st.fail(fmt.Errorf("sol: %w", st.sess.Err()), SessionLost)
			st.mu.Unlock()
			return
		}
	}
}

// keepaliveGrain is the grid the keepalives of all streams in a process
// go out on (at most; a sixteenth of the interval when that is less).
const keepaliveGrain = 250 * time.Millisecond

// keepaliveWait is the time to the next keepalive: a jittered ¾–1 of the
// interval k (f in [0, 1) picks where), ending on a multiple of the grain
// of the wall clock. Without the grid 1,000 consoles with 15 s keepalives
// wake the process ~70 times a second, one keepalive each, and the
// scheduler's cost of each wakeup (threads woken, the runtime's monitor
// restarting its polling after the send) is most of the cost of an idle
// console; on the grid they wake it at most 4 times a second, ~17
// keepalives each. Each stream's interval stays within ¾–1 of k.
func keepaliveWait(k time.Duration, f float64, now time.Time) time.Duration {
	g := min(keepaliveGrain, k/16)
	lo := k * 3 / 4
	d := lo + g + time.Duration(f*float64(k-lo-g))
	if g <= 0 {
		return d
	}
	return d - time.Duration(now.Add(d).UnixNano()%int64(g))
}

// keepalive sends Get Payload Instance Info at jittered intervals: an IPMI
// request (ipmi_sim expires sessions that send none for 30 s, whatever SOL
// traffic flows) that also says whether this session still owns the console.
// It goes at once when the loop asks (console data unacknowledged for
// probeAfter), and again at once after a failure; two failures in a row end
// the stream.
func (st *Stream) keepalive() {
	defer st.loopWG.Done()
	fails := 0
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		if fails == 0 {
			st.mu.Lock()
			f := st.cfg.Rand.Float64()
			st.mu.Unlock()
			t.Reset(keepaliveWait(st.cfg.Keepalive, f, time.Now()))
			select {
			case <-st.done:
				return
			case <-st.probe:
				t.Stop() // Go ≥ 1.23: no stale value after Stop or Reset
				st.mu.Lock()
				st.probes++
				st.mu.Unlock()
			case <-t.C:
			}
		} else {
			select {
			case <-st.done:
				return
			default:
			}
			st.mu.Lock()
			st.probes++
			st.mu.Unlock()
		}
		info, err := st.sess.PayloadInstanceInfo(st.ctx, ipmi.PayloadSOL, st.inst)
		var ce *ipmi.CompletionError
		st.mu.Lock()
		switch {
		case err == nil:
			fails = 0
			st.kaOK++
			switch info.SessionID {
			case st.sess.BMCSessionID():
			case 0:
				st.fail(fmt.Errorf("sol: %w (the BMC reports no owner)", ErrDeactivated), TakenOver)
			default:
				st.fail(fmt.Errorf("sol: %w (the BMC reports session 0x%08x as its owner)", ErrTakenOver, info.SessionID), TakenOver)
			}
		case errors.As(err, &ce):
			// The BMC answered, so the session lives; it just does not
			// know the command.
			fails = 0
			st.kaOK++
		case st.err != nil:
		default:
			fails++
			st.kaFail++
			if fails >= 2 || st.sess.Err() != nil {
				st.lost(fmt.Errorf("sol: %w: keepalive: %w", ipmi.ErrSessionLost, err))
			}
		}
		st.mu.Unlock()
		if fails == 0 {
			// This answer is news enough for a probe asked meanwhile.
			select {
			case <-st.probe:
			default:
			}
		}
	}
}

// Read returns host output. After the stream ends it returns what was
// received before, then the terminal error (io.EOF after Close).
func (st *Stream) Read(b []byte) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.in) == 0 {
		if st.err != nil {
			if errors.Is(st.err, ErrClosed) {
				return 0, io.EOF
			}
			return 0, st.err
		}
		st.cond.Wait()
	}
	n := copy(b, st.in)
	st.in = st.in[:copy(st.in, st.in[n:])]
	if d := st.w.Room(st.inCap-len(st.in), time.Now()); len(d) > 0 {
		st.in = append(st.in, d...)
		st.bytesIn += uint64(len(d))
		st.flush()
	}
	return n, nil
}

// Write queues input and sends it at once when nothing is in flight; input
// that arrives while a packet is in flight goes out together in the next.
// It blocks while the write buffer is full, until there is room, the stream
// ends or Close is called (then it returns how much it queued and the
// stream's error, ErrClosed after Close). See WriteContext for a bound.
func (st *Stream) Write(b []byte) (int, error) {
	return st.write(context.Background(), b)
}

// WriteContext is Write that also returns, with ctx.Err() and the number of
// bytes queued, when ctx ends while the write buffer is full.
func (st *Stream) WriteContext(ctx context.Context, b []byte) (int, error) {
	stop := context.AfterFunc(ctx, func() {
		st.mu.Lock()
		st.cond.Broadcast()
		st.mu.Unlock()
	})
	defer stop()
	return st.write(ctx, b)
}

func (st *Stream) write(ctx context.Context, b []byte) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for len(b) > 0 {
		if st.err != nil {
			return n, st.err
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k := st.w.Queue(b)
		if k == 0 {
			st.cond.Wait()
			continue
		}
		st.queued += uint64(k)
		n += k
		b = b[k:]
		st.flush()
	}
	return n, nil
}

// Drain waits until the BMC has accepted everything written, the stream ends
// or ctx is done.
func (st *Stream) Drain(ctx context.Context) error {
	return st.drain(ctx, false)
}

// errStalled: drain gave up because the input is stalled.
var errStalled = errors.New("sol: input stalled")

func (st *Stream) drain(ctx context.Context, unlessStalled bool) error {
	stop := context.AfterFunc(ctx, func() {
		st.mu.Lock()
		st.cond.Broadcast()
		st.mu.Unlock()
	})
	defer stop()
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.w.Queued() > 0 {
		if st.err != nil {
			return st.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if unlessStalled && st.stalled {
			return errStalled
		}
		st.cond.Wait()
	}
	return nil
}

// SendBreak sends a serial BREAK to the host (retransmitted until ACKed).
func (st *Stream) SendBreak() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return st.err
	}
	st.w.RequestBreak()
	st.flush()
	return nil
}
