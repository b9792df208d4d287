package cli

import (
	"strings"
	"testing"
	"time"
)

func TestNoteLimiter(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	l := newNoteLimiter(10 * time.Second)

	// The first note of a kind prints at once; the rest of its window is
	// counted, per kind.
	if !l.allow(kindPower, "off", at(0)) {
		t.Fatal("first power note held back")
	}
	if !l.allow(kindBreak, "break", at(time.Second)) {
		t.Fatal("first break note held back: kinds are separate")
	}
	for i := range 57 {
		if l.allow(kindPower, map[bool]string{true: "on", false: "off"}[i%2 == 0], at(time.Duration(i+1)*100*time.Millisecond)) {
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
	if len(s) != 1 || s[0].kind != kindPower || s[0].count != 57 || s[0].last != "on" {
		t.Fatalf("summaries %+v, want 57 power changes, the last on", s)
	}
	if txt := s[0].String(); !strings.Contains(txt, "57 more host power or serial port changes in the last 10s") {
		t.Errorf("summary text %q", txt)
	}
	if s := l.due(at(11 * time.Second)); len(s) != 0 {
		t.Errorf("break window ended quietly, yet summaries: %v", s)
	}
	// Still flapping: the next window is counted too, at most one line per
	// window.
	if l.allow(kindPower, "off", at(12*time.Second)) {
		t.Error("power note printed while the kind keeps repeating")
	}
	if !l.allow(kindBreak, "break", at(12*time.Second)) {
		t.Error("break after a quiet window held back")
	}
	if s := l.due(at(20 * time.Second)); len(s) != 1 || s[0].count != 1 {
		t.Errorf("second window: %+v, want one summary of 1", s)
	}
	// A quiet window: the kind prints at once again.
	if s := l.due(at(30 * time.Second)); len(s) != 0 {
		t.Errorf("quiet window, yet summaries: %v", s)
	}
	if !l.allow(kindPower, "on", at(31*time.Second)) {
		t.Error("power note after a quiet window held back")
	}
	// flush returns what is pending, then nothing.
	l.allow(kindPower, "off", at(32*time.Second))
	if s := l.flush(at(33 * time.Second)); len(s) != 1 || s[0].span != 2*time.Second {
		t.Errorf("flush %+v, want one summary over 2s", s)
	}
	if !l.deadline().IsZero() {
		t.Error("deadline after flush")
	}
}
