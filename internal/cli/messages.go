package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// messenger writes ghmicons's own messages (notes, prompts, debug lines) to
// stderr from a goroutine of its own, so that no caller ever waits for a
// write: a stderr that nobody drains (a stopped pager) must not stop the
// console, a signal or the way out. The queue is bounded; what does not fit
// is counted and reported in one line once the writes flow again.
type messenger struct {
	w        io.Writer
	maxBytes int

	eol string // line end for the writer's own line: "\r\n" on a raw terminal

	mu      sync.Mutex // guards the fields below; never held across a write
	q       []string
	bytes   int
	dropped int
	isIdle  bool          // the queue is empty and nothing is being written
	idle    chan struct{} // closed while isIdle
	wake    chan struct{} // the writer has work
	stopped bool
}

// messageQueueBytes bounds what waits for stderr: far more than a burst of
// notes, far less than memory.
const messageQueueBytes = 256 << 10

func newMessenger(w io.Writer, eol string) *messenger {
	m := &messenger{w: w, maxBytes: messageQueueBytes, eol: eol, isIdle: true, idle: make(chan struct{}),
		wake: make(chan struct{}, 1)}
	close(m.idle)
	go m.run()
	return m
}

// print queues s; it never blocks.
func (m *messenger) print(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	if m.bytes+len(s) > m.maxBytes {
		m.dropped++
		return
	}
	if m.isIdle {
		m.isIdle = false
		m.idle = make(chan struct{})
	}
	m.q = append(m.q, s)
	m.bytes += len(s)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *messenger) run() {
	for range m.wake {
		for {
			m.mu.Lock()
			if len(m.q) == 0 && m.dropped > 0 && !m.stopped {
				m.q = append(m.q, fmt.Sprintf("ghmicons: %d messages were not shown (stderr was not taking them)%s", m.dropped, m.eol))
				m.dropped = 0
			}
			if len(m.q) == 0 {
				if !m.isIdle {
					m.isIdle = true
					close(m.idle)
				}
				m.mu.Unlock()
				break
			}
			s := m.q[0]
			m.q[0] = ""
			m.q = m.q[1:]
			m.bytes -= len(s)
			m.mu.Unlock()
			_, _ = io.WriteString(m.w, s) // nowhere to report a failing stderr
		}
	}
}

// flush waits until everything queued has been written, at most d. It
// reports whether it all went out.
func (m *messenger) flush(d time.Duration) bool {
	m.mu.Lock()
	idle := m.idle
	m.mu.Unlock()
	select {
	case <-idle:
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
		return true
	case <-t.C:
		return false
	}
}

// stop drops whatever is still queued and refuses more; the writer goroutine
// ends unless it is stuck in a write, which the process exit ends.
func (m *messenger) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	m.stopped = true
	m.q = nil
	m.bytes = 0
	close(m.wake)
}

// Write lets the messenger stand in for an io.Writer (the --debug lines); it
// never fails and never blocks.
func (m *messenger) Write(b []byte) (int, error) {
	m.print(string(b))
	return len(b), nil
}

// printBounded writes s to w, waiting at most d: for the program's last line
// (report, the final error), which must not hold up the exit when stderr
// takes nothing. It reports whether s was written.
func printBounded(w io.Writer, s string, d time.Duration) bool {
	m := newMessenger(w, "\n")
	defer m.stop()
	m.print(s)
	return m.flush(d)
}
