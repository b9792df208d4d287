package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// Each event's note is said once, by the copier or, for what the copier
// has not reached when the owner takes over, by the owner, in order; the
// subscription's Missed events count the events it lost.
func TestStreamNotesSaidOnce(t *testing.T) {
	evs := make([]console.Event, 6)
	for i := range evs {
		evs[i] = console.Event{Kind: console.HostOff}
		if i%2 == 1 {
			evs[i].Kind = console.HostOn
		}
	}
	for _, tc := range []struct {
		name       string
		copier     int   // events the copier takes before the owner takes over
		owner      []int // events the owner gets (-n: a Missed for n events)
		ownerFirst bool  // the owner gets them before the copier takes its own
		later      []int // events the owner gets after taking over
		want       int   // notes, each once, in order
	}{
		{name: "copier ahead", copier: 4, owner: []int{0, 1, 2}, later: []int{3, 4, 5}, want: 6},
		{name: "owner ahead", copier: 2, owner: []int{0, 1, 2, 3, 4}, ownerFirst: true, want: 5},
		{name: "owner ahead, then the rest", copier: 1, owner: []int{0, 1, 2}, ownerFirst: true, later: []int{3}, want: 4},
		{name: "missed", copier: 3, owner: []int{0, -2, 3}, later: []int{4}, want: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &stuckWriter{release: make(chan struct{}), entered: make(chan struct{}, 1)}
			close(w.release)
			f := &frontend{msgs: newMessenger(w, "\n"), notes: &streamNotes{}}
			defer f.msgs.stop()
			copier := func() {
				for i := range tc.copier {
					if !f.copierSays(evs[i]) {
						t.Fatalf("copier refused event %d before the owner took over", i)
					}
				}
			}
			owner := func(list []int) {
				for _, i := range list {
					ev := evs[max(i, 0)]
					if i < 0 {
						ev = console.Event{Kind: console.Missed, Count: -i}
					}
					if f.ownerNote(ev) {
						f.say("%s", ev.String())
					}
				}
			}
			if tc.ownerFirst {
				owner(tc.owner)
				copier()
			} else {
				copier()
				owner(tc.owner)
			}
			f.takeOverNotes()
			owner(tc.later)
			if f.copierSays(evs[0]) {
				t.Error("the copier still says notes after the owner took over")
			}
			if !f.msgs.flush(time.Second) {
				t.Fatal("messages not written")
			}
			got := w.String()
			if n := strings.Count(got, "\n"); n != tc.want {
				t.Errorf("%d notes said, want %d:\n%s", n, tc.want, got)
			}
			for i, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				if want := "ghmicons: " + evs[i].String(); l != want {
					t.Errorf("note %d: %q, want %q", i, l, want)
				}
			}
		})
	}
}

// flush with no time left answers at once: whether all went out.
func TestMessengerFlushNow(t *testing.T) {
	w := &stuckWriter{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	m := newMessenger(w, "\n")
	defer m.stop()
	if !m.flush(0) {
		t.Error("flush(0) on an idle messenger: false")
	}
	m.print("x\n")
	<-w.entered
	if m.flush(0) {
		t.Error("flush(0) while a write is stuck: true")
	}
	close(w.release)
	if !m.flush(time.Second) {
		t.Error("flush after the write: false")
	}
}
