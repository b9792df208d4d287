package fakebmctest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// Events records a BMC's events (its Config.OnEvent) as they happen and
// lets a test count them and wait for them. What it returns includes every
// event of what the BMC has done so far, as Server.Events does: an event
// of a request is in by the time its answer reaches the console. It is safe
// for concurrent use, but not from Config.OnEvent.
type Events struct {
	// barrier returns once the server has finished handling what it is
	// handling (it takes the server lock, under which events happen).
	barrier func()

	mu      sync.Mutex
	list    []fakebmc.Event // append-only: a prefix can be read without mu
	changed chan struct{}   // closed, and replaced, at each event
}

func newEvents() *Events { return &Events{barrier: func() {}, changed: make(chan struct{})} }

// add is the server's OnEvent: called with the server lock held, so it only
// records and wakes.
func (e *Events) add(ev fakebmc.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

// snapshot returns the events so far (not to be appended to) and the
// channel closed at the next one.
func (e *Events) snapshot() ([]fakebmc.Event, <-chan struct{}) {
	// The server answers a request before it records what the request
	// did (Close Session's session-close, say), all under its lock.
	e.barrier()
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.list[:len(e.list):len(e.list)], e.changed
}

// All returns every event so far, in order.
func (e *Events) All() []fakebmc.Event {
	l, _ := e.snapshot()
	return append([]fakebmc.Event(nil), l...)
}

// Of returns the events of kind so far.
func (e *Events) Of(kind fakebmc.EventKind) []fakebmc.Event {
	l, _ := e.snapshot()
	return filter(l, kind, nil)
}

func filter(l []fakebmc.Event, kind fakebmc.EventKind, detail *string) []fakebmc.Event {
	var out []fakebmc.Event
	for _, ev := range l {
		if ev.Kind == kind && (detail == nil || ev.Detail == *detail) {
			out = append(out, ev)
		}
	}
	return out
}

func count(l []fakebmc.Event, kind fakebmc.EventKind) int {
	n := 0
	for _, ev := range l {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// Count returns how many events of kind there have been.
func (e *Events) Count(kind fakebmc.EventKind) int {
	l, _ := e.snapshot()
	return count(l, kind)
}

// Times returns when each event of kind happened (fake time under
// synctest).
func (e *Events) Times(kind fakebmc.EventKind) []time.Time {
	var ts []time.Time
	for _, ev := range e.Of(kind) {
		ts = append(ts, ev.Time)
	}
	return ts
}

// Requests returns the in-session requests for the command named command,
// as ipmi.CommandName gives it ("Get Payload Instance Info"),
// retransmissions included.
func (e *Events) Requests(command string) []fakebmc.Event {
	l, _ := e.snapshot()
	return filter(l, fakebmc.EventRequest, &command)
}

// OpenSessions returns how many sessions the BMC opened and has not seen
// closed or timed out.
func (e *Events) OpenSessions() int {
	l, _ := e.snapshot()
	return count(l, fakebmc.EventSessionOpen) - count(l, fakebmc.EventSessionClose) - count(l, fakebmc.EventSessionTimeout)
}

// String lists the events but requests (there are many), for failure
// messages: " session-open(admin) activate deactivate(session ended)".
func (e *Events) String() string {
	l, _ := e.snapshot()
	var b strings.Builder
	for _, ev := range l {
		if ev.Kind == fakebmc.EventRequest {
			continue
		}
		fmt.Fprintf(&b, " %s", ev.Kind)
		if ev.Detail != "" {
			fmt.Fprintf(&b, "(%s)", ev.Detail)
		}
	}
	return b.String()
}

// Await waits until cond holds for the events so far, at most d (no bound
// if d <= 0), and reports whether it held. cond is called again at each
// event; it must not keep or change the slice.
func (e *Events) Await(d time.Duration, cond func([]fakebmc.Event) bool) bool {
	var expired <-chan time.Time
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		expired = timer.C
	}
	for {
		l, changed := e.snapshot()
		if cond(l) {
			return true
		}
		select {
		case <-changed:
		case <-expired:
			l, _ := e.snapshot()
			return cond(l)
		}
	}
}

// WaitFor waits until each of kinds has happened at least once, all within
// d, and fails the test otherwise.
func (e *Events) WaitFor(t testing.TB, d time.Duration, kinds ...fakebmc.EventKind) {
	t.Helper()
	missing := func(l []fakebmc.Event) (fakebmc.EventKind, bool) {
		for _, k := range kinds {
			if count(l, k) == 0 {
				return k, true
			}
		}
		return "", false
	}
	if e.Await(d, func(l []fakebmc.Event) bool { _, m := missing(l); return !m }) {
		return
	}
	l, _ := e.snapshot()
	k, _ := missing(l)
	t.Fatalf("the BMC saw no %q within %v; events:%s", k, d, e)
}

// WaitN waits until kind has happened at least n times within d, fails the
// test otherwise, and returns the events of kind.
func (e *Events) WaitN(t testing.TB, d time.Duration, kind fakebmc.EventKind, n int) []fakebmc.Event {
	t.Helper()
	if !e.Await(d, func(l []fakebmc.Event) bool { return count(l, kind) >= n }) {
		t.Fatalf("the BMC saw %d× %q within %v, want %d; events:%s", e.Count(kind), kind, d, n, e)
		return nil
	}
	return e.Of(kind)
}

// WaitRequest waits until the BMC has received an in-session request for
// command (as Requests names it) within d, and fails the test otherwise.
func (e *Events) WaitRequest(t testing.TB, d time.Duration, command string) {
	t.Helper()
	if !e.Await(d, func(l []fakebmc.Event) bool { return len(filter(l, fakebmc.EventRequest, &command)) > 0 }) {
		t.Fatalf("the BMC got no %q request within %v; events:%s", command, d, e)
	}
}
