//go:build linux

package cli

// End-to-end tests of issue 8 on a pseudo-terminal: ~. and signals whatever
// the BMC does, at the prompt and while a prompt command waits.

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// typeAll types s on the terminal from a goroutine; the channel says when
// all of it has been taken.
func (p *pty) typeAll(s []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := p.master.Write(s)
		done <- err
	}()
	return done
}

// A BMC that accepts no input, and far more typed (pasted) than it could
// take: the terminal keeps being read, ~. quits at once with the terminal
// restored and the session closed, and one note says how much was not sent.
// Before issue 8 the program stopped reading the terminal once the write
// buffer was full, and ~. was never seen.
func TestE2EInputNotAcceptedQuitOnTerminal(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: deafHost{}, InboundBuffer: 1}})
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr())...)
	tty.screen.waitFor(t, "connected message", "[ghmicons] connected to", short)
	select {
	case err := <-tty.typeAll(bytes.Repeat([]byte("y"), 256<<10)):
		if err != nil {
			t.Fatalf("typing: %v", err)
		}
	case <-time.After(long):
		t.Fatalf("the console stopped reading the terminal; screen:\n%s", quoteTail(tty.screen.Bytes()))
	}
	tty.typeKeys(t, "\r~.")
	if code := p.wait(t, short); code != ExitOK {
		t.Errorf("exit status %d after ~., want 0; screen:\n%s", code, quoteTail(tty.screen.Bytes()))
	}
	sameModes(t, before, tty.termios(t))
	ev.WaitFor(t, short, "deactivate", "session-close")
	tty.screen.waitFor(t, "note on what was not sent", "bytes of typed input were not sent: the BMC was not accepting input", short)
	if n := bytes.Count(tty.screen.Bytes(), []byte("were not sent")); n != 1 {
		t.Errorf("%d notes on input not sent, want 1; screen:\n%s", n, quoteTail(tty.screen.Bytes()))
	}
}

// At the ~C prompt: a signal ends it as anywhere else.
func TestE2ESignalAtPrompt(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{})
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr())...)
	tty.screen.waitFor(t, "connected message", "[ghmicons] connected to", short)
	tty.typeKeys(t, "~C")
	tty.screen.waitFor(t, "prompt", "ghmicons> ", short)
	tty.typeKeys(t, "pow")
	tty.screen.waitFor(t, "prompt echo", "ghmicons> pow", short)
	p.signal(t, syscall.SIGHUP)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d, want %d; screen:\n%s", code, ExitSignal, quoteTail(tty.screen.Bytes()))
	}
	sameModes(t, before, tty.termios(t))
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// A prompt command waiting for a BMC that has gone silent holds up neither
// signals nor ~.: before issue 8 it ran on the main loop, for up to 10 s.
func TestE2ESignalDuringPromptCommand(t *testing.T) {
	addr, ic, _ := startImpairedBMC(t, fakebmc.Config{})
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(addr, "--retries", "8")...)
	tty.screen.waitFor(t, "connected message", "[ghmicons] connected to", short)
	ic.SetSilent(true)
	tty.typeKeys(t, "~C")
	tty.screen.waitFor(t, "prompt", "ghmicons> ", short)
	tty.typeKeys(t, "power status\r")
	tty.screen.waitFor(t, "the command ran", "ghmicons> power status\r\n", short)
	start := time.Now()
	p.signal(t, syscall.SIGTERM)
	// The way out waits for the silent BMC: Deactivate and Close Session,
	// 2 s each with the default 1 s timeout.
	if code := p.wait(t, 7*time.Second); code != ExitSignal {
		t.Errorf("exit status %d, want %d; screen:\n%s", code, ExitSignal, quoteTail(tty.screen.Bytes()))
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	sameModes(t, before, tty.termios(t))
}

// ~. while the session is being set up (the BMC does not answer): out at
// once, status 0, terminal restored.
func TestE2EQuitWhileConnecting(t *testing.T) {
	addr, recv := listeningBMC(t)
	tty := openPTY(t)
	before := tty.termios(t)
	p := startOnPTY(t, tty, "password", attachArgs(addr, "--timeout", "2s", "--retries", "3")...)
	select {
	case <-recv:
	case <-time.After(short):
		t.Fatalf("ghmicons sent nothing; screen:\n%s", quoteTail(tty.screen.Bytes()))
	}
	tty.typeKeys(t, "~.")
	if code := p.wait(t, short); code != ExitOK {
		t.Errorf("exit status %d, want 0; screen:\n%s", code, quoteTail(tty.screen.Bytes()))
	}
	sameModes(t, before, tty.termios(t))
}
