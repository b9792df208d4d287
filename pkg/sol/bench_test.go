package sol_test

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// countHost counts what it receives and can write output on demand.
type countHost struct {
	mu    sync.Mutex
	cond  *sync.Cond
	n     int
	line  *fakebmc.Line
	ready chan struct{}
}

func (h *countHost) Run(line *fakebmc.Line, done <-chan struct{}) {
	h.line = line
	close(h.ready)
	buf := make([]byte, 64<<10)
	for {
		n, err := line.Read(buf)
		if err != nil {
			return
		}
		h.mu.Lock()
		h.n += n
		h.cond.Broadcast()
		h.mu.Unlock()
	}
}

func (h *countHost) wait(n int) {
	h.mu.Lock()
	for h.n < n {
		h.cond.Wait()
	}
	h.mu.Unlock()
}

// benchConsole attaches a console over UDP loopback to a BMC whose host
// counts (a recording host would keep every byte of every iteration).
func benchConsole(b *testing.B) (*countHost, *sol.Stream) {
	h := &countHost{ready: make(chan struct{})}
	h.cond = sync.NewCond(&h.mu)
	bmc := fakebmctest.New(b, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: h}}, fakebmctest.UDP(""))
	cfg := admin
	cfg.CipherSuites = []uint8{17}
	st, err := sol.Activate(context.Background(), bmc.Session(b, cfg), sol.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	<-h.ready
	return h, st
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// BenchmarkOutput: host → console throughput over UDP loopback, suite 17,
// against the simulated BMC (both sides in this process: allocs/packet
// counts both).
func BenchmarkOutput(b *testing.B) {
	h, st := benchConsole(b)
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte('a' + i%26)
	}
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	p0, m0 := st.Stats().PacketsReceived, mallocs()
	for range b.N {
		go h.line.Write(chunk)
		if _, err := io.ReadFull(st, buf[:0]); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(chunk); {
			n, err := st.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
	b.StopTimer()
	pk := st.Stats().PacketsReceived - p0
	b.ReportMetric(float64(mallocs()-m0)/float64(pk), "allocs/packet")
}

// BenchmarkInput: console → host throughput.
func BenchmarkInput(b *testing.B) {
	h, st := benchConsole(b)
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	p0, m0 := st.Stats().PacketsSent, mallocs()
	total := 0
	for range b.N {
		if _, err := st.Write(chunk); err != nil {
			b.Fatal(err)
		}
		total += len(chunk)
		h.wait(total)
	}
	b.StopTimer()
	pk := st.Stats().PacketsSent - p0
	b.ReportMetric(float64(mallocs()-m0)/float64(pk), "allocs/packet")
}

// BenchmarkKeystroke: time from Write of one keystroke (nothing in flight)
// to its datagram handed to the kernel, i.e. Write's return; then the ACK is
// awaited so that the next keystroke again finds nothing in flight.
func BenchmarkKeystroke(b *testing.B) {
	h, st := benchConsole(b)
	key := []byte{'k'}
	var wire time.Duration
	for i := range b.N {
		t0 := time.Now()
		if _, err := st.Write(key); err != nil {
			b.Fatal(err)
		}
		wire += time.Since(t0)
		h.wait(i + 1)
		if err := st.Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(wire.Nanoseconds())/float64(b.N), "ns-to-wire")
}
