//go:build unix

package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Scripted consoles end to end: the program against the simulated BMC with
// the demo host (a boot log that names the boot device, a login prompt, a
// small shell), over UDP loopback.

func demoBMC(t *testing.T) (*fakebmc.Server, *fakebmctest.Events) {
	t.Helper()
	return startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: &fakebmc.DemoHost{LineDelay: 2 * time.Millisecond}}})
}

// startScripted runs ghmicons with stdin at /dev/null, as a pipeline does,
// and extra variables in its environment.
func startScripted(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(ghmiconsBin, args...)
	cmd.Env = append(ghmiconsEnv("password"), env...)
	p := &proc{cmd: cmd, done: make(chan struct{}), stdout: newWatchBuf(), stderr: newWatchBuf()}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	p.start(t)
	return p
}

func TestE2EExpectPowerCyclePXELogin(t *testing.T) {
	srv, ev := demoBMC(t)
	logFile := filepath.Join(t.TempDir(), "console.log")
	p := startScripted(t, nil, attachArgs(srv.Addr(), "--log", logFile, "--bootdev", "pxe", "--power", "cycle",
		"--expect", `Boot device: pxe`, "--expect", `login: $`, "--expect-timeout", "10s")...)
	if code := p.wait(t, long); code != ExitOK {
		t.Fatalf("exit status %d, want 0%s", code, p.output())
	}
	out := p.stdout.String()
	// The boot after the cycle, from PXE, up to the prompt: the whole
	// console on stdout.
	iPXE, iLogin := strings.LastIndex(out, "PXE: DHCP"), strings.LastIndex(out, "demo login: ")
	if iPXE < 0 || iLogin < iPXE {
		t.Errorf("stdout has no PXE boot up to the login prompt:%s", p.output())
	}
	if n := ev.Count(fakebmc.EventChassisControl); n != 1 {
		t.Errorf("%d chassis controls, want the one power cycle; events:%s", n, ev)
	}
	stderr := p.stderr.String()
	for _, want := range []string{"boot device set to pxe", "power cycle sent", "disconnected"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr has no %q:\n%s", want, stderr)
		}
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "PXE: DHCP") || !strings.Contains(string(log), "demo login: ") ||
		!strings.Contains(string(log), "[ghmicons] power cycle sent") {
		t.Errorf("the log lacks the boot, the prompt or the power note:\n%s", log)
	}
	if n := ev.Count("session-open") - ev.Count("session-close"); n != 0 {
		t.Errorf("%d sessions left open; events:%s", n, ev)
	}
}

func TestE2EScriptLoginCapture(t *testing.T) {
	srv, ev := demoBMC(t)
	script := filepath.Join(t.TempDir(), "login.exp")
	src := `# log in, run a command, capture its answer
power cycle
expect /demo login: $/ timeout 10s
send "root\r"
expect /Password: $/
send "${env:ROOT_PW}\r"
expect /root@demo:~# $/
send "uname\r"
expect /Linux (?P<host>\w+) (?P<kernel>[0-9][^ ]*)/
expect /# $/
print "host=${host} kernel=${kernel}"
send "whoami\r"
expect /\r\n(\w+)\r\n/
print "user=$1"
send "exit\r"
`
	if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startScripted(t, []string{"ROOT_PW=hunter2"}, attachArgs(srv.Addr(), "--script", script, "--quiet-console")...)
	if code := p.wait(t, long); code != ExitOK {
		t.Fatalf("exit status %d, want 0%s", code, p.output())
	}
	if got, want := p.stdout.String(), "host=demo kernel=6.12.0-demo\nuser=root\n"; got != want {
		t.Errorf("stdout %q, want only the prints %q%s", got, want, p.output())
	}
	if strings.Contains(p.stderr.String(), "hunter2") {
		t.Errorf("stderr shows the password:\n%s", p.stderr)
	}
	if n := ev.Count("session-open") - ev.Count("session-close"); n != 0 {
		t.Errorf("%d sessions left open; events:%s", n, ev)
	}
}

func TestE2EExpectTimeout(t *testing.T) {
	srv, ev := demoBMC(t)
	logFile := filepath.Join(t.TempDir(), "console.log")
	start := time.Now()
	p := startScripted(t, nil, attachArgs(srv.Addr(), "--log", logFile, "--power", "cycle", "--send", `\r`,
		"--expect", "login: $", "--expect", "Kernel panic", "--expect-timeout", "1s")...)
	code := p.wait(t, long)
	if code != ExitExpect {
		t.Fatalf("exit status %d, want %d%s", code, ExitExpect, p.output())
	}
	if d := time.Since(start); d > 10*time.Second { // the 1s bound, not the 5m default
		t.Errorf("took %v, want about the 1s bound", d)
	}
	stderr := p.stderr.String()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "ghmicons: --expect: /Kernel panic/ not seen within 1s" {
		t.Errorf("last line of stderr %q, want the timeout%s", last, p.output())
	}
	i := strings.Index(stderr, "ghmicons: the last output:\n")
	if i < 0 || !strings.Contains(stderr[i:], "\n  demo login:\n") || strings.Count(stderr[i:], "\n  ") > 20 {
		t.Errorf("stderr has no tail of at most 20 lines ending at the prompt:\n%s", stderr)
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "[ghmicons] disconnected: --expect: /Kernel panic/ not seen within 1s") {
		t.Errorf("the log does not say why it ended:\n%s", log)
	}
	if n := ev.Count("session-open") - ev.Count("session-close"); n != 0 {
		t.Errorf("%d sessions left open; events:%s", n, ev)
	}
}

// A send without an expect after it: the program exits once the BMC has
// taken the input, and the host got it.
func TestE2ESendOnly(t *testing.T) {
	b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""))
	p := startScripted(t, nil, attachArgs(b.Addr, "--send", `reboot\r`)...)
	if code := p.wait(t, long); code != ExitOK {
		t.Fatalf("exit status %d%s", code, p.output())
	}
	// The BMC acknowledged it before the program exited.
	if got, ok := b.Host.Await(short, func(in []byte) bool { return len(in) >= 7 }); !ok || string(got) != "reboot\r" {
		t.Errorf("host got %q, want %q", got, "reboot\r")
	}
}

// The flags' form of a capture: --print after the --expect that made it.
func TestE2EExpectPrint(t *testing.T) {
	srv, _ := demoBMC(t)
	p := startScripted(t, nil, attachArgs(srv.Addr(), "--quiet-console", "--bootdev", "pxe", "--power", "cycle",
		"--expect", `PXE: DHCP\.+ got (?P<ip>[0-9.]+)`, "--print", "ip=${ip}", "--expect", "login: $", "--print", `$0\tdone`)...)
	if code := p.wait(t, long); code != ExitOK {
		t.Fatalf("exit status %d%s", code, p.output())
	}
	if got, want := p.stdout.String(), "ip=192.0.2.50\nlogin: \tdone\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// --reconnect: the BMC reboots in the middle of a script; the script
// carries on over the new session, the matcher's output across both.
func TestE2EScriptAcrossBMCRestart(t *testing.T) {
	b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""), fakebmctest.NoEcho())
	p := startScripted(t, nil, attachArgs(b.Addr, "--reconnect", "--keepalive", "1s", "--timeout", "200ms", "--retries", "1",
		"--expect", "ready", "--send", `go\r`, "--expect", `answer=(\d+)`, "--print", "got $1", "--quiet-console")...)
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	_, _ = b.Host.Write([]byte("ready\r\n"))
	if in, ok := b.Host.Await(short, func(in []byte) bool { return string(in) == "go\r" }); !ok {
		t.Fatalf("host got %q, want the send%s", in, p.output())
	}
	b.Restart(t)
	p.stderr.waitFor(t, "reconnection", "reconnected", long)
	_, _ = b.Host.Write([]byte("answer=42\r\n"))
	if code := p.wait(t, short); code != ExitOK {
		t.Fatalf("exit status %d%s", code, p.output())
	}
	if got := p.stdout.String(); got != "got 42\n" {
		t.Errorf("stdout %q, want %q", got, "got 42\n")
	}
}

// A signal ends a script that waits, with the session closed: exit 8.
func TestE2EScriptSignal(t *testing.T) {
	srv, ev := demoBMC(t)
	p := startScripted(t, nil, attachArgs(srv.Addr(), "--expect", "never")...)
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, short); code != ExitSignal {
		t.Fatalf("exit status %d, want %d%s", code, ExitSignal, p.output())
	}
	if n := ev.Count("session-open") - ev.Count("session-close"); n != 0 {
		t.Errorf("%d sessions left open; events:%s", n, ev)
	}
}

// A command the BMC refuses ends the script there: the table's exit code
// (1), its note, and the step's error naming the flag; the expects after it
// never run.
func TestE2EScriptCommandRefused(t *testing.T) {
	ch := fakebmc.NewChassis()
	ch.Hook = func(context.Context, ipmi.ChassisAction) error { return errors.New("no power today") }
	srv, ev := startBMC(t, fakebmc.Config{Chassis: ch, SOL: fakebmc.SOLConfig{Host: &fakebmc.DemoHost{LineDelay: time.Millisecond}}})
	p := startScripted(t, nil, attachArgs(srv.Addr(), "--power", "cycle", "--expect", "login: $", "--expect-timeout", "1m")...)
	if code := p.wait(t, short); code != ExitError {
		t.Fatalf("exit status %d, want %d%s", code, ExitError, p.output())
	}
	stderr := p.stderr.String()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	t.Logf("stderr:\n%s", stderr)
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "ghmicons: --power: power cycle: ") || strings.Count(stderr, "0xd5") != 1 {
		t.Errorf("last line %q, want the step's error, said once%s", last, p.output())
	}
	if n := ev.Count("session-open") - ev.Count("session-close"); n != 0 {
		t.Errorf("%d sessions left open; events:%s", n, ev)
	}
}
