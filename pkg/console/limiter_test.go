package console

import (
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	l := newLimiter(10 * time.Second)

	// The first note of a kind prints at once; the rest of its window is
	// counted, per kind.
	ev := func(k EventKind) Event { return Event{Kind: k} }
	if !l.allow(ev(HostOff), at(0)) {
		t.Fatal("first power note held back")
	}
	if !l.allow(ev(HostBreak), at(time.Second)) {
		t.Fatal("first break note held back: kinds are separate")
	}
	for i := range 57 {
		if l.allow(ev(map[bool]EventKind{true: HostOn, false: HostOff}[i%2 == 0]), at(time.Duration(i+1)*100*time.Millisecond)) {
			t.Fatalf("power note %d printed inside the window", i+2)
		}
	}
	if got := l.deadline(); !got.Equal(at(10 * time.Second)) {
		t.Errorf("deadline %v, want the end of the power window", got)
	}
	if s := l.due(at(9 * time.Second)); len(s) != 0 {
		t.Errorf("summaries before the window ends: %v", s)
	}
	// At the end of the window: one summary for power; break, quiet since,
	// is forgotten once its own window ends.
	s := l.due(at(10 * time.Second))
	if len(s) != 1 || s[0].Kind != Suppressed || s[0].Of != HostOff || s[0].Count != 57 || s[0].Last.Kind != HostOn {
		t.Fatalf("summaries %+v, want 57 power changes, the last on", s)
	}
	if txt := s[0].String(); !strings.Contains(txt, "57 more host power or serial port changes in the last 10s; the last: host serial port available again") {
		t.Errorf("summary text %q", txt)
	}
	if s := l.due(at(11 * time.Second)); len(s) != 0 {
		t.Errorf("break window ended quietly, yet summaries: %v", s)
	}
	// Still flapping: the next window is counted too, at most one line per
	// window.
	if l.allow(ev(HostOff), at(12*time.Second)) {
		t.Error("power note printed while the kind keeps repeating")
	}
	if !l.allow(ev(HostBreak), at(12*time.Second)) {
		t.Error("break after a quiet window held back")
	}
	if s := l.due(at(20 * time.Second)); len(s) != 1 || s[0].Count != 1 {
		t.Errorf("second window: %+v, want one summary of 1", s)
	}
	// A quiet window: the kind prints at once again.
	if s := l.due(at(30 * time.Second)); len(s) != 0 {
		t.Errorf("quiet window, yet summaries: %v", s)
	}
	if !l.allow(ev(HostOn), at(31*time.Second)) {
		t.Error("power note after a quiet window held back")
	}
	// flush returns what is pending, then nothing.
	l.allow(ev(HostOff), at(32*time.Second))
	if s := l.flush(at(33 * time.Second)); len(s) != 1 || s[0].Span != 2*time.Second {
		t.Errorf("flush %+v, want one summary over 2s", s)
	}
	if !l.deadline().IsZero() {
		t.Error("deadline after flush")
	}
}

// Events outside the limited groups always pass, and a negative window
// turns the limit off.
func TestLimiterGroups(t *testing.T) {
	now := time.Now()
	l := newLimiter(10 * time.Second)
	for range 3 {
		if !l.allow(Event{Kind: Lost}, now) || !l.allow(Event{Kind: Connected}, now) {
			t.Fatal("an event outside the limited groups was held back")
		}
	}
	off := newLimiter(-1)
	for range 3 {
		if !off.allow(Event{Kind: HostOff}, now) {
			t.Fatal("held back with the limit off")
		}
	}
}
