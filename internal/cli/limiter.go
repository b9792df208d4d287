package cli

import (
	"fmt"
	"time"
)

// noteKind groups notes that a broken BMC can repeat on every packet.
type noteKind int

const (
	kindPower   noteKind = iota + 1 // host power / serial port available or not
	kindBreak                       // BREAK from the host
	kindOverrun                     // the BMC dropped host output
	kindInput                       // the BMC accepts console input or not
)

func (k noteKind) label() string {
	switch k {
	case kindPower:
		return "host power or serial port changes"
	case kindBreak:
		return "BREAKs from the host"
	case kindOverrun:
		return "overruns (the BMC dropped host output)"
	case kindInput:
		return "changes in whether the BMC accepts input"
	}
	return fmt.Sprintf("notes of kind %d", int(k))
}

// noteWindow is the rate limit: per kind, the first note at once, then at
// most one summary line per noteWindow while the kind keeps repeating.
const noteWindow = 10 * time.Second

// noteLimiter rate-limits notes per kind, without I/O: the caller asks
// whether to print now, and at Deadline collects the summaries that are due.
type noteLimiter struct {
	window time.Duration
	kinds  map[noteKind]*noteBurst
}

type noteBurst struct {
	start      time.Time // of the current window
	suppressed int       // notes held back in it
	last       string    // the last one held back
}

// noteSummary says how many notes of a kind were held back.
type noteSummary struct {
	kind  noteKind
	count int
	span  time.Duration
	last  string
}

func (s noteSummary) String() string {
	return fmt.Sprintf("%d more %s in the last %v; the last: %s", s.count, s.kind.label(), s.span.Round(100*time.Millisecond), s.last)
}

func newNoteLimiter(window time.Duration) *noteLimiter {
	return &noteLimiter{window: window, kinds: map[noteKind]*noteBurst{}}
}

// allow reports whether a note of kind k, text msg, is printed now; if not,
// it is counted for the next summary.
func (l *noteLimiter) allow(k noteKind, msg string, now time.Time) bool {
	b := l.kinds[k]
	if b == nil || now.Sub(b.start) >= l.window && b.suppressed == 0 {
		l.kinds[k] = &noteBurst{start: now}
		return true
	}
	b.suppressed++
	b.last = msg
	return false
}

// due returns the summaries whose window has ended and starts the next
// window for each; a kind whose window passed quietly is forgotten, so its
// next note prints at once.
func (l *noteLimiter) due(now time.Time) []noteSummary {
	var out []noteSummary
	for _, k := range []noteKind{kindPower, kindBreak, kindOverrun, kindInput} {
		b := l.kinds[k]
		if b == nil || now.Sub(b.start) < l.window {
			continue
		}
		if b.suppressed == 0 {
			delete(l.kinds, k)
			continue
		}
		out = append(out, noteSummary{kind: k, count: b.suppressed, span: now.Sub(b.start), last: b.last})
		l.kinds[k] = &noteBurst{start: now}
	}
	return out
}

// flush returns every summary still pending, at the end.
func (l *noteLimiter) flush(now time.Time) []noteSummary {
	var out []noteSummary
	for _, k := range []noteKind{kindPower, kindBreak, kindOverrun, kindInput} {
		if b := l.kinds[k]; b != nil && b.suppressed > 0 {
			out = append(out, noteSummary{kind: k, count: b.suppressed, span: now.Sub(b.start), last: b.last})
		}
	}
	clear(l.kinds)
	return out
}

// deadline is when due next has something to do; zero if never.
func (l *noteLimiter) deadline() time.Time {
	var t time.Time
	for _, b := range l.kinds {
		if e := b.start.Add(l.window); t.IsZero() || e.Before(t) {
			t = e
		}
	}
	return t
}
