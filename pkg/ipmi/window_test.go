package ipmi

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// step offers seq to the window; Accept follows a successful Check, as the
// session does once the auth code verified.
type step struct {
	seq  uint32
	want bool
}

func runWindow(t *testing.T, w *SeqWindow, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := w.Check(s.seq)
		if got != s.want {
			t.Fatalf("step %d: Check(%d = 0x%08x) = %v, want %v", i, s.seq, s.seq, got, s.want)
		}
		// Check has no side effect.
		if again := w.Check(s.seq); again != got {
			t.Fatalf("step %d: second Check(%d) = %v, first %v", i, s.seq, again, got)
		}
		if got {
			w.Accept(s.seq)
		}
	}
}

func TestSeqWindow(t *testing.T) {
	const top = 0xFFFFFFFF
	tests := []struct {
		name  string
		steps []step
	}{
		{"first packet any number", []step{{0x12345678, true}, {0x12345679, true}}},
		{"first packet 0xffffffff", []step{{top, true}, {1, true}}},
		{"first packet 1", []step{{1, true}, {2, true}}},
		{"ipmitool starts at 3", []step{{3, true}, {4, true}, {3, false}}},
		{"0 never valid", []step{{0, false}, {5, true}, {0, false}, {6, true}, {0, false}}},
		{"duplicate rejected", []step{{5, true}, {5, false}, {6, true}, {6, false}, {5, false}}},
		{"+15 accepted", []step{{100, true}, {115, true}}},
		{"+16 rejected", []step{{100, true}, {116, false}, {115, true}, {131, false}, {130, true}}},
		{"-16 accepted once", []step{{100, true}, {84, true}, {84, false}}},
		{"-17 rejected", []step{{100, true}, {83, false}, {84, true}, {83, false}}},
		// The window follows the highest accepted number.
		{"window moves", []step{{100, true}, {115, true}, {99, true}, {100, false}, {98, false}, {130, true}, {114, true}, {113, false}}},
		{"far ahead and far behind", []step{{100, true}, {100 + 0x80000000, false}, {100 + 0x7FFFFFFF, false}, {100 + 0x80000001, false}, {1, false}}},
		{"wrap skips 0", []step{{top - 1, true}, {top, true}, {0, false}, {1, true}, {2, true}, {top, false}, {top - 1, false}}},
		// Relative distances count the unused 0 like any other number.
		{"+15 across the wrap", []step{{top - 10, true}, {4, true}, {5, true}}},
		{"+16 across the wrap", []step{{top - 10, true}, {5, false}, {4, true}}},
		{"-16 across the wrap", []step{{5, true}, {top - 10, true}, {top - 11, false}, {top - 10, false}}},
		{"out of order within the window exactly once", []step{
			{10, true}, {14, true}, {12, true}, {11, true}, {13, true},
			{10, false}, {11, false}, {12, false}, {13, false}, {14, false},
			{16, true}, {15, true}, {15, false}, {16, false},
		}},
		// Seen bits survive a forward jump: 10–12 are still known after 25.
		{"seen bits shift with the window", []step{{10, true}, {11, true}, {12, true}, {25, true},
			{10, false}, {11, false}, {12, false}, {9, true}, {13, true}, {8, false}}},
		// A jump by the whole window forgets nothing that is still inside.
		{"jump of 15 keeps the bit at -15", []step{{50, true}, {65, true}, {50, false}, {49, true}, {48, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w SeqWindow
			runWindow(t, &w, tt.steps)
		})
	}
}

func TestSeqWindowLongRun(t *testing.T) {
	// Every number in order, across the wrap, is accepted once and only once.
	var w SeqWindow
	s := uint32(0xFFFFFF00)
	var last uint32
	for range 1000 {
		if !w.Check(s) {
			t.Fatalf("in-order %d rejected", s)
		}
		w.Accept(s)
		if w.Check(s) {
			t.Fatalf("%d accepted twice", s)
		}
		last, s = s, NextSeq(s)
	}
	// Steps of +15, the largest allowed, are all accepted.
	s = last
	for range 1000 {
		s += WindowAhead // far from the wrap here
		if !w.Check(s) {
			t.Fatalf("step of +15 to %d rejected", s)
		}
		w.Accept(s)
	}
}

// refWindow is the window spelled out with a set instead of a bitmap.
type refWindow struct {
	highest uint32
	seen    map[uint32]bool
	started bool
}

func (r *refWindow) check(seq uint32) bool {
	if seq == 0 {
		return false
	}
	if !r.started {
		return true
	}
	d := int64(int32(seq - r.highest))
	return d >= -WindowBehind && d <= WindowAhead && !r.seen[seq]
}

func (r *refWindow) accept(seq uint32) {
	if !r.started || int32(seq-r.highest) > 0 {
		r.highest = seq
	}
	r.started = true
	r.seen[seq] = true
}

func TestSeqWindowMatchesModel(t *testing.T) {
	for _, base := range []uint32{1, 1000, 0xFFFFFFF0, 0x7FFFFFF0} {
		t.Run(fmt.Sprintf("base 0x%08x", base), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(base), 42))
			var w SeqWindow
			ref := refWindow{seen: map[uint32]bool{}}
			cur := base
			for i := range 20000 {
				// Mostly small steps either way, so the edges ±15/16/17 are hit often.
				seq := cur + uint32(rng.IntN(40)) - 20
				if got, want := w.Check(seq), ref.check(seq); got != want {
					t.Fatalf("step %d: Check(0x%08x) = %v, model says %v (highest 0x%08x)", i, seq, got, want, ref.highest)
				}
				if ref.check(seq) {
					w.Accept(seq)
					ref.accept(seq)
					cur = ref.highest
				}
			}
		})
	}
}

func TestNextSeq(t *testing.T) {
	for _, tt := range []struct{ in, want uint32 }{
		{0, 1}, {1, 2}, {2, 3}, {0x7FFFFFFF, 0x80000000}, {0xFFFFFFFE, 0xFFFFFFFF}, {0xFFFFFFFF, 1},
	} {
		if got := NextSeq(tt.in); got != tt.want {
			t.Errorf("NextSeq(0x%08x) = 0x%08x, want 0x%08x", tt.in, got, tt.want)
		}
	}
}
