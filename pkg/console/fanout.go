package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The output fan-out. One goroutine, the copier, reads the current stream
// and publishes what it reads to every Reader; the owner publishes events
// into the same queues, so that a Reader that asked for events sees them at
// the point of the output where they happened.
//
// Two kinds of Reader, chosen per reader (ReaderConfig.Lossy):
//
//   - Lossless (the default): nothing is ever dropped. When its buffer is
//     full the copier waits for it, stops reading the stream, the stream's
//     own buffer fills, and the SOL window defers its ACKs: the BMC is
//     made to wait, as a slow terminal makes it wait. Every lossless reader
//     therefore slows the whole console down to its pace. This is what a
//     program's stdout and a log need: the console never loses a byte.
//   - Lossy (viewers): a reader that falls behind loses what does not fit
//     in its buffer and is told so (a Chunk with Skipped, a *LagError from
//     Read, a ReaderLagged event); the copier, the BMC and the other readers
//     never wait for it.
//
// The hub's lock guards only these queues; it is never held across I/O.

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	// Name identifies the reader in events and Stats.
	Name string
	// Lossy lets the reader fall behind instead of holding up the console.
	Lossy bool
	// Buffer bounds the output held for the reader; 0 means 256 KiB.
	Buffer int
	// Replay starts the reader with the console's history (Config.History):
	// the latest output before it was added.
	Replay bool
	// Events delivers the console's events in the reader's stream (Next),
	// at the point of the output where they happened.
	Events bool
}

// DefaultReaderBuffer bounds a reader's queue (ReaderConfig.Buffer).
const DefaultReaderBuffer = 256 << 10

// Chunk is one piece of a Reader's stream: output, an event, or a gap.
type Chunk struct {
	Data    []byte // console output, as received
	Event   *Event // an event (ReaderConfig.Events)
	Skipped int64  // a lossy reader fell behind: this many bytes of output are missing here
}

// LagError is returned by a lossy Reader's Read, once, where output is
// missing because the reader fell behind; reading on continues after the
// gap.
type LagError struct{ Skipped int64 }

func (e *LagError) Error() string {
	return fmt.Sprintf("console: reader fell behind: %d bytes of output skipped", e.Skipped)
}

// ErrReaderClosed is returned by a Reader after its Close.
var ErrReaderClosed = errors.New("console: reader closed")

// item is a queued piece of a reader's stream.
type item struct {
	data []byte
	ev   *Event
	skip int64
}

// Reader receives the console's output from the moment it is added (and,
// with Replay, the history before). It implements io.Reader; Next gives
// events and gaps as well. One goroutine should read it.
type Reader struct {
	h   *hub
	cfg ReaderConfig

	// Guarded by h.mu.
	items     []item
	off       int // bytes of items[0].data already read
	bytes     int // output bytes queued
	closed    bool
	delivered uint64
	skipped   uint64
	lagNew    int64 // skipped since the owner last collected it
	wake      chan struct{}
}

// ReaderStats are a reader's counters.
type ReaderStats struct {
	Name      string
	Lossy     bool
	Buffered  int    // output bytes waiting to be read
	Delivered uint64 // output bytes read
	Skipped   uint64 // output bytes a lossy reader missed
}

type hub struct {
	mu      sync.Mutex
	room    *sync.Cond // the copier waits for room in a lossless reader
	readers []*Reader
	subs    []*Subscription
	hist    ring
	ended   bool // no more output: readers end once drained
	aborted bool // Close was cut short: the copier stops now
	evDone  bool // the console has ended: no more events
	lagged  chan struct{}

	onSignal func(*Reader) // tests: called as a reader is woken (h.mu held)
}

func newHub(history int) *hub {
	h := &hub{hist: ring{buf: make([]byte, history)}, lagged: make(chan struct{}, 1)}
	h.room = sync.NewCond(&h.mu)
	return h
}

func (h *hub) newReader(cfg ReaderConfig) *Reader {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultReaderBuffer
	}
	r := &Reader{h: h, cfg: cfg, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cfg.Replay {
		if b := h.hist.bytes(); len(b) > 0 {
			r.items = append(r.items, item{data: b})
			r.bytes += len(b)
		}
	}
	if !h.ended {
		h.readers = append(h.readers, r)
	}
	return r
}

// publish hands output to every reader. It waits while a lossless reader's
// buffer is full; it returns false once the hub is aborted.
func (h *hub) publish(d []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.aborted {
		return false
	}
	h.hist.write(d)
	readers := append([]*Reader(nil), h.readers...)
	lag := false
	for _, r := range readers {
		if !r.cfg.Lossy {
			continue
		}
		n := min(len(d), max(r.cfg.Buffer-r.bytes, 0))
		if n > 0 {
			r.queueData(d[:n])
		}
		if skip := int64(len(d) - n); skip > 0 {
			r.queueSkip(skip)
			lag = true
		}
	}
	if lag {
		select {
		case h.lagged <- struct{}{}:
		default:
		}
	}
	// The lossy readers (people watching) are woken after the lossless
	// ones (logs): the Go scheduler runs the goroutine woken last first,
	// so a keystroke's echo reaches a viewer before the log is written.
	wakeLossy := func() {
		for _, r := range readers {
			if r.cfg.Lossy {
				r.signal()
			}
		}
	}
	for _, r := range readers {
		if r.cfg.Lossy {
			continue
		}
		rest := d
		for len(rest) > 0 && !r.closed && !h.aborted {
			room := r.cfg.Buffer - r.bytes
			if room <= 0 {
				wakeLossy() // waiting may take long: they need not
				h.room.Wait()
				continue
			}
			n := min(room, len(rest))
			r.pushData(rest[:n])
			rest = rest[n:]
		}
	}
	wakeLossy()
	return !h.aborted
}

// event queues ev for every subscriber and every reader that asked for
// events. It never waits: a subscriber whose channel is full misses it and
// is told how many it missed.
func (h *hub) event(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.evDone {
		return
	}
	for _, s := range h.subs {
		s.send(ev)
	}
	if ev.Kind == Ended {
		return // readers get it after the last output (end)
	}
	for _, r := range h.readers {
		if r.cfg.Events {
			e := ev
			r.items = append(r.items, item{ev: &e})
			r.signal()
		}
	}
}

// end says there is no more output; readers that asked for events get
// final (the Ended event) after the last of it, and all end with io.EOF once
// they have read what is queued.
func (h *hub) end(final *Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ended {
		return
	}
	h.ended = true
	for _, r := range h.readers {
		if final != nil && r.cfg.Events {
			e := *final
			r.items = append(r.items, item{ev: &e})
		}
		r.signal()
	}
	h.readers = nil
}

// abort stops the copier at once (Close cut short); readers still get what
// is queued, then io.EOF.
func (h *hub) abort() {
	h.mu.Lock()
	h.aborted = true
	h.mu.Unlock()
	h.room.Broadcast()
	h.end(nil)
}

// closeEvents closes every subscription after the last event.
func (h *hub) closeEvents() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.evDone = true
	for _, s := range h.subs {
		close(s.ch)
	}
	h.subs = nil
}

// takeLags returns what each lossy reader skipped since the last call.
func (h *hub) takeLags() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, r := range h.readers {
		if r.lagNew > 0 {
			out = append(out, Event{Kind: ReaderLagged, Detail: r.name(), Bytes: r.lagNew})
			r.lagNew = 0
		}
	}
	return out
}

func (h *hub) stats() []ReaderStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]ReaderStats, 0, len(h.readers))
	for _, r := range h.readers {
		out = append(out, ReaderStats{Name: r.cfg.Name, Lossy: r.cfg.Lossy, Buffered: r.bytes, Delivered: r.delivered, Skipped: r.skipped})
	}
	return out
}

func (r *Reader) name() string {
	if r.cfg.Name != "" {
		return r.cfg.Name
	}
	return "a reader"
}

// pushData appends output and wakes the reader; h.mu held.
func (r *Reader) pushData(d []byte) {
	r.queueData(d)
	r.signal()
}

// queueData appends output without waking the reader; h.mu held.
func (r *Reader) queueData(d []byte) {
	if n := len(r.items); n > 0 && r.items[n-1].data != nil && len(r.items[n-1].data) < 32<<10 {
		r.items[n-1].data = append(r.items[n-1].data, d...)
	} else {
		r.items = append(r.items, item{data: append([]byte(nil), d...)})
	}
	r.bytes += len(d)
}

// queueSkip records a gap without waking the reader (publish wakes the
// lossy readers last); h.mu held.
func (r *Reader) queueSkip(n int64) {
	if k := len(r.items); k > 0 && r.items[k-1].skip > 0 {
		r.items[k-1].skip += n
	} else {
		r.items = append(r.items, item{skip: n})
	}
	r.skipped += uint64(n)
	r.lagNew += n
}

func (r *Reader) signal() {
	if r.h.onSignal != nil {
		r.h.onSignal(r)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Next returns the next piece of the reader's stream, waiting for one until
// ctx ends. It returns io.EOF after the console has ended and everything
// queued has been read, ErrReaderClosed after Close.
func (r *Reader) Next(ctx context.Context) (Chunk, error) {
	for {
		c, ok, err := r.Poll()
		if ok || err != nil {
			return c, err
		}
		select {
		case <-r.Ready():
		case <-ctx.Done():
			return Chunk{}, ctx.Err()
		}
	}
}

// Poll is Next without waiting: ok is false when nothing is queued. With
// Ready it lets a caller wait for the reader and other things in one
// select, without a goroutine in between.
func (r *Reader) Poll() (c Chunk, ok bool, err error) {
	h := r.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.closed {
		return Chunk{}, false, ErrReaderClosed
	}
	if len(r.items) == 0 {
		if h.ended || !r.listed() {
			return Chunk{}, false, io.EOF
		}
		return Chunk{}, false, nil
	}
	it := r.items[0]
	r.items[0] = item{}
	r.items = r.items[1:]
	switch {
	case it.data != nil:
		c.Data = it.data[r.off:]
		r.off = 0
		r.bytes -= len(c.Data)
		r.delivered += uint64(len(c.Data))
		h.room.Broadcast()
	case it.ev != nil:
		c.Event = it.ev
	default:
		c.Skipped = it.skip
	}
	return c, true, nil
}

// Ready receives a value when the reader may have something for Poll (or
// has ended, or was closed). A receive is a hint, not a promise: call Poll
// after each one, and until it reports nothing queued before waiting again.
func (r *Reader) Ready() <-chan struct{} { return r.wake }

// listed reports whether the hub still publishes to r; h.mu held.
func (r *Reader) listed() bool {
	for _, x := range r.h.readers {
		if x == r {
			return true
		}
	}
	return false
}

// Read reads console output. Events are left out; where a lossy reader fell
// behind, Read returns 0 and a *LagError once, then goes on after the gap.
// It returns io.EOF after the console has ended and the output queued for
// the reader has been read.
func (r *Reader) Read(p []byte) (int, error) {
	h := r.h
	for {
		h.mu.Lock()
		if r.closed {
			h.mu.Unlock()
			return 0, ErrReaderClosed
		}
		for len(r.items) > 0 {
			it := &r.items[0]
			switch {
			case it.ev != nil:
				r.items[0] = item{}
				r.items = r.items[1:]
				continue
			case it.data == nil:
				n := it.skip
				r.items[0] = item{}
				r.items = r.items[1:]
				h.mu.Unlock()
				return 0, &LagError{Skipped: n}
			}
			n := copy(p, it.data[r.off:])
			r.off += n
			if r.off == len(it.data) {
				r.items[0] = item{}
				r.items = r.items[1:]
				r.off = 0
			}
			r.bytes -= n
			r.delivered += uint64(n)
			h.room.Broadcast()
			h.mu.Unlock()
			return n, nil
		}
		ended := h.ended || !r.listed()
		wake := r.wake
		h.mu.Unlock()
		if ended {
			return 0, io.EOF
		}
		<-wake
	}
}

// Close removes the reader: the console no longer waits for it, and what
// was queued for it is dropped.
func (r *Reader) Close() error {
	h := r.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.items, r.bytes = nil, 0
	for i, x := range h.readers {
		if x == r {
			h.readers = append(h.readers[:i:i], h.readers[i+1:]...)
			break
		}
	}
	h.room.Broadcast()
	r.signal()
	return nil
}

// Stats returns the reader's counters.
func (r *Reader) Stats() ReaderStats {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	return ReaderStats{Name: r.cfg.Name, Lossy: r.cfg.Lossy, Buffered: r.bytes, Delivered: r.delivered, Skipped: r.skipped}
}

// Subscription delivers a console's events on C, in order, until the
// console has ended (then C is closed) or Close. The console never waits for
// a subscriber: when C is full, events are missed, and a Missed event says
// how many once there is room.
type Subscription struct {
	C <-chan Event

	h      *hub
	ch     chan Event
	missed int
}

func (s *Subscription) send(ev Event) {
	if s.missed > 0 {
		select {
		case s.ch <- Event{Kind: Missed, Time: ev.Time, Count: s.missed}:
			s.missed = 0
		default:
			s.missed++
			return
		}
	}
	select {
	case s.ch <- ev:
	default:
		s.missed++
	}
}

// Close ends the subscription; C is closed.
func (s *Subscription) Close() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range h.subs {
		if x == s {
			h.subs = append(h.subs[:i:i], h.subs[i+1:]...)
			close(s.ch)
			return
		}
	}
}

func (h *hub) subscribe(n int) *Subscription {
	if n <= 0 {
		n = 256
	}
	s := &Subscription{h: h, ch: make(chan Event, n)}
	s.C = s.ch
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.evDone {
		close(s.ch)
		return s
	}
	h.subs = append(h.subs, s)
	return s
}

// ring keeps the latest len(buf) bytes of output.
type ring struct {
	buf  []byte
	w    int // next write position
	full bool
}

func (g *ring) write(d []byte) {
	n := len(g.buf)
	if n == 0 {
		return
	}
	if len(d) >= n {
		copy(g.buf, d[len(d)-n:])
		g.w, g.full = 0, true
		return
	}
	k := copy(g.buf[g.w:], d)
	if k < len(d) {
		copy(g.buf, d[k:])
		g.full = true
	}
	g.w = (g.w + len(d)) % n
	if g.w == 0 && len(d) > 0 {
		g.full = true
	}
}

// bytes returns the kept output, oldest first.
func (g *ring) bytes() []byte {
	if !g.full {
		return append([]byte(nil), g.buf[:g.w]...)
	}
	out := make([]byte, 0, len(g.buf))
	out = append(out, g.buf[g.w:]...)
	return append(out, g.buf[:g.w]...)
}
