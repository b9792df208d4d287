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
	// ErrTakenOver: another session took the console, or it was deactivated.
	ErrTakenOver = errors.New("console taken over by another session")
	// ErrInUse: the console is active on another session and stealing it was
	// not allowed.
	ErrInUse = errors.New("console in use by another session")
	// ErrDisabled: SOL is disabled on the BMC.
	ErrDisabled = errors.New("serial over LAN is disabled on the BMC")
	// ErrClosed: the stream was closed.
	ErrClosed = errors.New("console closed")
)

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
	}
	return fmt.Sprintf("event-%d", int(k))
}

// Event is a status change of the console.
type Event struct {
	Kind EventKind
	Err  error // for TakenOver and SessionLost
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
	// long; 0 means 20 s.
	LostAfter time.Duration
	// MinRTO bounds the retransmission timeout from below; 0 means 20 ms.
	MinRTO time.Duration
	// ReadBuffer bounds received output waiting for Read; 0 means 1 MiB.
	ReadBuffer int
	// WriteBuffer bounds input waiting to be sent; 0 means 64 KiB. Write
	// blocks while it is full.
	WriteBuffer int
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
	BytesIn, BytesOut            uint64 // delivered to Read, accepted by the BMC
	RTT                          time.Duration
	MaxChars                     int
	Keepalives, KeepaliveFails   uint64
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
	hostOff bool

	ctx    context.Context // ends with the stream, for keepalive requests
	cancel context.CancelFunc
	events chan Event
	kick   chan struct{} // the loop should recompute its timer
	done   chan struct{} // closed when the stream ends
	loopWG sync.WaitGroup
	closed sync.Once
}

func newStream(sess *ipmi.Session, cfg Config, inst byte, maxChars int) *Stream {
	if cfg.LostAfter <= 0 {
		cfg.LostAfter = 20 * time.Second
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
		events: make(chan Event, 64), kick: make(chan struct{}, 1), done: make(chan struct{}),
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
		Duplicates: st.w.Duplicates, Stale: st.w.Stale, Nacks: st.w.Nacks, BytesIn: st.bytesIn,
		BytesOut: st.queued - uint64(st.w.Queued()), RTT: st.w.RTT(), MaxChars: st.w.MaxChars,
		Keepalives: st.kaOK, KeepaliveFails: st.kaFail,
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
	close(st.done)
	st.cancel()
	st.cond.Broadcast()
	if kind != 0 {
		st.emit(Event{Kind: kind, Err: err})
	}
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
		st.fail(fmt.Errorf("sol: %w (the BMC is deactivating SOL for this session)", ErrTakenOver), TakenOver)
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
			st.fail(fmt.Errorf("sol: %w: %w", ipmi.ErrSessionLost, err), SessionLost)
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

// loop runs the timers: retransmission, deferred ACKs, and the bound on
// unacknowledged data.
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
		if since := st.w.InFlightSince(); !since.IsZero() && now.Sub(since) > st.cfg.LostAfter {
			st.fail(fmt.Errorf("sol: %w: console data unacknowledged for %v", ipmi.ErrSessionLost, now.Sub(since).Round(time.Second)), SessionLost)
			st.mu.Unlock()
			return
		}
		st.flush()
		wait := time.Hour
		if d := st.w.Deadline(); !d.IsZero() {
			wait = max(d.Sub(now), 0)
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

// keepalive sends Get Payload Instance Info at jittered intervals: an IPMI
// request (ipmi_sim expires sessions that send none for 30 s, whatever SOL
// traffic flows) that also says whether this session still owns the console.
func (st *Stream) keepalive() {
	defer st.loopWG.Done()
	fails := 0
	for {
		st.mu.Lock()
		f := 0.75 + 0.25*st.cfg.Rand.Float64()
		st.mu.Unlock()
		t := time.NewTimer(time.Duration(f * float64(st.cfg.Keepalive)))
		select {
		case <-st.done:
			t.Stop()
			return
		case <-t.C:
		}
		info, err := st.sess.PayloadInstanceInfo(st.ctx, ipmi.PayloadSOL, st.inst)
		var ce *ipmi.CompletionError
		st.mu.Lock()
		switch {
		case err == nil:
			fails = 0
			st.kaOK++
			if info.SessionID != st.sess.BMCSessionID() {
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
				st.fail(fmt.Errorf("sol: %w: keepalive: %w", ipmi.ErrSessionLost, err), SessionLost)
			}
		}
		st.mu.Unlock()
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
// It blocks while the write buffer is full.
func (st *Stream) Write(b []byte) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for len(b) > 0 {
		if st.err != nil {
			return n, st.err
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
