package console

import (
	"fmt"
	"time"
)

// The rate limit on events a broken BMC can repeat on every packet (host
// power off/on, BREAK, overrun, input stalled/resumed), and on a slow
// viewer's lag reports: per group, the first
// event at once, then at most one Suppressed summary per window while the
// group keeps repeating; a window that passes quietly resets the group. A BMC
// flapping its status bits on every packet made 4,488 notes in 5 s before
// this; now a few.

// groups are the rate-limited groups, each named by its first kind.
var groups = []EventKind{HostOff, HostBreak, Overrun, InputStalled, ReaderLagged}

// group returns the limited group of k, or 0 if k is not limited.
func group(k EventKind) EventKind {
	switch k {
	case HostOff, HostOn:
		return HostOff
	case HostBreak:
		return HostBreak
	case Overrun:
		return Overrun
	case InputStalled, InputResumed:
		return InputStalled
	case ReaderLagged:
		return ReaderLagged
	}
	return 0
}

func groupLabel(g EventKind) string {
	switch g {
	case HostOff:
		return "host power or serial port changes"
	case HostBreak:
		return "BREAKs from the host"
	case Overrun:
		return "overruns (the BMC dropped host output)"
	case InputStalled:
		return "changes in whether the BMC accepts input"
	case ReaderLagged:
		return "reports of readers falling behind"
	}
	return fmt.Sprintf("events of kind %v", g)
}

// DefaultNoteWindow is the rate limit's window.
const DefaultNoteWindow = 10 * time.Second

// limiter rate-limits events per group, without I/O: the owner asks whether
// to emit now, and at deadline collects the summaries that are due. A zero
// window lets everything through.
type limiter struct {
	window time.Duration
	bursts map[EventKind]*burst
}

type burst struct {
	start      time.Time // of the current window
	suppressed int       // events held back in it
	last       Event     // the last one held back
}

func newLimiter(window time.Duration) *limiter {
	return &limiter{window: window, bursts: map[EventKind]*burst{}}
}

// allow reports whether ev is emitted now; if not, it is counted for the
// next summary.
func (l *limiter) allow(ev Event, now time.Time) bool {
	g := group(ev.Kind)
	if g == 0 || l.window <= 0 {
		return true
	}
	b := l.bursts[g]
	if b == nil || now.Sub(b.start) >= l.window && b.suppressed == 0 {
		l.bursts[g] = &burst{start: now}
		return true
	}
	b.suppressed++
	b.last = ev
	return false
}

// due returns the summaries whose window has ended and starts the next
// window for each; a group whose window passed quietly is forgotten, so its
// next event goes out at once.
func (l *limiter) due(now time.Time) []Event {
	var out []Event
	for _, g := range groups {
		b := l.bursts[g]
		if b == nil || now.Sub(b.start) < l.window {
			continue
		}
		if b.suppressed == 0 {
			delete(l.bursts, g)
			continue
		}
		out = append(out, b.summary(g, now))
		l.bursts[g] = &burst{start: now}
	}
	return out
}

// flush returns every summary still pending, at the end.
func (l *limiter) flush(now time.Time) []Event {
	var out []Event
	for _, g := range groups {
		if b := l.bursts[g]; b != nil && b.suppressed > 0 {
			out = append(out, b.summary(g, now))
		}
	}
	clear(l.bursts)
	return out
}

func (b *burst) summary(g EventKind, now time.Time) Event {
	last := b.last
	return Event{Kind: Suppressed, Time: now, Of: g, Count: b.suppressed, Span: now.Sub(b.start), Last: &last}
}

// deadline is when due next has something to do; zero if never.
func (l *limiter) deadline() time.Time {
	var t time.Time
	for _, b := range l.bursts {
		if e := b.start.Add(l.window); t.IsZero() || e.Before(t) {
			t = e
		}
	}
	return t
}
