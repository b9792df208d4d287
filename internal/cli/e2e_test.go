//go:build unix

package cli

// End-to-end tests: the real ghmicons binary, built once in TestMain, run on
// a pseudo-terminal or on pipes against the simulated BMC (pkg/fakebmc)
// serving real RMCP+ over UDP loopback in this process. Every wait is
// bounded and woken by the thing it waits for; nothing sleeps.

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
)

// ghmiconsBin is the program under test, built by TestMain.
var ghmiconsBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ghmicons-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// go test puts its own GOROOT/bin first in PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		fmt.Fprintf(os.Stderr, "e2e: cannot find the module root (go env GOMOD: %q, %v)\n", gomod, err)
		return 1
	}
	ghmiconsBin = filepath.Join(dir, "ghmicons")
	args := []string{"build", "-o", ghmiconsBin}
	if raceEnabled {
		// Races in the program show as "WARNING: DATA RACE" on its stderr and
		// exit status 66.
		args = append(args, "-race")
	}
	build := exec.Command(goTool, append(args, "./cmd/ghmicons")...)
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/ghmicons: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// ---- the simulated BMC ----

// startBMC starts a simulated BMC on a fresh loopback port for this test;
// ev records its events as they happen, so a test can wait for one
// without polling.
func startBMC(t *testing.T, cfg fakebmc.Config) (srv *fakebmc.Server, ev *fakebmctest.Events) {
	t.Helper()
	b := fakebmctest.New(t, cfg, fakebmctest.UDP(""))
	return b.Server, b.Events
}

// ---- the program ----

// proc is a running ghmicons.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	stdout *watchBuf // pipe mode only
	stderr *watchBuf // pipe mode only
	stdin  io.WriteCloser
}

// ghmiconsEnv is the environment with the BMC password in IPMI_PASSWORD.
func ghmiconsEnv(password string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "IPMI_PASSWORD=") || strings.HasPrefix(kv, "IPMITOOL_PASSWORD=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "IPMI_PASSWORD="+password)
	if raceEnabled {
		// A race-enabled program otherwise waits a second before exiting 0.
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return env
}

// attachArgs are the arguments that attach to srv.
func attachArgs(addr string, extra ...string) []string {
	return append([]string{"-H", addr, "-U", "admin", "-E"}, extra...)
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting ghmicons: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// startOnPipes runs ghmicons with pipes: stdin to write, stdout and stderr
// collected.
func startOnPipes(t *testing.T, password string, args ...string) *proc {
	t.Helper()
	return startWithStdout(t, nil, password, args...)
}

// startWithStdout is startOnPipes with stdout going to f (nil: collected).
func startWithStdout(t *testing.T, f *os.File, password string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(ghmiconsBin, args...)
	cmd.Env = ghmiconsEnv(password)
	p := &proc{cmd: cmd, done: make(chan struct{}), stdout: newWatchBuf(), stderr: newWatchBuf()}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if f != nil {
		cmd.Stdout = f
	}
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = w
	p.start(t)
	return p
}

// wait waits for the program to exit and returns its exit status.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = p.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump, for the failure report
		select {
		case <-p.done:
		case <-time.After(short):
			// SIGQUIT is one of the program's own signals: stuck, it may not
			// act on it either.
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		t.Fatalf("ghmicons did not exit within %v%s", d, p.output())
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatalf("waiting for ghmicons: %v", p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) output() string {
	if p.stderr == nil {
		return ""
	}
	return fmt.Sprintf("\nstderr:\n%s\nstdout:\n%s", p.stderr, quoteTail(p.stdout.Bytes()))
}

func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

func (p *proc) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		t.Fatalf("writing %q to ghmicons: %v", s, err)
	}
}

const (
	short = 5 * time.Second  // for anything that takes milliseconds when it works
	long  = 15 * time.Second // for the bulk transfer and the BMC restart
)

// ---- 5. authentication failure ----

func TestE2EWrongPassword(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{})
	start := time.Now()
	p := startOnPipes(t, "wrong", attachArgs(srv.Addr())...)
	code := p.wait(t, short)
	if code != ExitAuth {
		t.Errorf("exit status %d, want %d%s", code, ExitAuth, p.output())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to fail, want < 5s", d)
	}
	stderr := p.stderr.String()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "ghmicons: ") {
		t.Errorf("stderr is not one line starting with \"ghmicons: \": %q", stderr)
	}
	if out := p.stdout.Bytes(); len(out) != 0 {
		t.Errorf("stdout not empty: %q", out)
	}
	if n := ev.Count("session-open"); n != 0 {
		t.Errorf("a session opened with the wrong password; events:%s", ev)
	}
}

// ---- 6. pipe mode is binary-clean ----

func TestE2EPipeBinaryClean(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{})
	in := make([]byte, 1<<20)
	if _, err := rand.Read(in); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p := startOnPipes(t, "password", attachArgs(srv.Addr())...)
	wrote := make(chan error, 1)
	go func() {
		_, err := p.stdin.Write(in)
		if cerr := p.stdin.Close(); err == nil {
			err = cerr
		}
		wrote <- err
	}()
	code := p.wait(t, long)
	if err := <-wrote; err != nil {
		t.Fatalf("writing stdin: %v", err)
	}
	t.Logf("1 MiB through the echo host and back in %v", time.Since(start).Round(time.Millisecond))
	if code != ExitOK {
		t.Errorf("exit status %d at end of input, want 0%s", code, p.output())
	}
	out := p.stdout.Bytes()
	if !bytes.Equal(out, in) {
		i := 0
		for i < len(out) && i < len(in) && out[i] == in[i] {
			i++
		}
		t.Fatalf("stdout differs from the input: %d bytes out, %d in, first difference at %d", len(out), len(in), i)
	}
	stderr := p.stderr.String()
	for _, want := range []string{"ghmicons: connected to", "ghmicons: disconnected"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q: %q", want, stderr)
		}
	}
	for _, line := range strings.SplitAfter(stderr, "\n") {
		if line != "" && (!strings.HasPrefix(line, "ghmicons: ") || !strings.HasSuffix(line, "\n")) {
			t.Errorf("stderr line not a ghmicons message: %q", line)
		}
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// ---- 7. the log ----

const hostOutput = "first line\r\nsecond line\r\n\r\nno newline at the end"

// runLogged attaches in pipe mode with --log, makes the host print
// hostOutput once it receives input, ends the session and returns the log.
func runLogged(t *testing.T, extra ...string) string {
	t.Helper()
	host := fakebmctest.NewHost()
	srv, _ := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	logFile := filepath.Join(t.TempDir(), "console.log")
	p := startOnPipes(t, "password", attachArgs(srv.Addr(), append([]string{"--log", logFile}, extra...)...)...)
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	p.write(t, "go\n")
	host.WaitInput(t, short, 1)
	if _, err := host.Write([]byte(hostOutput)); err != nil {
		t.Fatal(err)
	}
	p.stdout.waitFor(t, "host output", hostOutput, short)
	p.stdin.Close()
	// End of input waits out the BMC's retry span (over 3 s) before it quits.
	if code := p.wait(t, long); code != ExitOK {
		t.Fatalf("exit status %d, want 0%s", code, p.output())
	}
	if got := p.stdout.String(); got != hostOutput {
		t.Errorf("stdout %q, want exactly the host output %q", got, hostOutput)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestE2ELogPlain(t *testing.T) {
	log := runLogged(t)
	// Marked lines are whole lines; between them, the host output exactly.
	first, rest, ok := strings.Cut(log, "\n")
	if !ok || !strings.HasPrefix(first, "[ghmicons] connected to ") {
		t.Fatalf("the log does not start with the connected line: %q", log)
	}
	if !strings.HasPrefix(rest, hostOutput) {
		t.Fatalf("the host output is not in the log as received:\nlog  %q\nwant %q after the first line", log, hostOutput)
	}
	tail := rest[len(hostOutput):]
	// The host's last line has no newline: the note must start a line.
	if tail != "\n[ghmicons] disconnected\n" {
		t.Errorf("after the host output the log has %q, want %q", tail, "\n[ghmicons] disconnected\n")
	}
}

func TestE2ELogTimestamps(t *testing.T) {
	log := runLogged(t, "--log-timestamps")
	if !strings.HasSuffix(log, "\n") {
		t.Errorf("the log does not end with a newline: %q", log)
	}
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	var connected bool
	var text []string
	for _, l := range lines {
		stamp, rest, ok := strings.Cut(l, " ")
		if !ok {
			t.Errorf("log line without a timestamp: %q", l)
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			t.Errorf("log line does not start with an RFC 3339 timestamp: %q: %v", l, err)
			continue
		}
		if d := time.Since(ts); d < 0 || d > time.Minute {
			t.Errorf("timestamp %v is %v from now", ts, d)
		}
		if strings.HasPrefix(rest, "[ghmicons] connected to ") {
			connected = true
		}
		if !strings.HasPrefix(rest, "[ghmicons] ") {
			text = append(text, rest)
		}
	}
	if !connected {
		t.Errorf("no timestamped \"[ghmicons] connected\" line in the log:\n%s", log)
	}
	// Without the stamps and the notes, the host output is all there.
	if got, want := strings.Join(text, "\n"), hostOutput; got != want {
		t.Errorf("host output in the log %q, want %q", got, want)
	}
}

// ---- 8. reconnection across a BMC restart ----

func TestE2EReconnectAfterBMCRestart(t *testing.T) {
	bmc := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""))
	addr := bmc.Addr
	p := startOnPipes(t, "password", attachArgs(addr, "--reconnect", "--keep-open", "--keepalive", "1s",
		"--timeout", "200ms", "--retries", "1")...)
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	p.write(t, "before\n")
	p.stdout.waitFor(t, "echo before the restart", "before\n", short)

	bmc.Restart(t) // the BMC reboots: every session is gone; the same port
	p.stderr.waitFor(t, "reconnection", "reconnected", long)
	p.write(t, "after\n")
	p.stdout.waitFor(t, "echo after the restart", "after\n", short)
	if got := p.stdout.String(); got != "before\nafter\n" {
		t.Errorf("stdout %q, want %q", got, "before\nafter\n")
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d after SIGTERM, want %d%s", code, ExitSignal, p.output())
	}
	t.Logf("stderr:\n%s", p.stderr)
}

// ---- 9. leaving while the BMC does not answer (--reconnect) ----

// silentBMC is a UDP port that never answers.
func silentBMC(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// End of input while waiting to reconnect ends the program (README: "End of
// input ends the session"), with the error it was waiting on: it never
// connected, so it must not exit 0 (issue 8: it did).
func TestE2EEndOfInputWhileReconnecting(t *testing.T) {
	p := startOnPipes(t, "password", attachArgs(silentBMC(t), "--reconnect", "--timeout", "100ms", "--retries", "0")...)
	p.stderr.waitFor(t, "retry message", "cannot connect", short)
	p.stdin.Close()
	code := p.wait(t, short)
	if code != ExitUnreachable {
		t.Errorf("exit status %d, want %d%s", code, ExitUnreachable, p.output())
	}
	if out := p.stdout.Bytes(); len(out) != 0 {
		t.Errorf("stdout %q, want nothing", out)
	}
}

// Input already at its end when the first attempt fails (</dev/null):
// the same, at the first failure.
func TestE2EEndOfInputBeforeConnecting(t *testing.T) {
	p := startOnPipes(t, "password", attachArgs(silentBMC(t), "--reconnect", "--timeout", "100ms", "--retries", "0")...)
	p.stdin.Close()
	if code := p.wait(t, short); code != ExitUnreachable {
		t.Errorf("exit status %d, want %d%s", code, ExitUnreachable, p.output())
	}
	if n := strings.Count(p.stderr.String(), "no answer"); n != 1 {
		t.Errorf("the error is said %d times, want once%s", n, p.output())
	}
}
