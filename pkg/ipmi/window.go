package ipmi

// SeqWindow checks inbound session sequence numbers. A packet is accepted
// when its number lies from 16 below to 15 above the highest number accepted
// so far (the window ipmi_sim and go-ipmi's BMC enforce: docs/bmc-quirks.md) and
// has not been accepted before; 0 is never valid. The first number accepted
// sets the window, since peers differ in where they start.
//
// Check and Accept are separate so that a caller can verify a packet's auth
// code in between: only authentic packets move the window.
type SeqWindow struct {
	highest uint32
	seen    uint32 // bit i: highest-i was accepted
	started bool
}

// Window bounds, in sequence numbers relative to the highest accepted.
const (
	WindowBehind = 16
	WindowAhead  = 15
)

// Check reports whether seq would be accepted.
func (w *SeqWindow) Check(seq uint32) bool {
	if seq == 0 {
		return false
	}
	if !w.started {
		return true
	}
	d := int32(seq - w.highest)
	switch {
	case d > 0:
		return d <= WindowAhead
	case d > -WindowBehind-1:
		return w.seen&(1<<uint(-d)) == 0
	}
	return false
}

// Accept records seq, which Check has approved.
func (w *SeqWindow) Accept(seq uint32) {
	if !w.started {
		w.started, w.highest, w.seen = true, seq, 1
		return
	}
	d := int32(seq - w.highest)
	if d > 0 {
		w.seen = w.seen<<uint(d) | 1
		w.highest = seq
		return
	}
	w.seen |= 1 << uint(-d)
}

// NextSeq returns the sequence number after s, skipping 0 on wrap.
func NextSeq(s uint32) uint32 {
	s++
	if s == 0 {
		s = 1
	}
	return s
}
