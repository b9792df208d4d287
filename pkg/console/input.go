package console

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Input. Whoever holds the write lease (a Writer) queues input; the owner
// gives the sender one item at a time, and the sender blocks in
// Stream.Write while the stream's buffer is full: there, and only there.
// The queue is bounded (Config.InputQueue) on top of the stream's buffer.
//
// Two kinds of Writer, like the two kinds of Reader:
//
//   - Lossless (a pipe, a script): when the queue is full, Write waits and
//     Offer takes less, so that the caller stops reading its own input: the
//     backpressure any pipe reader gives. While there is no session the
//     queue holds input for the next one. Nothing written is dropped; input
//     that a lost stream had taken but the BMC had not accepted is reported
//     (InputUndelivered), not sent again, since it may have reached the host.
//   - Lossy (someone typing): never waits. Input beyond the bound, or typed
//     while there is no session, is not sent but counted, and one
//     InputDiscarded event per episode says how much. Holding a paste of
//     megabytes for a BMC that may never take it, and sending it minutes
//     later, would surprise more than dropping it with a word.
//
// BREAK (SendBreak) is queued with the data, so it goes after what was
// written before it.

// Reasons for InputDiscarded.
const (
	whyNotConnected = "the console was not connected"
	whyNotAccepting = "the BMC was not accepting input"
	whyReconnecting = "the console was reconnecting"
)

// Errors of Writers.
var (
	// ErrWriterBusy: another Writer holds the console's write lease.
	ErrWriterBusy = errors.New("console: another writer holds the console")
	// ErrLeaseLost: the lease was taken by a forced NewWriter, or the
	// Writer was closed.
	ErrLeaseLost = errors.New("console: this writer no longer holds the console")
)

// input is the owner's input state.
type input struct {
	queue     []inputItem // not yet in the stream, oldest first
	queued    int         // bytes in queue
	inFlight  bool        // the sender holds queue[0]
	discarded int         // lossy input not sent in this episode
	why       string
	dropped   uint64 // all lossy input not sent
	ended     *endedStream
	lease     *Writer
	changed   chan struct{} // closed and replaced whenever the above change
}

func (in *input) notify() {
	close(in.changed)
	in.changed = make(chan struct{})
}

// inputItem is queued input: bytes, or a BREAK in its place among them.
type inputItem struct {
	b   []byte
	brk bool
}

type sendItem struct {
	st *sol.Stream
	inputItem
}

type sendResult struct {
	st  *sol.Stream
	n   int
	brk bool
	err error
}

// endedStream remembers a stream that ended while the sender was in its
// Write, to count what it never delivered once that Write returns.
type endedStream struct {
	st       *sol.Stream
	written  uint64
	bytesOut uint64
}

// sender hands queued input to the stream. Closing the stream ends a
// blocked Write. The owner gives it one item at a time, so both channels
// have room for what is sent on them.
func (c *Console) sender() {
	for it := range c.sendq {
		r := sendResult{st: it.st, brk: it.brk}
		if it.brk {
			r.err = it.st.SendBreak()
		} else {
			r.n, r.err = it.st.Write(it.b)
		}
		select {
		case c.sent <- r:
		case <-c.done:
			return
		}
	}
}

func (c *Console) lossy() bool { return c.in.lease != nil && c.in.lease.lossy }

// kickSender gives the sender the next item when it is idle.
func (c *Console) kickSender() {
	in := &c.in
	if in.inFlight || c.att == nil || len(in.queue) == 0 || c.ending || c.att.st.Err() != nil {
		return
	}
	in.inFlight = true
	c.sendq <- sendItem{st: c.att.st, inputItem: in.queue[0]}
}

func (c *Console) onSent(r sendResult) {
	in := &c.in
	in.inFlight = false
	if len(in.queue) > 0 {
		it := &in.queue[0]
		if r.brk {
			in.queue = in.queue[1:]
			if r.err == nil {
				c.emit(Event{Kind: BreakSent})
			}
		} else {
			it.b = it.b[r.n:]
			in.queued -= r.n
			if len(it.b) == 0 {
				in.queue = in.queue[1:]
			}
		}
	}
	if c.att != nil && c.att.st == r.st {
		c.att.written += uint64(r.n)
	} else if e := in.ended; e != nil && e.st == r.st {
		c.notDelivered(e.written+uint64(r.n), e.bytesOut)
		in.ended = nil
	}
	if c.att == nil && c.lossy() {
		c.dropQueue(whyNotConnected)
	}
	if in.queued == 0 && c.att != nil {
		c.endDiscard()
	}
	c.kickSender()
	in.notify()
}

// notDelivered says how much input a lost stream took without the BMC
// accepting it.
func (c *Console) notDelivered(written, bytesOut uint64) {
	if written > bytesOut {
		c.emit(Event{Kind: InputUndelivered, Bytes: int64(written - bytesOut)})
	}
}

func (c *Console) discard(n int, why string) {
	if n <= 0 {
		return
	}
	if c.in.discarded == 0 {
		c.in.why = why
	}
	c.in.discarded += n
	c.in.dropped += uint64(n)
}

// endDiscard says, once per episode, how much lossy input was not sent.
func (c *Console) endDiscard() {
	if c.in.discarded > 0 {
		c.emit(Event{Kind: InputDiscarded, Bytes: int64(c.in.discarded), Detail: c.in.why})
		c.in.discarded = 0
	}
}

// dropQueue drops what waits for a stream that is gone (lossy writers).
func (c *Console) dropQueue(why string) {
	in := &c.in
	if in.inFlight {
		// The sender still holds the first item; its result pops it.
		for _, it := range in.queue[1:] {
			c.discard(len(it.b), why)
		}
		in.queued = len(in.queue[0].b)
		in.queue = in.queue[:1]
		return
	}
	c.discard(in.queued, why)
	in.queue, in.queued = nil, 0
}

// WriterConfig configures a Writer.
type WriterConfig struct {
	// Name identifies the writer: the error of a NewWriter refused while
	// this one holds the lease names it (for the console server's roles).
	Name string
	// Lossy never waits: input that does not fit, or comes while there is
	// no session, is dropped and counted (InputDiscarded).
	Lossy bool
	// Force takes the lease from the Writer that holds it; that one's
	// writes then fail with ErrLeaseLost.
	Force bool
}

// Writer holds the console's write lease: one at a time. Write and Offer
// may be called from one goroutine at a time.
type Writer struct {
	c     *Console
	name  string
	lossy bool
}

// NewWriter takes the console's write lease. It fails with ErrWriterBusy
// (naming the holder's WriterConfig.Name) while another Writer holds it,
// unless cfg.Force.
func (c *Console) NewWriter(cfg WriterConfig) (*Writer, error) {
	w := &Writer{c: c, name: cfg.Name, lossy: cfg.Lossy}
	var err error
	if cerr := c.call(func() {
		switch {
		case c.ending:
			err = ErrClosed
		case c.in.lease != nil && !cfg.Force:
			err = ErrWriterBusy
			if held := c.in.lease.name; held != "" {
				err = fmt.Errorf("%w (%s)", ErrWriterBusy, held)
			}
		default:
			c.in.lease = w
			c.in.notify()
		}
	}); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Close gives the lease back. Input already queued still goes out.
func (w *Writer) Close() error {
	c := w.c
	return c.call(func() {
		if c.in.lease == w {
			c.in.lease = nil
			c.in.notify()
		}
	})
}

// Offer queues what fits of p now and never waits. A lossless writer gets
// back how much was taken and, when that is less than len(p), a channel
// that is closed when it is worth offering the rest. A lossy writer takes
// all of p (dropping what does not fit, see WriterConfig.Lossy).
func (w *Writer) Offer(p []byte) (n int, room <-chan struct{}, err error) {
	c := w.c
	if cerr := c.call(func() { n, room, err = c.offer(w, p) }); cerr != nil {
		return 0, nil, cerr
	}
	return n, room, err
}

func (c *Console) offer(w *Writer, p []byte) (int, <-chan struct{}, error) {
	in := &c.in
	switch {
	case c.ending:
		return 0, nil, ErrClosed
	case in.lease != w:
		return 0, nil, ErrLeaseLost
	}
	if w.lossy && c.att == nil {
		c.discard(len(p), whyNotConnected)
		return len(p), nil, nil
	}
	take := min(len(p), max(c.cfg.InputQueue-in.queued, 0))
	if take > 0 {
		in.queue = append(in.queue, inputItem{b: append([]byte(nil), p[:take]...)})
		in.queued += take
		c.kickSender()
		in.notify()
	}
	switch {
	case take == len(p):
		return take, nil, nil
	case w.lossy:
		c.discard(len(p)-take, whyNotAccepting)
		return len(p), nil, nil
	}
	return take, in.changed, nil
}

// Write queues p. A lossless writer waits while the queue is full, until
// all of p is queued, the lease is lost or the console ends; a lossy one
// never waits (see Offer).
func (w *Writer) Write(p []byte) (int, error) { return w.WriteContext(context.Background(), p) }

// WriteContext is Write that also returns when ctx ends, with how much it
// queued and ctx.Err().
func (w *Writer) WriteContext(ctx context.Context, p []byte) (int, error) {
	total := 0
	for {
		n, room, err := w.Offer(p)
		total += n
		p = p[n:]
		if err != nil || len(p) == 0 {
			return total, err
		}
		select {
		case <-room:
		case <-ctx.Done():
			return total, ctx.Err()
		case <-w.c.done:
			return total, ErrClosed
		}
	}
}

// SendBreak queues a serial BREAK to the host, after the input queued
// before it. A BreakSent event follows when it is in the stream. Without a
// session it returns ErrNotConnected: a BREAK is not kept for later.
func (c *Console) SendBreak() error {
	var err error
	if cerr := c.call(func() {
		switch {
		case c.ending:
			err = ErrClosed
		case c.att == nil:
			err = ErrNotConnected
		default:
			c.in.queue = append(c.in.queue, inputItem{brk: true})
			c.kickSender()
			c.in.notify()
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// inputState is a snapshot of the input for Flush, Drain and WaitQuiet.
type inputState struct {
	st      *sol.Stream
	idle    bool // nothing queued, nothing in the sender
	changed <-chan struct{}
	retry   RetryInfo
	ending  bool
}

func (c *Console) inputState() (inputState, error) {
	var s inputState
	err := c.call(func() {
		s = inputState{idle: len(c.in.queue) == 0 && !c.in.inFlight, changed: c.in.changed,
			retry: c.retry, ending: c.ending}
		if c.att != nil {
			s.st = c.att.st
		}
	})
	return s, err
}

// Flush waits until all queued input is in the stream (not yet accepted by
// the BMC: see Drain), or ctx ends. Without a session it returns
// ErrNotConnected at once; if the stream ends meanwhile, its error.
func (c *Console) Flush(ctx context.Context) error {
	_, err := c.flush(ctx)
	return err
}

func (c *Console) flush(ctx context.Context) (*sol.Stream, error) {
	var first *sol.Stream
	for {
		s, err := c.inputState()
		switch {
		case err != nil:
			return nil, err
		case s.ending:
			return nil, ErrClosed
		case s.st == nil || first != nil && s.st != first:
			if first != nil && first.Err() != nil {
				return nil, first.Err()
			}
			return nil, ErrNotConnected
		}
		first = s.st
		if s.idle {
			return s.st, nil
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, ErrClosed
		}
	}
}

// Drain waits until the BMC has accepted all input written so far: the
// queue goes into the stream, then the stream waits for the BMC's ACKs. It
// returns the stream's error if the stream ends first, and ctx.Err() when
// ctx ends: a BMC that accepts nothing keeps it waiting, so give it a bound
// (the program ends with an error when Stats shows no progress for 20 s).
func (c *Console) Drain(ctx context.Context) error {
	st, err := c.flush(ctx)
	if err != nil {
		return err
	}
	if err := st.Drain(ctx); err != nil {
		if serr := st.Err(); serr != nil {
			return serr
		}
		return err
	}
	return nil
}

// WaitQuiet waits until the BMC has sent no console data for its
// retransmission span (RetryInfo.Quiet: every copy of a packet it might
// still be resending, read from the BMC at the first connection, or
// assumed), and reports true; or, while output keeps coming, for at most
// limit beyond that span, and reports false. Retransmissions of output
// already delivered count as "not quiet": the BMC did not hear the ACK and
// is still at work. It returns the stream's error if the stream ends.
//
// This is the end-of-input rule of a pipe: after Drain and WaitQuiet, every
// byte of output the BMC sent before it went quiet has reached the readers,
// unless the BMC sent every copy of a packet and all of them were lost.
func (c *Console) WaitQuiet(ctx context.Context, limit time.Duration) (bool, error) {
	s, err := c.inputState()
	switch {
	case err != nil:
		return false, err
	case s.ending:
		return false, ErrClosed
	case s.st == nil:
		return false, ErrNotConnected
	}
	st := s.st
	start := time.Now()
	last, lastAt := activity(st.Stats()), start
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		// The BMC's retry span may become known meanwhile (it is read when
		// the first session is up): each check uses what is known now.
		q := s.retry.Quiet()
		if s, err = c.inputState(); err == nil {
			q = s.retry.Quiet()
		}
		now := time.Now()
		if a := activity(st.Stats()); a != last {
			last, lastAt = a, now
		}
		switch {
		case now.Sub(lastAt) >= q:
			return true, nil
		case now.Sub(start) >= limit+q:
			return false, nil
		}
		next := now.Add(max(q/4, 50*time.Millisecond))
		if at := lastAt.Add(q); at.Before(next) {
			next = at
		}
		if at := start.Add(limit + q); at.Before(next) {
			next = at
		}
		t.Reset(next.Sub(now))
		select {
		case <-t.C:
		case <-st.Done():
			if err := st.Err(); err != nil && !errors.Is(err, sol.ErrClosed) {
				return false, err
			}
			return false, ErrNotConnected
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}
