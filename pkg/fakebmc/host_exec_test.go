//go:build unix

package fakebmc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// heldOpen makes a FIFO for a command to open as fd 3 (its children
// inherit it) and returns its path and a channel closed once every process
// holding it has died: end of file on a FIFO comes when its last writer is
// gone, so no polling of the process table is needed.
func heldOpen(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "held")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		f, err := os.Open(path) // blocks until the command opens it
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, f)
		f.Close()
	}()
	return path, gone
}

var startedRe = regexp.MustCompile(`started (\d+) (\d+)\r?\n`)

// groupCommand starts a background child and waits for it, both holding
// the FIFO; it prints its own process ID (its group's ID, if it leads a
// group) and the child's.
func groupCommand(fifo string) string {
	return fmt.Sprintf(`exec 3>%s; sleep 1000 & echo "started $$ $!"; wait`, fifo)
}

// startedGroup waits for groupCommand's line and returns the shell's
// process ID; the group and the child are killed at the end of the test
// whatever happened.
func startedGroup(t *testing.T, c *solClient) int {
	t.Helper()
	m, _ := c.waitRe(startedRe, 0, 10*time.Second)
	pgid, _ := strconv.Atoi(m[1])
	child, _ := strconv.Atoi(m[2])
	if pgid <= 1 || child <= 1 {
		t.Fatalf("bad process IDs in %q", m[0]) // kill(-0) would hit the test's own group
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = syscall.Kill(child, syscall.SIGKILL)
	})
	// The shell leads a group of its own, and its child is in it.
	for _, pid := range []int{pgid, child} {
		if g, err := syscall.Getpgid(pid); err != nil || g != pgid {
			t.Errorf("process %d is in group %d (%v), want %d", pid, g, err, pgid)
		}
	}
	return pgid
}

// waitGone waits for every holder of the FIFO to die. (kill(-pgid, 0)
// would also see zombies, which an init that does not reap orphans, as in
// some containers, keeps for ever.)
func waitGone(t *testing.T, gone <-chan struct{}, pgid int, when string) {
	t.Helper()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatalf("a process of the command (group %d) outlived %s", pgid, when)
	}
}

// Power off kills what the exec host's command started, not only the shell.
func TestExecHostPowerOffKillsProcessGroup(t *testing.T) {
	fifo, gone := heldOpen(t)
	_, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.ExecHost{Command: groupCommand(fifo)}}})
	c := activateSOL(t, sess)
	pgid := startedGroup(t, c)
	if err := sess.ChassisControl(context.Background(), ipmi.PowerOff); err != nil {
		t.Fatalf("power off: %v", err)
	}
	waitGone(t, gone, pgid, "power off")
}

// So does the BMC's end (fakebmc exiting closes its Server).
func TestExecHostCloseKillsProcessGroup(t *testing.T) {
	fifo, gone := heldOpen(t)
	srv, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.ExecHost{Command: groupCommand(fifo)}}})
	c := activateSOL(t, sess)
	pgid := startedGroup(t, c)
	sess.Close()
	srv.Close()
	waitGone(t, gone, pgid, "the BMC's Close")
}

// fakeAfter stands in for time.After in ExecHost: the test sees each wait
// asked for and decides when it ends.
type fakeAfter struct{ asked chan fakeTimer }

type fakeTimer struct {
	d    time.Duration
	fire chan time.Time
}

func newFakeAfter() *fakeAfter { return &fakeAfter{asked: make(chan fakeTimer, 16)} }

func (f *fakeAfter) after(d time.Duration) <-chan time.Time {
	ft := fakeTimer{d: d, fire: make(chan time.Time, 1)}
	f.asked <- ft
	return ft.fire
}

func (f *fakeAfter) next(t *testing.T) fakeTimer {
	t.Helper()
	select {
	case ft := <-f.asked:
		return ft
	case <-time.After(10 * time.Second):
		t.Fatal("the exec host did not schedule a restart")
		return fakeTimer{}
	}
}

var helloRe = regexp.MustCompile(`hello (\d+)\r?\n`)

// A command that exits on its own is started again, after a pause that
// doubles while it keeps exiting without console input (1 s, 2 s, 4 s).
func TestExecHostRestartsCommandThatExits(t *testing.T) {
	fa := newFakeAfter()
	host := fakebmc.ExecHostClock(fakebmc.ExecHost{Command: `echo "hello $$"`}, fa.after, nil)
	_, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	c := activateSOL(t, sess)
	m, off := c.waitRe(helloRe, 0, 10*time.Second)
	pids := []string{m[1]}
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		ft := fa.next(t)
		if ft.d != want {
			t.Fatalf("restart %d after %v, want %v", len(pids), ft.d, want)
		}
		ft.fire <- time.Now()
		m, off = c.waitRe(helloRe, off, 10*time.Second)
		if m[1] == pids[len(pids)-1] {
			t.Fatalf("the same process %s printed twice", m[1])
		}
		pids = append(pids, m[1])
	}
}

// A command that served console input is restarted after the shortest
// pause every time, and gets the input typed while it was being restarted.
func TestExecHostRestartAfterInputIsPrompt(t *testing.T) {
	fa := newFakeAfter()
	discarded := make(chan int, 16)
	host := fakebmc.ExecHostClock(fakebmc.ExecHost{Command: `echo "ready $$"; read x; echo "got $x"`}, fa.after,
		func(n int) { discarded <- n })
	_, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	c := activateSOL(t, sess)
	readyRe := regexp.MustCompile(`ready (\d+)\r?\n`)
	_, off := c.waitRe(readyRe, 0, 10*time.Second)
	for _, word := range []string{"one", "two", "three"} {
		c.send(word + "\n")
		_, off = c.waitRe(regexp.MustCompile("got "+word+`\r?\n`), off, 10*time.Second)
		ft := fa.next(t)
		if ft.d != time.Second {
			t.Fatalf("restart after %v although the run was given input, want 1 s", ft.d)
		}
		ft.fire <- time.Now()
		_, off = c.waitRe(readyRe, off, 10*time.Second)
	}
	// Typed while no command runs: discarded, as a getty flushes its line,
	// so that the next run reads only what is sent to it.
	c.send("early\n")
	_, off = c.waitRe(regexp.MustCompile(`got early\r?\n`), off, 10*time.Second)
	ft := fa.next(t)
	c.send("stale\n")
	select {
	case n := <-discarded:
		if n != len("stale\n") {
			t.Fatalf("discarded %d bytes, want %d", n, len("stale\n"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("input typed between runs was not discarded")
	}
	ft.fire <- time.Now()
	_, off = c.waitRe(readyRe, off, 10*time.Second)
	c.send("fresh\n")
	c.waitRe(regexp.MustCompile(`got fresh\r?\n`), off, 10*time.Second)
}

// With the real clock (and a short pause) it comes back by itself.
func TestExecHostRestartsWithRealClock(t *testing.T) {
	host := fakebmc.ExecHost{Command: `echo "hello $$"`, RestartMin: 10 * time.Millisecond}
	_, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	c := activateSOL(t, sess)
	_, off := c.waitRe(helloRe, 0, 10*time.Second)
	c.waitRe(helloRe, off, 10*time.Second)
}

// A hook command (RunShell) that outlives its context is killed with all
// it started, and says why it failed.
func TestRunShellKillsGroupWhenContextEnds(t *testing.T) {
	fifo, gone := heldOpen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	err := fakebmc.RunShell(ctx, fmt.Sprintf(`exec 3>%s; sleep 1000 & echo "$$ $!" >%s; wait`, fifo, pidFile), nil, io.Discard)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RunShell past its deadline: %v", err)
	}
	var sh, child int
	if b, err := os.ReadFile(pidFile); err == nil {
		if _, err := fmt.Sscan(string(b), &sh, &child); err == nil && sh > 1 && child > 1 {
			t.Cleanup(func() {
				_ = syscall.Kill(-sh, syscall.SIGKILL)
				_ = syscall.Kill(child, syscall.SIGKILL)
			})
		}
	}
	waitGone(t, gone, sh, "its hook's deadline")
}

// RunShell passes the environment and the exit status on.
func TestRunShellEnvAndStatus(t *testing.T) {
	var out strings.Builder
	if err := fakebmc.RunShell(context.Background(), `echo "$GHMICONS_ACTION"`, []string{"GHMICONS_ACTION=cycle"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "cycle\n" {
		t.Errorf("hook printed %q", out.String())
	}
	if err := fakebmc.RunShell(context.Background(), "exit 3", nil, io.Discard); err == nil {
		t.Error("a hook exiting 3 succeeded")
	}
}
