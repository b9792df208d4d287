package cli

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// stuckWriter blocks every Write until released, then records.
type stuckWriter struct {
	release chan struct{}
	entered chan struct{}
	mu      sync.Mutex
	got     strings.Builder
}

func (w *stuckWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.String()
}

func (w *stuckWriter) Write(b []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.Write(b)
}

// A stderr that takes nothing never holds up print; what does not fit is
// counted and said once writes flow again; flush is bounded.
func TestMessengerNeverBlocks(t *testing.T) {
	w := &stuckWriter{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	m := newMessenger(w, "\n")
	defer m.stop()
	m.print("first\n")
	<-w.entered // the writer is stuck in its first write
	line := strings.Repeat("x", 1023) + "\n"
	for range 2 * messageQueueBytes / len(line) {
		m.print(line) // returns although nothing is written
	}
	if m.flush(10 * time.Millisecond) {
		t.Fatal("flush reported success while stderr is stuck")
	}
	close(w.release)
	if !m.flush(5 * time.Second) {
		t.Fatal("flush did not complete once stderr flowed")
	}
	w.mu.Lock()
	got := w.got.String()
	w.mu.Unlock()
	if !strings.HasPrefix(got, "first\n") {
		t.Errorf("the first message is not first: %.40q", got)
	}
	if n := strings.Count(got, line); n != messageQueueBytes/len(line) {
		t.Errorf("%d queued lines written, want %d", n, messageQueueBytes/len(line))
	}
	if !strings.HasSuffix(got, "ghmicons: 256 messages were not shown (stderr was not taking them)\n") {
		t.Errorf("no count of the messages left out at the end: %q", got[max(0, len(got)-120):])
	}
}

func TestPrintBounded(t *testing.T) {
	var b strings.Builder
	if !printBounded(&b, "ghmicons: done\n", time.Second) || b.String() != "ghmicons: done\n" {
		t.Errorf("printBounded wrote %q", b.String())
	}
	w := &stuckWriter{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	defer close(w.release)
	if printBounded(w, "lost\n", 20*time.Millisecond) {
		t.Error("printBounded reported a stuck write as done")
	}
}
