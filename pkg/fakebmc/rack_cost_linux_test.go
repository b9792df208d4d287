package fakebmc_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// rackCost is what a rack of n BMCs costs, per BMC.
type rackCost struct {
	n                 int
	rss, heap, stack  float64       // bytes per BMC: VmRSS, heap in use, goroutine stacks
	idleCPU           time.Duration // CPU per BMC per second of idleness
	goroutines        float64       // per BMC
	start, powerTotal time.Duration // starting the rack; power status from every BMC in turn
}

func (c rackCost) String() string {
	return fmt.Sprintf("%d BMCs: RSS %.1f KiB/BMC (heap %.1f KiB, stacks %.1f KiB), %.1f goroutines/BMC, idle CPU %v per BMC per s, start %v, power status from each in turn %v (%v each)",
		c.n, c.rss/1024, c.heap/1024, c.stack/1024, c.goroutines, c.idleCPU, c.start.Round(time.Millisecond),
		c.powerTotal.Round(time.Millisecond), (c.powerTotal / time.Duration(c.n)).Round(time.Microsecond))
}

// vmRSS is the process's resident set from /proc/self/status.
func vmRSS(t testing.TB) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return float64(kb) * 1024
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureRack starts n BMCs with the demo host (the CLI's default) on
// consecutive ports from base, lets them boot, measures them idle over
// window, and asks each for its power status in turn.
func measureRack(t testing.TB, n, base int, window time.Duration) rackCost {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0, g0 := vmRSS(t), runtime.NumGoroutine()
	r := fakebmc.NewRack()
	defer r.Close()
	t0 := time.Now()
	for i := range n {
		cfg := fakebmc.Config{ReceiveBuffer: 4096, SOL: fakebmc.SOLConfig{Host: &fakebmc.DemoHost{LineDelay: time.Millisecond}}}
		if _, err := r.Add(fakebmc.RackBMC{Name: fmt.Sprintf("bmc%d", i+1), Listen: fmt.Sprintf("127.0.0.1:%d", base+i), Config: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	c := rackCost{n: n, start: time.Since(t0)}
	// The demo hosts print their boot log (20 lines, 1 ms apart) into
	// the history; this pause is the measurement's settling time, not
	// synchronisation: nothing below depends on the boot having ended.
	time.Sleep(200 * time.Millisecond)
	cpu0 := cpuTime(t)
	time.Sleep(window)
	c.idleCPU = (cpuTime(t) - cpu0) / time.Duration(n) * time.Second / window
	runtime.GC()
	runtime.ReadMemStats(&m1)
	c.rss = (vmRSS(t) - rss0) / float64(n)
	c.heap = float64(int64(m1.HeapInuse)-int64(m0.HeapInuse)) / float64(n)
	c.stack = float64(int64(m1.StackInuse)-int64(m0.StackInuse)) / float64(n)
	c.goroutines = float64(runtime.NumGoroutine()-g0) / float64(n)
	cfg := fakebmctest.Admin()
	cfg.CipherSuites = []uint8{17}
	t1 := time.Now()
	for _, m := range r.Members() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := ipmi.Dial(ctx, "udp", m.Addr(), cfg)
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", m.Name, err)
		}
		st, err := s.ChassisStatus(ctx)
		s.Close()
		cancel()
		if err != nil || !st.PowerOn {
			t.Fatalf("%s: power status %+v, %v", m.Name, st, err)
		}
	}
	c.powerTotal = time.Since(t1)
	return c
}

// TestRackThousandIsCheap: 1,000 BMCs in one process cost little memory
// each and no CPU while idle, and each answers a power status. Ports
// 21000-21999.
func TestRackThousandIsCheap(t *testing.T) {
	c := measureRack(t, 1000, 21000, time.Second)
	t.Log(c)
	if c.rss > 256<<10 {
		t.Errorf("RSS %.0f KiB per BMC, want under 256 KiB", c.rss/1024)
	}
	// Idle means parked: allow the runtime's own housekeeping, a few
	// microseconds per BMC per second at most (50 ms/s for the rack).
	if c.idleCPU > 50*time.Microsecond {
		t.Errorf("idle CPU %v per BMC per second, want under 50µs", c.idleCPU)
	}
	if c.goroutines > 4 {
		t.Errorf("%.1f goroutines per BMC, want at most 4", c.goroutines)
	}
}

// BenchmarkRackThousand reports the figures of TestRackThousandIsCheap as
// metrics (go test -run - -bench RackThousand -benchtime 1x ./pkg/fakebmc).
func BenchmarkRackThousand(b *testing.B) {
	for range b.N {
		c := measureRack(b, 1000, 21000, 2*time.Second)
		b.ReportMetric(c.rss/1024, "KiB-RSS/BMC")
		b.ReportMetric(c.heap/1024, "KiB-heap/BMC")
		b.ReportMetric(float64(c.idleCPU.Nanoseconds())/1000, "µs-idle-CPU/BMC/s")
		b.ReportMetric(float64(c.powerTotal.Microseconds())/float64(c.n), "µs/power-status")
		b.Log(c)
	}
}
