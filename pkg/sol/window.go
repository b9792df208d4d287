package sol

import "time"

// Timing bounds for retransmission of console data.
const (
	DefaultInitialRTO = 250 * time.Millisecond
	DefaultMinRTO     = 20 * time.Millisecond
	DefaultMaxRTO     = 2 * time.Second
	// deferAckFor is how long an ACK waits for the local reader to make room
	// before it goes out accepting nothing; shorter than any BMC's
	// retransmission interval (ipmi_sim: 1 s).
	deferAckFor = 300 * time.Millisecond
)

// Window is the SOL state of both directions, without I/O. The caller feeds
// it BMC packets (Receive), local input (Queue, RequestBreak) and the time,
// and sends what Poll returns, calling Poll again at Deadline.
type Window struct {
	MaxChars int           // characters per packet, 1–255
	MaxOut   int           // bound on queued local input
	MinRTO   time.Duration // retransmission timeout bounds
	MaxRTO   time.Duration

	// Console → BMC.
	out       []byte // input not yet accepted; the first inflight bytes are in flight
	inflight  int
	seq       byte // in flight, 0 = none
	lastSeq   byte
	brk       bool // BREAK requested, not yet sent
	brkFlight bool // the packet in flight carries BREAK
	sentAt    time.Time
	firstSent time.Time
	tries     int
	rto       time.Duration
	srtt      time.Duration
	rttvar    time.Duration
	holdUntil time.Time // no new packet before this (after a NACK)
	nackWait  time.Duration

	// BMC → console.
	inSeq, inPrev, inPrev2 byte
	inAcc                  int // characters of packet inSeq accepted so far
	inLen                  int // length of the copy of packet inSeq last ACKed
	ackPending             bool
	ackSeq, ackCount       byte
	deferred               []byte // a packet waiting for room, copied
	deferredSeq            byte
	deferredAt             time.Time
	hostOff                bool

	// Counters.
	Sent, Retransmits, Received, Duplicates, Nacks, Stale uint64
}

// Events are bits reported by Receive.
type Events uint8

// Event bits.
const (
	EvHostOff Events = 1 << iota
	EvHostOn
	EvBreak
	EvOverrun
	EvDeactivating
	EvNacked
)

// NewWindow returns a window sending at most maxChars per packet.
func NewWindow(maxChars, maxOut int) *Window {
	return &Window{MaxChars: max(1, min(maxChars, MaxChars)), MaxOut: maxOut,
		MinRTO: DefaultMinRTO, MaxRTO: DefaultMaxRTO, rto: DefaultInitialRTO}
}

// Queued is the number of local input bytes not yet accepted by the BMC.
func (w *Window) Queued() int { return len(w.out) }

// Space is how many more bytes Queue takes.
func (w *Window) Space() int { return max(0, w.MaxOut-len(w.out)) }

// Queue adds local input; it returns how much fitted.
func (w *Window) Queue(b []byte) int {
	n := min(len(b), w.Space())
	w.out = append(w.out, b[:n]...)
	return n
}

// RequestBreak asks for a BREAK on the next new packet.
func (w *Window) RequestBreak() { w.brk = true }

// RTT is the smoothed round-trip time, 0 before the first sample.
func (w *Window) RTT() time.Duration { return w.srtt }

// HostOff reports whether the BMC last said character transfer is unavailable.
func (w *Window) HostOff() bool { return w.hostOff }

// InFlightSince is when the packet in flight was first sent (zero if none).
func (w *Window) InFlightSince() time.Time {
	if w.seq == 0 {
		return time.Time{}
	}
	return w.firstSent
}

// Receive processes a packet from the BMC. room is how many bytes the local
// reader can take now. It returns the bytes to deliver (aliasing p.Data) and
// the events the status bits carry.
func (w *Window) Receive(p Packet, room int, now time.Time) (deliver []byte, ev Events) {
	w.Received++
	room = max(room, 0)
	ev = w.status(p.Status)
	if p.AckSeq != 0 && p.AckSeq == w.seq {
		if p.Status&StatusNack != 0 {
			ev |= EvNacked
		}
		w.acked(int(p.Accepted), p.Status&StatusNack != 0, now)
	}
	if p.Seq == 0 {
		return nil, ev
	}
	switch {
	case p.Seq == w.inSeq:
		// A retransmission, possibly with more data than the first copy
		// (ipmi_sim re-reads its buffer): deliver only what is new.
		w.Duplicates++
		if w.deferred != nil && w.deferredSeq == p.Seq {
			return nil, ev // still waiting for room; the ACK comes then
		}
		// Only when the last ACK took the whole copy: after a partial ACK
		// the BMC sends the rest under a new number (protocol.md §6.3), so
		// taking it from this copy too would deliver it twice.
		if w.inAcc == w.inLen && len(p.Data) > w.inAcc && room > 0 {
			deliver = p.Data[w.inAcc:min(len(p.Data), w.inAcc+room)]
			w.inAcc += len(deliver)
			w.inLen = len(p.Data)
		}
		w.queueAck(p.Seq, min(w.inAcc, len(p.Data)))
		return deliver, ev
	case p.Seq == w.inPrev || p.Seq == w.inPrev2:
		// A stale copy of an older packet (reordered or duplicated in the
		// network): its data was delivered; ACK it, harmlessly, again.
		w.Stale++
		w.queueAck(p.Seq, len(p.Data))
		return nil, ev
	}
	// A new packet. A deferred one it replaces was given up by the BMC.
	w.deferred = nil
	w.inPrev2, w.inPrev, w.inSeq = w.inPrev, w.inSeq, p.Seq
	if room <= 0 && len(p.Data) > 0 {
		// No room: hold the ACK a little rather than NACK (after which
		// some BMCs stop sending, protocol.md §6.4) or ACK nothing (after
		// which they resend at once).
		w.inAcc, w.inLen = 0, len(p.Data)
		w.deferred = append(w.deferred[:0], p.Data...)
		w.deferredSeq = p.Seq
		w.deferredAt = now
		return nil, ev
	}
	n := min(len(p.Data), room)
	w.inAcc, w.inLen = n, len(p.Data)
	w.queueAck(p.Seq, n)
	return p.Data[:n], ev
}

// Room tells the window the reader has room again; it returns bytes of a
// deferred packet to deliver now.
func (w *Window) Room(room int, now time.Time) []byte {
	if w.deferred == nil || room <= 0 {
		return nil
	}
	n := min(len(w.deferred), room)
	d := w.deferred[:n]
	w.inAcc, w.inLen = n, len(w.deferred)
	w.queueAck(w.deferredSeq, n)
	w.deferred = nil
	return d
}

func (w *Window) queueAck(seq byte, n int) {
	w.ackPending, w.ackSeq, w.ackCount = true, seq, byte(min(n, 255))
}

func (w *Window) status(st byte) Events {
	var ev Events
	off := st&StatusUnavailable != 0
	if off && !w.hostOff {
		ev |= EvHostOff
	} else if !off && w.hostOff {
		ev |= EvHostOn
	}
	w.hostOff = off
	if st&StatusBreak != 0 {
		ev |= EvBreak
	}
	if st&StatusOverrun != 0 {
		ev |= EvOverrun
	}
	if st&StatusDeactivating != 0 {
		ev |= EvDeactivating
	}
	return ev
}

// acked ends the sequence number in flight. Any answer ends it: a BMC that
// has seen a sequence number treats it as a duplicate from then on, so the
// unaccepted rest goes first in the next packet, under a new number.
func (w *Window) acked(accepted int, nack bool, now time.Time) {
	if w.tries == 1 {
		w.sample(now.Sub(w.sentAt))
	}
	n := min(accepted, w.inflight)
	w.out = w.out[:copy(w.out, w.out[n:])]
	if w.brkFlight && (!nack || accepted > 0) {
		w.brkFlight = false
	} else if w.brkFlight {
		w.brk, w.brkFlight = true, false
	}
	w.seq, w.inflight, w.tries = 0, 0, 0
	if nack {
		w.Nacks++
		// Back off before trying again: double up to the max each time.
		w.nackWait = min(max(2*w.nackWait, w.MinRTO), w.MaxRTO)
		w.holdUntil = now.Add(w.nackWait)
	} else {
		w.nackWait = 0
	}
}

func (w *Window) sample(rtt time.Duration) {
	if w.srtt == 0 {
		w.srtt, w.rttvar = rtt, rtt/2
	} else {
		d := w.srtt - rtt
		if d < 0 {
			d = -d
		}
		w.rttvar = (3*w.rttvar + d) / 4
		w.srtt = (7*w.srtt + rtt) / 8
	}
	w.rto = min(max(w.srtt+4*w.rttvar, w.MinRTO), w.MaxRTO)
}

// Poll returns the next packet to send now, if any: a retransmission that is
// due, else new data (or BREAK) when nothing is in flight, else a pending
// ACK. The packet's Data aliases the window's buffer until the next call.
func (w *Window) Poll(now time.Time) (Packet, bool) {
	var p Packet
	switch {
	case w.seq != 0 && !now.Before(w.sentAt.Add(w.backoff())):
		// Same sequence number, same characters.
		p = Packet{Seq: w.seq, Data: w.out[:w.inflight]}
		if w.brkFlight {
			p.Status |= OpBreak
		}
		w.tries++
		w.Retransmits++
		w.sentAt = now
	case w.seq == 0 && (len(w.out) > 0 || w.brk) && !now.Before(w.holdUntil):
		w.lastSeq = nextSeq(w.lastSeq)
		w.seq = w.lastSeq
		w.inflight = min(len(w.out), w.MaxChars)
		p = Packet{Seq: w.seq, Data: w.out[:w.inflight]}
		if w.brk {
			p.Status |= OpBreak
			w.brk, w.brkFlight = false, true
		}
		w.tries = 1
		w.sentAt, w.firstSent = now, now
	case w.ackPending:
	default:
		if w.deferred != nil && !now.Before(w.deferredAt.Add(deferAckFor)) {
			// The reader made no room in time: accept nothing, and let the
			// BMC send the characters again.
			w.queueAck(w.deferredSeq, 0)
			w.deferred = nil
			break
		}
		return Packet{}, false
	}
	if w.ackPending {
		p.AckSeq, p.Accepted = w.ackSeq, w.ackCount
		w.ackPending = false
	}
	w.Sent++
	return p, true
}

func (w *Window) backoff() time.Duration {
	d := w.rto
	for i := 1; i < w.tries && d < w.MaxRTO; i++ {
		d *= 2
	}
	return min(d, w.MaxRTO)
}

// Deadline is when Poll next has something to do without new input; zero
// means nothing is scheduled.
func (w *Window) Deadline() time.Time {
	var t time.Time
	earliest := func(c time.Time) {
		if t.IsZero() || c.Before(t) {
			t = c
		}
	}
	if w.seq != 0 {
		earliest(w.sentAt.Add(w.backoff()))
	} else if (len(w.out) > 0 || w.brk) && !w.holdUntil.IsZero() {
		earliest(w.holdUntil)
	}
	if w.deferred != nil {
		earliest(w.deferredAt.Add(deferAckFor))
	}
	return t
}
