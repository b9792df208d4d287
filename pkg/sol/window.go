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
	// OpeningWait bounds the wait for an answer to the opening packet
	// (RequestOpening); after it the number is given up and data goes out
	// under it, so a BMC that ignores empty packets costs the first
	// keystroke this much delay, never the keystroke.
	OpeningWait = time.Second
	// StatusHoldoff is the least time between two BreakDetected (or two
	// Overrun) events: a BMC that flaps the bit on every packet is reported
	// once per holdoff, not once per packet.
	StatusHoldoff = time.Second
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
	out        []byte // input not yet accepted; the first inflight bytes are in flight
	inflight   int
	seq        byte // in flight, 0 = none
	lastSeq    byte
	brk        bool // BREAK requested, not yet sent
	brkFlight  bool // the packet in flight carries BREAK
	opening    bool // an opening packet is requested, not yet sent
	openFlight bool // the packet in flight is the opening packet
	sentAt     time.Time
	firstSent  time.Time
	tries      int
	rto        time.Duration
	srtt       time.Duration
	rttvar     time.Duration
	holdUntil  time.Time     // no new packet before this (the BMC took nothing)
	heldFor    byte          // the number whose answer started the hold
	stallWait  time.Duration // the last hold; doubles while the BMC takes nothing
	waitSince  time.Time     // input waiting without progress since; zero if none waits
	lastRefuse Refusal       // how the BMC last refused input

	// BMC → console.
	inSeq, inPrev, inPrev2 byte
	inAcc                  int // characters of packet inSeq accepted so far
	inLen                  int // length of the copy of packet inSeq last ACKed
	prevAcc, prev2Acc      int // what was accepted of packets inPrev, inPrev2
	ackPending             bool
	ackSeq, ackCount       byte
	deferred               []byte // a packet waiting for room, copied
	deferredSeq            byte
	deferredAt             time.Time
	hostOff                bool
	brkBit, ovrBit         bool      // the last packet had the bit set
	brkAt, ovrAt           time.Time // when the event was last reported

	// Counters. Refused counts answers that took none of what was offered.
	Sent, Retransmits, Received, Duplicates, Nacks, Stale, Refused uint64
}

// Refusal is how the BMC refuses console input.
type Refusal uint8

// Refusals.
const (
	RefusedNone  Refusal = iota
	RefusedNoAck         // packets go unanswered
	RefusedZero          // ACKed, but no character accepted
	RefusedNack          // NACKed, nothing accepted
)

func (r Refusal) String() string {
	switch r {
	case RefusedNoAck:
		return "no ACK"
	case RefusedZero:
		return "0 characters accepted"
	case RefusedNack:
		return "NACK"
	}
	return "none"
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

// RequestOpening asks for an opening packet before any data: a packet with
// a sequence number and no characters, ahead of the first keystroke. A BMC
// that remembers the last sequence number across sessions (ipmi_sim) takes
// a new console's first packet for a duplicate when the numbers happen to
// match; the opening packet uses up that risk. Any answer ends it; without
// one, after OpeningWait, its number is given up and reused by the next
// packet, so a BMC that ignores empty packets loses nothing either.
func (w *Window) RequestOpening() { w.opening = true }

// InputWaitingSince is the start of the current wait for the BMC to accept
// input: the first Poll after input (or a BREAK) was queued with nothing
// waiting, or when the BMC last accepted some of it. Zero when nothing
// waits.
func (w *Window) InputWaitingSince() time.Time { return w.waitSince }

// Refusal says how the BMC is refusing input now: RefusedNoAck when the
// packet in flight has gone unanswered (retransmitted), else how it last
// answered without accepting anything; RefusedNone after progress.
func (w *Window) Refusal() Refusal {
	if w.seq != 0 && w.tries > 1 && !w.openFlight {
		return RefusedNoAck
	}
	return w.lastRefuse
}

// RTT is the smoothed round-trip time, 0 before the first sample.
func (w *Window) RTT() time.Duration { return w.srtt }

// HostOff reports whether the BMC last said character transfer is unavailable.
func (w *Window) HostOff() bool { return w.hostOff }

// InFlightSince is when the packet in flight was first sent (zero if none,
// or if it is the opening packet, which is given up after OpeningWait).
func (w *Window) InFlightSince() time.Time {
	if w.seq == 0 || w.openFlight {
		return time.Time{}
	}
	return w.firstSent
}

// Receive processes a packet from the BMC. room is how many bytes the local
// reader can take now. It returns the bytes to deliver (aliasing p.Data) and
// the events the status bits carry.
func (w *Window) Receive(p Packet, room int, now time.Time) (deliver []byte, ev Events) {
	w.Received++
	// The accepted count is one byte: never take more of one packet than
	// an ACK can say, or the BMC resends what was delivered.
	room = min(max(room, 0), MaxChars)
	ev = w.status(p.Status, now)
	switch {
	case p.AckSeq == 0:
	case p.AckSeq == w.seq:
		if p.Status&StatusNack != 0 {
			ev |= EvNacked
		}
		w.acked(int(p.Accepted), p.Status&StatusNack != 0, now)
	case p.AckSeq == w.heldFor && p.Status&StatusNack == 0 && now.Before(w.holdUntil):
		// The BMC ACKs the refused packet again, NACK clear: its buffer
		// has room now (ipmi_sim says so when its buffer drains). Go on
		// without waiting out the hold; the back-off is not reset.
		w.holdUntil, w.heldFor = time.Time{}, 0
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
		// the BMC sends the rest under a new number (ipmi_sim does), so
		// taking it from this copy too would deliver it twice.
		if w.inAcc == w.inLen && len(p.Data) > w.inAcc && room > 0 && w.inAcc < MaxChars {
			deliver = p.Data[w.inAcc:min(len(p.Data), w.inAcc+room, MaxChars)]
			w.inAcc += len(deliver)
			w.inLen = len(p.Data)
		}
		w.queueAck(p.Seq, min(w.inAcc, len(p.Data)))
		return deliver, ev
	case p.Seq == w.inPrev || p.Seq == w.inPrev2:
		// A stale copy of an older packet (reordered or duplicated in the
		// network): its data was delivered; ACK it, harmlessly, again.
		// The count is what was accepted then.
		w.Stale++
		acc := w.prevAcc
		if p.Seq != w.inPrev {
			acc = w.prev2Acc
		}
		w.queueAck(p.Seq, min(acc, len(p.Data)))
		return nil, ev
	}
	// A new packet. A deferred one it replaces was given up by the BMC, and
	// so was an older packet under the same number whose ACK has not gone
	// out: that count is not this packet's.
	w.deferred = nil
	if w.ackPending && w.ackSeq == p.Seq {
		w.ackPending = false
	}
	w.inPrev2, w.inPrev, w.inSeq = w.inPrev, w.inSeq, p.Seq
	w.prev2Acc, w.prevAcc = w.prevAcc, w.inAcc
	if room <= 0 && len(p.Data) > 0 {
		// No room: hold the ACK a little rather than NACK (after which
		// ipmi_sim stops sending) or ACK nothing (after
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
	n := min(len(w.deferred), room, MaxChars)
	d := w.deferred[:n]
	w.inAcc, w.inLen = n, len(w.deferred)
	w.queueAck(w.deferredSeq, n)
	w.deferred = nil
	return d
}

func (w *Window) queueAck(seq byte, n int) {
	w.ackPending, w.ackSeq, w.ackCount = true, seq, byte(min(n, 255))
}

// status turns the status bits into events. Host off/on are states,
// reported when they change. BREAK and overrun are reported when the bit is
// newly set (a BMC repeats it on every packet until its data is ACKed), and
// at most once per StatusHoldoff.
func (w *Window) status(st byte, now time.Time) Events {
	var ev Events
	off := st&StatusUnavailable != 0
	if off && !w.hostOff {
		ev |= EvHostOff
	} else if !off && w.hostOff {
		ev |= EvHostOn
	}
	w.hostOff = off
	if edge(st&StatusBreak != 0, &w.brkBit, &w.brkAt, now) {
		ev |= EvBreak
	}
	if edge(st&StatusOverrun != 0, &w.ovrBit, &w.ovrAt, now) {
		ev |= EvOverrun
	}
	if st&StatusDeactivating != 0 {
		ev |= EvDeactivating
	}
	return ev
}

// edge reports a status bit newly set, at most once per StatusHoldoff.
func edge(set bool, last *bool, at *time.Time, now time.Time) bool {
	rise := set && !*last
	*last = set
	if !rise || (!at.IsZero() && now.Sub(*at) < StatusHoldoff) {
		return false
	}
	*at = now
	return true
}

// acked ends the sequence number in flight. Any answer ends it: a BMC that
// has seen a sequence number treats it as a duplicate from then on, so the
// unaccepted rest goes first in the next packet, under a new number.
//
// An answer that takes nothing of what was offered (0 accepted, or a NACK
// without a count) says the BMC's buffer is full: the next packet waits,
// firstHold at first and twice as long each time up to MaxRTO, until the
// BMC takes something again. A NACK that took part holds the next packet
// firstHold, once. A hold ends early when the BMC ACKs the refused packet
// again with NACK clear.
func (w *Window) acked(accepted int, nack bool, now time.Time) {
	if w.tries == 1 {
		w.sample(now.Sub(w.sentAt))
	}
	n := min(accepted, w.inflight)
	offered := w.inflight > 0 || w.brkFlight
	w.out = w.out[:copy(w.out, w.out[n:])]
	brkTaken := false
	if w.brkFlight && (!nack || accepted > 0) {
		w.brkFlight, brkTaken = false, true
	} else if w.brkFlight {
		w.brk, w.brkFlight = true, false
	}
	seq := w.seq
	w.seq, w.inflight, w.tries, w.openFlight, w.heldFor = 0, 0, 0, false, 0
	if nack {
		w.Nacks++
	}
	switch progress := n > 0 || brkTaken; {
	case !progress && (nack || offered):
		w.Refused++
		w.stallWait = min(max(2*w.stallWait, w.firstHold()), w.MaxRTO)
		w.holdUntil, w.heldFor = now.Add(w.stallWait), seq
		w.lastRefuse = RefusedZero
		if nack {
			w.lastRefuse = RefusedNack
		}
	case progress:
		w.stallWait, w.lastRefuse = 0, RefusedNone
		w.holdUntil = time.Time{}
		if nack {
			w.holdUntil, w.heldFor = now.Add(w.firstHold()), seq
		}
		w.waitSince = time.Time{}
		if len(w.out) > 0 || w.brk {
			w.waitSince = now
		}
	default: // the opening packet, answered
		w.holdUntil = time.Time{}
	}
}

// firstHold is the first wait after the BMC took nothing: a round trip, at
// least 1 ms and at most MinRTO (MinRTO before the first RTT sample). A
// buffer on the BMC's side drains at the serial line's speed, which a round
// trip on a LAN outpaces; doubling from there keeps the number of packets
// sent to a BMC that never takes anything to a few dozen per minute.
func (w *Window) firstHold() time.Duration {
	if w.srtt == 0 {
		return w.MinRTO
	}
	return min(max(w.srtt, time.Millisecond), w.MinRTO)
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
	if w.openFlight && !now.Before(w.firstSent.Add(OpeningWait)) {
		// No answer to the opening packet: give its number up. The next
		// packet reuses it; a BMC that did see it ACKs that as a duplicate
		// accepting nothing, and the data goes again under the next number.
		w.seq, w.tries, w.openFlight = 0, 0, false
		w.lastSeq = prevSeq(w.lastSeq)
	}
	if w.waitSince.IsZero() && (len(w.out) > 0 || w.brk) {
		w.waitSince = now
	}
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
	case w.seq == 0 && w.opening && !now.Before(w.holdUntil):
		w.lastSeq = nextSeq(w.lastSeq)
		w.seq = w.lastSeq
		w.opening, w.openFlight = false, true
		p = Packet{Seq: w.seq}
		w.tries = 1
		w.sentAt, w.firstSent = now, now
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
		if w.openFlight {
			earliest(w.firstSent.Add(OpeningWait))
		}
	} else if (len(w.out) > 0 || w.brk || w.opening) && !w.holdUntil.IsZero() {
		earliest(w.holdUntil)
	}
	if w.deferred != nil {
		earliest(w.deferredAt.Add(deferAckFor))
	}
	return t
}
