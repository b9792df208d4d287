package fakebmctest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// Host is a recording fakebmc.Host: it keeps every byte of console input it
// receives, counts the BREAKs consoles send, echoes the input back if Echo
// is set, and writes what the test gives it (Write, SendBreak) as host
// output. A test waits on it with Await and WaitInput (input), AwaitBreaks
// and WaitBreaks. It is safe for concurrent use.
//
// One Host serves one BMC at a time; it may serve another after that one
// closed (a BMC restarted), keeping what it recorded.
type Host struct {
	// Echo sends console input back as host output, as fakebmc.EchoHost
	// does. Set it before the BMC starts.
	Echo bool

	mu      sync.Mutex
	in      []byte
	breaks  int
	line    *fakebmc.Line
	changed chan struct{} // closed, and replaced, when in or breaks change
	ready   chan struct{} // closed once Run has been called
	once    sync.Once
}

// NewHost returns a recording host without echo, for Config.SOL.Host
// (New makes one itself when Config.SOL.Host is nil).
func NewHost() *Host {
	return &Host{changed: make(chan struct{}), ready: make(chan struct{})}
}

// Run implements fakebmc.Host.
func (h *Host) Run(line *fakebmc.Line, done <-chan struct{}) {
	h.mu.Lock()
	h.line = line
	h.mu.Unlock()
	h.once.Do(func() { close(h.ready) })
	go func() {
		for {
			select {
			case <-line.Breaks():
				h.mu.Lock()
				h.breaks++
				h.wake()
				h.mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, err := line.Read(buf)
		if err != nil {
			return
		}
		h.mu.Lock()
		h.in = append(h.in, buf[:n]...)
		h.wake()
		h.mu.Unlock()
		if h.Echo {
			if _, err := line.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

// wake tells waiters something changed; h.mu held.
func (h *Host) wake() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// Line returns the BMC's end of the serial line, once the BMC has started
// the host (at once after New).
func (h *Host) Line() *fakebmc.Line {
	<-h.ready
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.line
}

// Write sends p as host output. It blocks while the BMC's output buffer is
// full and a console is attached (a console that does not read holds the
// host back, as flow control would), and fails once the BMC has closed.
func (h *Host) Write(p []byte) (int, error) { return h.Line().Write(p) }

// SendBreak sends a BREAK from the host to the console.
func (h *Host) SendBreak() { h.Line().SendBreak() }

// Input returns the console input received so far.
func (h *Host) Input() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]byte(nil), h.in...)
}

// Breaks returns how many BREAKs consoles have sent.
func (h *Host) Breaks() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.breaks
}

// wait waits until check (called with h.mu held) holds, at most d (no bound
// if d <= 0), and reports whether it held.
func (h *Host) wait(d time.Duration, check func() bool) bool {
	var expired <-chan time.Time
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		expired = timer.C
	}
	for {
		h.mu.Lock()
		ok, changed := check(), h.changed
		h.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-expired:
			h.mu.Lock()
			defer h.mu.Unlock()
			return check()
		}
	}
}

// Await waits until cond holds for the input received so far, at most d
// (no bound if d <= 0), and returns the input then and whether cond held.
// cond is called again at each read; it must not keep or change the slice.
func (h *Host) Await(d time.Duration, cond func(in []byte) bool) ([]byte, bool) {
	ok := h.wait(d, func() bool { return cond(h.in[:len(h.in):len(h.in)]) })
	return h.Input(), ok
}

// WaitInput waits until at least n bytes of input have arrived, within d,
// fails the test otherwise, and returns the input.
func (h *Host) WaitInput(t testing.TB, d time.Duration, n int) []byte {
	t.Helper()
	in, ok := h.Await(d, func(in []byte) bool { return len(in) >= n })
	if !ok {
		t.Fatalf("the host got %d bytes of console input within %v, want %d; last: %s", len(in), d, n, tail(in))
	}
	return in
}

// AwaitBreaks waits until consoles have sent at least n BREAKs, at most d
// (no bound if d <= 0), and reports whether they have.
func (h *Host) AwaitBreaks(d time.Duration, n int) bool {
	return h.wait(d, func() bool { return h.breaks >= n })
}

// WaitBreaks is AwaitBreaks that fails the test if the BREAKs do not come.
func (h *Host) WaitBreaks(t testing.TB, d time.Duration, n int) {
	t.Helper()
	if !h.AwaitBreaks(d, n) {
		t.Fatalf("the host got %d BREAKs within %v, want %d", h.Breaks(), d, n)
	}
}

// tail quotes the end of b for a failure message.
func tail(b []byte) string {
	const keep = 64
	if len(b) > keep {
		return fmt.Sprintf("…%q", b[len(b)-keep:])
	}
	return fmt.Sprintf("%q", b)
}
