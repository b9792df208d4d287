package console

import (
	"errors"
	"io"
	"testing"
)

// Poll never waits; Ready says when to poll again.
func TestReaderPollAndReady(t *testing.T) {
	h := newHub(1 << 10)
	r := h.newReader(ReaderConfig{Name: "viewer", Lossy: true})
	if c, ok, err := r.Poll(); ok || err != nil {
		t.Fatalf("empty reader: Poll = %+v, %v, %v; want nothing queued", c, ok, err)
	}
	select {
	case <-r.Ready():
		t.Fatal("Ready before any output")
	default:
	}
	h.publish([]byte("ab"))
	h.publish([]byte("c"))
	select {
	case <-r.Ready():
	default:
		t.Fatal("Ready not signalled after output")
	}
	c, ok, err := r.Poll()
	if !ok || err != nil || string(c.Data) != "abc" {
		t.Fatalf("Poll = %q, %v, %v; want the output so far", c.Data, ok, err)
	}
	if _, ok, err := r.Poll(); ok || err != nil {
		t.Fatalf("drained reader: Poll = %v, %v; want nothing queued", ok, err)
	}
	h.publish([]byte("d"))
	h.end(nil)
	if c, ok, err := r.Poll(); !ok || string(c.Data) != "d" {
		t.Fatalf("after end: Poll = %q, %v, %v; want what was queued first", c.Data, ok, err)
	}
	if _, ok, err := r.Poll(); ok || !errors.Is(err, io.EOF) {
		t.Fatalf("ended and drained: Poll = %v, %v; want io.EOF", ok, err)
	}
	r2 := h.newReader(ReaderConfig{Name: "late", Replay: true})
	_ = r2.Close()
	if _, _, err := r2.Poll(); !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("closed reader: Poll error %v, want ErrReaderClosed", err)
	}
}

// Output wakes the lossless readers (logs) before the lossy ones (people
// watching): the scheduler runs the goroutine woken last first, so the
// viewer's echo does not wait for the log write.
func TestPublishWakesViewersLast(t *testing.T) {
	h := newHub(1 << 10)
	var order []string
	h.onSignal = func(r *Reader) { order = append(order, r.cfg.Name) }
	h.newReader(ReaderConfig{Name: "viewer1", Lossy: true})
	h.newReader(ReaderConfig{Name: "log"})
	h.newReader(ReaderConfig{Name: "viewer2", Lossy: true})
	h.newReader(ReaderConfig{Name: "log2"})
	h.publish([]byte("x"))
	want := []string{"log", "log2", "viewer1", "viewer2"}
	if len(order) != len(want) {
		t.Fatalf("woken %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("woken %v, want %v", order, want)
		}
	}
}
