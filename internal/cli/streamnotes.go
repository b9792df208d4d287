package cli

import (
	"context"
	"os"
	"sync"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// Notes in place. When stdout and stderr are the same file (a terminal, a
// console server's pipe, >log 2>&1), the notes on the console's events
// ("connected", "connection lost", "reconnected", ...) must be where they
// happened in the output: the owner says them as it gets them from its
// subscription while the stdout copier writes the output, and the two race,
// so that "connected" could follow the first bytes the BMC had kept for
// the console, splitting a host line. Then the stdout reader takes the
// events too (console.ReaderConfig.Events, in the stream at the point of
// the output where they happened), the copier says each one there and
// waits, bounded, for stderr to take it before it writes more output.
//
// The owner still handles every event (state, the prompt) but leaves the
// note to the copier, except for what the copier never reaches: at the way
// out, once the copier has been given its bounded time, the owner takes
// over and says the notes of the events the copier did not say. Both count
// the events: the reader and the subscription, made before the console
// starts, see the same events in the same order (the reader none after the
// end of the output), so an event's number tells who says it, and no note
// is said twice or not at all.
type streamNotes struct {
	mu     sync.Mutex
	seen   int  // events the copier has taken from the stdout reader
	handed bool // the owner says the rest

	// The owner's: the number of the next event of its subscription, and
	// the shown events it left to the copier that the copier has not
	// reached yet.
	next   int
	unsaid []numberedEvent

	stuck bool // the copier's: stderr did not take the last note in time
}

type numberedEvent struct {
	n  int
	ev console.Event
}

// sameFile reports whether stdout and stderr are the same file.
func sameFile(a, b *os.File) bool {
	if a == nil || b == nil {
		return false
	}
	if a == b {
		return true
	}
	sa, err := a.Stat()
	if err != nil {
		return false
	}
	sb, err := b.Stat()
	return err == nil && os.SameFile(sa, sb)
}

// copyOrdered is copyStdout with the events in the stream: it says each
// event's note before the output that followed the event.
func (f *frontend) copyOrdered() {
	for {
		c, err := f.out.Next(context.Background()) // Close ends it
		if err != nil {
			f.outDone <- nil
			return
		}
		if c.Event != nil {
			if !f.copierSays(*c.Event) {
				f.outDone <- nil // the owner has taken over: the way out
				return
			}
			continue
		}
		if len(c.Data) == 0 {
			continue // a gap: the reader is lossless, there is none
		}
		if _, werr := f.env.Stdout.Write(c.Data); werr != nil {
			f.out.Close()
			f.outDone <- &localIOError{what: "writing console output", err: werr}
			return
		}
		f.copied.Add(uint64(len(c.Data)))
	}
}

// copierSays says the note of the copier's next event, unless the owner has
// taken over (false), and waits for stderr to take it: at most
// messageFlushBound, and not at all while stderr takes nothing.
func (f *frontend) copierSays(ev console.Event) bool {
	s := f.notes
	s.mu.Lock()
	if s.handed {
		s.mu.Unlock()
		return false
	}
	s.seen++
	text, _, shown := f.noteText(ev)
	if shown {
		f.say("%s", text)
	}
	s.mu.Unlock()
	if shown {
		bound := messageFlushBound
		if s.stuck {
			bound = 0
		}
		s.stuck = !f.msgs.flush(bound)
	}
	return true
}

// ownerNote is the owner's part for an event of its subscription: it
// reports whether the owner says the note itself (not ordered, or the
// copier will never reach the event).
func (f *frontend) ownerNote(ev console.Event) bool {
	s := f.notes
	if s == nil {
		return true
	}
	n := s.next
	if ev.Kind == console.Missed {
		s.next += ev.Count // events the subscription lost: the copier says them
		return false
	}
	s.next++
	if _, _, shown := f.noteText(ev); !shown {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case n < s.seen:
		return false // said already
	case s.handed:
		return true
	}
	keep := s.unsaid[:0]
	for _, u := range s.unsaid {
		if u.n >= s.seen {
			keep = append(keep, u)
		}
	}
	s.unsaid = append(keep, numberedEvent{n: n, ev: ev})
	return false
}

// takeOverNotes ends the copier's part (at the way out, after its bounded
// wait): the owner says the notes the copier has not said, and all later
// ones.
func (f *frontend) takeOverNotes() {
	s := f.notes
	if s == nil {
		return
	}
	s.mu.Lock()
	s.handed = true
	var left []console.Event
	for _, u := range s.unsaid {
		if u.n >= s.seen {
			left = append(left, u.ev)
		}
	}
	s.unsaid = nil
	s.mu.Unlock()
	for _, ev := range left {
		text, _, _ := f.noteText(ev)
		f.say("%s", text)
	}
}
