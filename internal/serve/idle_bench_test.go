//go:build unix

package serve

import (
	"os"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// BenchmarkIdleConsoles: 1,000 consoles attached to simulated BMCs in
// memory (a fakebmctest rack, idle hosts), the engine's default keepalive
// and timeout, left alone for IDLE_SECONDS (default 30) of real time. It
// reports the CPU (user+system, of this process: the consoles and the
// simulated BMCs both) per console per second of idle time:
//
//	go test -run '^$' -bench IdleConsoles -benchtime 1x ./internal/serve/
//	IDLE_CPUPROFILE=/tmp/idle.out go test -run '^$' -bench IdleConsoles -benchtime 1x ./internal/serve/
//
// The real process alone (without the BMCs) is scripts/bench/fleet.sh's.
func BenchmarkIdleConsoles(b *testing.B) {
	idle := 30 * time.Second
	if s := os.Getenv("IDLE_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		idle = time.Duration(n) * time.Second
	}
	const n = 1000
	for b.Loop() {
		b.StopTimer()
		r := newRigStopped(b, n)
		for _, c := range r.cfg.Consoles {
			c.Keepalive, c.Timeout = 0, 0 // the engine's defaults, as in production
		}
		r.start()
		for _, name := range r.fleet.Names() {
			awaitState(b, r.fleet.Console(name), console.StateAttached)
		}
		time.Sleep(5 * time.Second) // the connection storm ends: measure the steady state
		b.StartTimer()
		stop := idleProfile(b)
		u0, t0 := cpuTime(b), time.Now()
		time.Sleep(idle)
		u1, t1 := cpuTime(b), time.Now()
		stop()
		b.ReportMetric(float64(u1-u0)/n/t1.Sub(t0).Seconds(), "ns/console/s")
		b.ReportMetric(100*float64(u1-u0)/float64(t1.Sub(t0)), "%core")
	}
}

// idleProfile writes a CPU profile of the idle time alone to the file
// IDLE_CPUPROFILE names (-cpuprofile would mostly show the connection storm).
func idleProfile(b *testing.B) (stop func()) {
	path := os.Getenv("IDLE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
