//go:build linux

package cli

// End-to-end tests on a pseudo-terminal (Linux: see pty_test.go).

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
)

// startOnPTY runs ghmicons with the terminal as its stdin, stdout, stderr
// and controlling terminal.
func startOnPTY(t *testing.T, tty *pty, password string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(ghmiconsBin, args...)
	cmd.Env = ghmiconsEnv(password)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty.slave, tty.slave, tty.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	p.start(t)
	return p
}

// ---- 1. a session on a terminal ----

func TestE2ETerminalEchoAndQuit(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{}}})
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr())...)

	// Raw mode is on once "connected" is printed: typing before that would be
	// echoed by the terminal itself, not by the host.
	tty.screen.waitFor(t, "connected message", "[ghmicons] connected to", short)
	raw := tty.termios(t)
	if raw.Lflag&(syscall.ECHO|syscall.ICANON|syscall.ISIG) != 0 {
		t.Errorf("terminal not raw while attached: lflag %#o", raw.Lflag)
	}
	mark := len(tty.screen.Bytes())
	tty.typeKeys(t, "hello\r")
	if !tty.screen.waitUntil(short, func(b []byte) bool { return bytes.Contains(b[mark:], []byte("hello\r")) }) {
		t.Fatalf("no echo of hello; screen:\n%s", quoteTail(tty.screen.Bytes()))
	}
	// Mid-line, "~." is ordinary text for the host.
	tty.typeKeys(t, "a~.b\r")
	if !tty.screen.waitUntil(short, func(b []byte) bool { return bytes.Contains(b[mark:], []byte("hello\ra~.b\r")) }) {
		t.Fatalf("no echo of a~.b; screen:\n%s", quoteTail(tty.screen.Bytes()))
	}
	// After the CR, "~." quits, and reaches neither host nor screen.
	tty.typeKeys(t, "~.")
	if code := p.wait(t, short); code != ExitOK {
		t.Fatalf("exit status %d after ~., want 0; screen:\n%s", code, quoteTail(tty.screen.Bytes()))
	}
	sameModes(t, before, tty.termios(t))
	if n := bytes.Count(tty.screen.Bytes()[mark:], []byte("~")); n != 1 {
		t.Errorf("the screen shows %d \"~\" after connecting, want 1 (the mid-line one): %q", n, tty.screen.Bytes()[mark:])
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// ---- 2. signals ----

func TestE2ESignalRestoresAndCloses(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			srv, ev := startBMC(t, fakebmc.Config{})
			tty := openPTY(t)
			before := tty.termios(t)
			p := startOnPTY(t, tty, "password", attachArgs(srv.Addr())...)
			tty.screen.waitFor(t, "connected message", "[ghmicons] connected to", short)
			p.signal(t, sig)
			if code := p.wait(t, short); code != ExitSignal {
				t.Errorf("exit status %d after %v, want %d; screen:\n%s", code, sig, ExitSignal, quoteTail(tty.screen.Bytes()))
			}
			sameModes(t, before, tty.termios(t))
			ev.WaitFor(t, short, "deactivate", "session-close")
		})
	}
}

// ---- 3. BREAK ----

func TestE2EBreakReachesHost(t *testing.T) {
	host := fakebmctest.NewHost() // counts the BREAKs the console sends
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	tty := openPTY(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr())...)
	tty.screen.waitFor(t, "connected message", "[ghmicons] connected to", short)
	tty.typeKeys(t, "~B") // at the start of the session
	if !host.AwaitBreaks(short, 1) {
		t.Fatalf("no BREAK reached the host; screen:\n%s", quoteTail(tty.screen.Bytes()))
	}
	tty.screen.waitFor(t, "break message", "BREAK sent", short)
	tty.typeKeys(t, "~.") // right after an escape another one counts, as in ssh
	if code := p.wait(t, short); code != ExitOK {
		t.Fatalf("exit status %d, want 0", code)
	}
	if n := host.Breaks(); n != 1 {
		t.Errorf("the host got %d BREAKs more than the one sent", n-1)
	}
	if n := ev.Count("break"); n != 1 {
		t.Errorf("the BMC saw %d break events, want 1; events:%s", n, ev)
	}
}

// ---- 4. power and boot device from the ~C prompt ----

func TestE2EPromptPowerCycleAndBootdev(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: &fakebmc.DemoHost{LineDelay: time.Millisecond}}})
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr())...)
	s := tty.screen
	s.waitFor(t, "first boot", "demo login:", short)
	if n := strings.Count(s.String(), "Boot device: disk"); n != 1 {
		t.Fatalf("first boot log shows %d× %q, want 1", n, "Boot device: disk")
	}

	// ~C power cycle, confirmed: the host boots again, from disk.
	tty.typeKeys(t, "~C")
	s.waitCount(t, "prompt", "ghmicons> ", 1, short)
	tty.typeKeys(t, "power cycle\r")
	s.waitCount(t, "confirmation", "[y/N]", 1, short)
	tty.typeKeys(t, "y")
	s.waitCount(t, "second boot", "Boot device: disk", 2, short)
	s.waitCount(t, "second boot", "demo login:", 2, short)

	// ~C bootdev pxe, then ~C power cycle: the next boot is from the network.
	tty.typeKeys(t, "\r~C")
	s.waitCount(t, "prompt", "ghmicons> ", 2, short)
	tty.typeKeys(t, "bootdev pxe\r")
	s.waitFor(t, "bootdev answer", "boot device set to pxe", short)
	tty.typeKeys(t, "\r~C")
	s.waitCount(t, "prompt", "ghmicons> ", 3, short)
	tty.typeKeys(t, "power cycle\r")
	s.waitCount(t, "confirmation", "[y/N]", 2, short)
	tty.typeKeys(t, "y")
	s.waitFor(t, "third boot", "Boot device: pxe", short)
	s.waitCount(t, "third boot", "demo login:", 3, short)
	if n := strings.Count(s.String(), "Boot device: disk"); n != 2 {
		t.Errorf("%d boots from disk, want 2", n)
	}
	if n := ev.Count("chassis-control"); n != 2 {
		t.Errorf("%d chassis-control events, want 2; events:%s", n, ev)
	}
	if f := srv.Chassis().BootFlags(); f.Valid {
		t.Errorf("the one-time boot override is still set after the boot: %v", f)
	}

	tty.typeKeys(t, "\r~.")
	if code := p.wait(t, short); code != ExitOK {
		t.Fatalf("exit status %d, want 0", code)
	}
	sameModes(t, before, tty.termios(t))
}

// ~. while waiting to reconnect quits with status 0, like ~. anywhere else.
func TestE2EQuitWhileReconnecting(t *testing.T) {
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(silentBMC(t), "--reconnect", "--timeout", "100ms", "--retries", "0")...)
	tty.screen.waitFor(t, "retry message", "cannot connect", short)
	tty.typeKeys(t, "~.")
	code := p.wait(t, short)
	sameModes(t, before, tty.termios(t))
	if code != ExitOK {
		t.Errorf("exit status %d, want 0; screen %q", code, tty.screen.Bytes())
	}
}
