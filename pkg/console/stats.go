package console

import (
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Stats are a console's state and counters.
type Stats struct {
	Addr  string // Config.Addr
	State State
	Since time.Time // in State since
	// LastErr is why the console is waiting to reconnect (Waiting).
	LastErr     error
	NextAttempt time.Time // Waiting: when the next attempt starts

	Attempts, Connects, Losses uint64
	// BytesIn is output received, BytesOut input accepted by the BMC, over
	// all sessions.
	BytesIn, BytesOut uint64
	// Queued is input waiting for the stream (not counting the stream's own
	// buffer: Stream.Pending).
	Queued int
	// Dropped is lossy input not sent, over the console's life.
	Dropped uint64
	Writer  bool // a Writer holds the lease
	Readers []ReaderStats
	Retry   RetryInfo

	// The current session (Attached only).
	Session     *SessionInfo
	HostOff     bool
	Stream      sol.Stats
	SessionPkts ipmi.Stats
}

// Stats returns the console's state and counters.
func (c *Console) Stats() Stats {
	var s Stats
	switch err := c.call(func() { s = c.stats() }); {
	case err == ErrNotStarted:
		return Stats{Addr: c.cfg.Addr, State: StateIdle, Retry: c.retry}
	case err != nil:
		<-c.done
		return c.final
	}
	return s
}

func (c *Console) stats() Stats {
	s := Stats{Addr: c.cfg.Addr, State: c.phase, Since: c.since, LastErr: c.lastErr, Attempts: c.attempts, Connects: c.connects,
		Losses: c.losses, BytesIn: c.inDone, BytesOut: c.outDone, Queued: c.in.queued, Dropped: c.in.dropped,
		Writer: c.in.lease != nil, Readers: c.hub.stats(), Retry: c.retry}
	if c.phase == StateWaiting {
		s.NextAttempt = c.retryAt
	}
	if c.att != nil {
		st := c.att.st
		sess := st.Session()
		s.Stream = st.Stats()
		s.SessionPkts = sess.Stats()
		s.HostOff = st.HostOff()
		s.BytesIn += s.Stream.BytesIn
		s.BytesOut += s.Stream.BytesOut
		s.Session = &SessionInfo{Addr: sess.RemoteAddr(), CipherSuite: sess.CipherSuite(), Privilege: sess.Privilege(),
			BMCSessionID: sess.BMCSessionID(), MaxChars: s.Stream.MaxChars}
	}
	return s
}

// streamQueue hands streams to the copier, in the order they came up: the
// output of a stream that ended goes out before the next one's. It never
// blocks the owner.
type streamQueue struct {
	mu     sync.Mutex
	q      []*sol.Stream
	closed bool
	final  *Event
	wake   chan struct{}
}

func (q *streamQueue) push(st *sol.Stream) {
	q.mu.Lock()
	q.q = append(q.q, st)
	q.mu.Unlock()
	q.signal()
}

// close says no stream follows; final is handed to the readers after the
// last output.
func (q *streamQueue) close(final *Event) {
	q.mu.Lock()
	q.closed, q.final = true, final
	q.mu.Unlock()
	q.signal()
}

func (q *streamQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next waits for the next stream; ok is false after close, with the final
// event.
func (q *streamQueue) next() (st *sol.Stream, ok bool, final *Event) {
	for {
		q.mu.Lock()
		if len(q.q) > 0 {
			st = q.q[0]
			q.q[0] = nil
			q.q = q.q[1:]
			q.mu.Unlock()
			return st, true, nil
		}
		if q.closed {
			final = q.final
			q.mu.Unlock()
			return nil, false, final
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// copier moves each stream's output to the readers until the console has
// ended; a full lossless reader makes it wait, and so the stream defers its
// ACKs.
func (c *Console) copier() {
	buf := make([]byte, 32<<10)
	for {
		st, ok, final := c.copyQ.next()
		if !ok {
			c.hub.end(final)
			return
		}
		for {
			n, err := st.Read(buf)
			if n > 0 && !c.hub.publish(buf[:n]) {
				return // aborted: the hub has ended
			}
			if err != nil {
				break
			}
		}
	}
}
