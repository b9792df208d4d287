//go:build unix

package cli

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

// watchBuf collects bytes written by another goroutine (a pty reader, a
// child's stdout) and lets a test wait, with a deadline, for its contents to
// satisfy a condition. Every Write wakes the waiters: no polling, no sleeps.
type watchBuf struct {
	mu      sync.Mutex
	b       []byte
	changed chan struct{} // closed and replaced on every Write
}

func newWatchBuf() *watchBuf { return &watchBuf{changed: make(chan struct{})} }

func (w *watchBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.b = append(w.b, p...)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	return len(p), nil
}

// Bytes returns a copy of what has been written so far.
func (w *watchBuf) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.b)
}

func (w *watchBuf) String() string { return string(w.Bytes()) }

// waitUntil reports whether cond held on the contents within d. cond runs
// with the buffer locked and must not keep the slice.
func (w *watchBuf) waitUntil(d time.Duration, cond func([]byte) bool) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		w.mu.Lock()
		ok := cond(w.b)
		ch := w.changed
		w.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		}
	}
}

// waitCount waits until s occurs at least n times.
func (w *watchBuf) waitCount(t *testing.T, what, s string, n int, d time.Duration) {
	t.Helper()
	if !w.waitUntil(d, func(b []byte) bool { return bytes.Count(b, []byte(s)) >= n }) {
		t.Fatalf("%s: no %d× %q within %v; have:\n%s", what, n, s, d, quoteTail(w.Bytes()))
	}
}

// waitFor waits until s appears.
func (w *watchBuf) waitFor(t *testing.T, what, s string, d time.Duration) {
	t.Helper()
	w.waitCount(t, what, s, 1, d)
}

// quoteTail shows the end of a long buffer, quoted so control bytes show.
func quoteTail(b []byte) string {
	const max = 3000
	if len(b) > max {
		return fmt.Sprintf("(%d bytes, last %d) %q", len(b), max, b[len(b)-max:])
	}
	return fmt.Sprintf("%q", b)
}
