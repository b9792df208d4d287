//go:build linux

package cli

// End-to-end tests of the one-shot commands and the secret prompts: the real
// binary (built by TestMain in e2e_test.go) against the simulated BMC, ended
// by signals while a request is in flight or while a prompt waits. Every
// wait is woken by the thing it waits for.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/internal/testenv"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// endSignalsE2E are the signals that end ghmicons with exit status 8.
var endSignalsE2E = []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT}

// oneLineStderr fails unless stderr is exactly want plus a newline.
func oneLineStderr(t *testing.T, p *proc, want string) {
	t.Helper()
	if got := p.stderr.Bytes(); string(got) != want+"\n" {
		t.Errorf("stderr %s, want exactly the one line %q", quoteTail(got), want)
	}
}

// A signal while the session is being set up (the BMC does not answer)
// ends a one-shot command with status 8 and one line.
func TestE2EOneShotSignalDuringSetup(t *testing.T) {
	for _, sig := range endSignalsE2E {
		t.Run(sig.String(), func(t *testing.T) {
			addr, heard := deafBMC(t)
			p := startOnPipes(t, "password", attachArgs(addr, "power", "status")...)
			select {
			case <-heard:
			case <-time.After(short):
				t.Fatalf("ghmicons sent nothing to the BMC%s", p.output())
			}
			p.signal(t, sig)
			if code := p.wait(t, short); code != ExitSignal {
				t.Errorf("exit status %d after %v, want %d%s", code, sig, ExitSignal, p.output())
			}
			oneLineStderr(t, p, "ghmicons: ended by "+signalName(sig))
		})
	}
}

// A signal while a one-shot command waits for its answer ends it with
// status 8 and one line, and the BMC sees the session closed.
func TestE2EOneShotSignalInFlight(t *testing.T) {
	tests := []struct {
		words []string
		cmd   string // the request left unanswered
		sigs  []syscall.Signal
	}{
		{[]string{"power", "status"}, "Get Chassis Status", endSignalsE2E},
		{[]string{"power", "on"}, "Chassis Control", []syscall.Signal{syscall.SIGTERM}},
		{[]string{"bootdev", "status"}, "Get System Boot Options", []syscall.Signal{syscall.SIGHUP}},
		{[]string{"bootdev", "pxe"}, "Set System Boot Options", []syscall.Signal{syscall.SIGINT}},
		{[]string{"info"}, "Get Device ID", []syscall.Signal{syscall.SIGQUIT}},
	}
	for _, tt := range tests {
		for _, sig := range tt.sigs {
			t.Run(strings.Join(tt.words, "_")+"/"+sig.String(), func(t *testing.T) {
				srv, ev := startBMC(t, fakebmc.Config{Faults: fakebmc.Faults{Unanswered: []string{tt.cmd}}})
				p := startOnPipes(t, "password", attachArgs(srv.Addr(), tt.words...)...)
				ev.WaitRequest(t, short, tt.cmd)
				p.signal(t, sig)
				if code := p.wait(t, short); code != ExitSignal {
					t.Errorf("exit status %d after %v, want %d%s", code, sig, ExitSignal, p.output())
				}
				oneLineStderr(t, p, "ghmicons: ended by "+signalName(sig))
				if out := p.stdout.String(); out != "" {
					t.Errorf("stdout %q, want nothing", out)
				}
				ev.WaitFor(t, short, "session-close")
			})
		}
	}
}

// A one-shot command whose answer cannot be written (stdout is a pipe
// nobody reads) fails with status 1 and one line, and closes the session:
// SIGPIPE does not kill it.
func TestE2EOneShotBrokenStdout(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	cmd := exec.Command(ghmiconsBin, attachArgs(srv.Addr(), "power", "status")...)
	cmd.Env = ghmiconsEnv("password")
	p := &proc{cmd: cmd, done: make(chan struct{}), stdout: newWatchBuf(), stderr: newWatchBuf()}
	cmd.Stdout, cmd.Stderr = w, p.stderr
	p.start(t)
	code := p.wait(t, short)
	if code != ExitError {
		t.Errorf("exit status %d, want %d (state %v)%s", code, ExitError, cmd.ProcessState, p.output())
	}
	if s := p.stderr.String(); strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, "ghmicons: ") || !strings.Contains(s, "broken pipe") {
		t.Errorf("stderr %q, want one line saying the answer could not be written", s)
	}
	ev.WaitFor(t, short, "session-close")
}

// The password prompt on a terminal: a signal while it waits ends the
// program with status 8, the terminal modes exactly as before.
func TestE2EPasswordPromptSignal(t *testing.T) {
	for _, tt := range []struct {
		sig   syscall.Signal
		typed bool // sent from the keyboard (^C, ^\) rather than by kill
		words []string
	}{
		{syscall.SIGINT, true, []string{"power", "status"}},
		{syscall.SIGINT, true, nil}, // the console's prompt is the same
		{syscall.SIGQUIT, true, []string{"info"}},
		{syscall.SIGTERM, false, []string{"power", "status"}},
		{syscall.SIGTERM, false, nil},
		{syscall.SIGHUP, false, []string{"bootdev", "status"}},
	} {
		mode := "console"
		if tt.words != nil {
			mode = strings.Join(tt.words, "_")
		}
		name := fmt.Sprintf("%s/%v/typed=%v", mode, tt.sig, tt.typed)
		t.Run(name, func(t *testing.T) {
			addr, heard := deafBMC(t)
			tty := openPTY(t)
			before := tty.termios(t)
			p := startOnPTY(t, tty, "password", append([]string{"-H", addr, "-U", "admin"}, tt.words...)...)
			tty.screen.waitFor(t, "password prompt", "Password: ", short)
			if lf := tty.termios(t).Lflag; lf&syscall.ECHO != 0 || lf&syscall.ISIG == 0 {
				t.Errorf("at the prompt: lflag %#o, want ECHO off and ISIG on", lf)
			}
			if tt.typed {
				key := map[syscall.Signal]string{syscall.SIGINT: "\x03", syscall.SIGQUIT: "\x1c"}[tt.sig]
				tty.typeKeys(t, key)
			} else {
				p.signal(t, tt.sig)
			}
			if code := p.wait(t, short); code != ExitSignal {
				t.Errorf("exit status %d after %v at the prompt, want %d", code, tt.sig, ExitSignal)
			}
			sameModes(t, before, tty.termios(t))
			want := "ghmicons: ended by " + signalName(tt.sig)
			// Written before the exit, but the pty reader may lag behind.
			tty.screen.waitFor(t, "the last line", want+"\r\n", short)
			if s := tty.screen.String(); strings.Count(s, "ghmicons:") != 1 {
				t.Errorf("screen %s, want one line %q", quoteTail([]byte(s)), want)
			}
			select {
			case <-heard:
				t.Errorf("ghmicons talked to the BMC although the password was never entered")
			default:
			}
		})
	}
}

// -Y reads K_g at a prompt without echo; the session then uses it.
func TestE2EKgPrompt(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{Kg: []byte("bmc-key")})
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr(), "-Y", "power", "status")...)
	tty.screen.waitFor(t, "K_g prompt", "K_g: ", short)
	if lf := tty.termios(t).Lflag; lf&syscall.ECHO != 0 {
		t.Errorf("echo on at the K_g prompt: lflag %#o", lf)
	}
	tty.typeKeys(t, "bmc-key\r")
	tty.screen.waitFor(t, "answer", "Chassis Power is on", short)
	if code := p.wait(t, short); code != ExitOK {
		t.Errorf("exit status %d, want 0; screen %q", code, tty.screen.Bytes())
	}
	sameModes(t, before, tty.termios(t))
	if bytes.Contains(tty.screen.Bytes(), []byte("bmc-key")) {
		t.Errorf("the key was echoed: %q", tty.screen.Bytes())
	}
}

// A second signal while the BMC does not answer Close Session leaves at
// once instead of waiting out the close (here up to 20 s).
func TestE2EOneShotSecondSignalLeaves(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{Faults: fakebmc.Faults{Unanswered: []string{"Get Chassis Status", "Close Session"}}})
	p := startOnPipes(t, "password", attachArgs(srv.Addr(), "--timeout", "10s", "power", "status")...)
	ev.WaitRequest(t, short, "Get Chassis Status")
	p.signal(t, syscall.SIGTERM)
	ev.WaitRequest(t, short, "Close Session")
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d, want %d%s", code, ExitSignal, p.output())
	}
	oneLineStderr(t, p, "ghmicons: ended by SIGTERM")
}

// nohup: a SIGHUP ignored from the start stays ignored by a one-shot
// command, which then finishes its work.
func TestE2EOneShotKeepsSIGHUPIgnored(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{Faults: fakebmc.Faults{Unanswered: []string{"Get Chassis Status"}}})
	nohup, err := exec.LookPath("nohup")
	if err != nil {
		testenv.Missing(t, "no nohup here")
	}
	cmd := exec.Command(nohup, append([]string{ghmiconsBin}, attachArgs(srv.Addr(), "--timeout", "300ms", "--retries", "1", "power", "status")...)...)
	cmd.Env = ghmiconsEnv("password")
	p := &proc{cmd: cmd, done: make(chan struct{}), stdout: newWatchBuf(), stderr: newWatchBuf()}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	p.start(t)
	ev.WaitRequest(t, short, "Get Chassis Status")
	p.signal(t, syscall.SIGHUP)
	// Not ended by the signal: the request runs out of tries in a session
	// the BMC had set up (exit 6, session lost; 4 is for "nothing answered").
	if code := p.wait(t, short); code != ExitLost {
		t.Errorf("exit status %d, want %d (the request's own end)%s", code, ExitLost, p.output())
	}
	ev.WaitFor(t, short, "session-close")
}
