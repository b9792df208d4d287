//go:build linux

package cli

// End-to-end tests of what the front end gained with the console engine and
// the command table: completion and the table's commands at the ~C prompt,
// and the log's notes in order with the output.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
)

// Tab completes at the prompt; info and status are commands of the table
// there too; ~# is the table's status.
func TestE2EPromptCompletionAndTableCommands(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{})
	tty := openPTY(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr())...)
	s := tty.screen
	s.waitFor(t, "connected message", "[ghmicons] connected to", short)
	tty.typeKeys(t, "~C")
	s.waitCount(t, "prompt", "ghmicons> ", 1, short)
	tty.typeKeys(t, "po\t")
	s.waitFor(t, "completed command", "ghmicons> power ", short)
	tty.typeKeys(t, "st\t\r")
	s.waitFor(t, "power status", "host power is on", short)
	tty.typeKeys(t, "~C")
	s.waitCount(t, "prompt", "ghmicons> ", 2, short)
	tty.typeKeys(t, "info\r")
	s.waitFor(t, "info", "Privilege:      administrator", short)
	tty.typeKeys(t, "\r~#")
	s.waitFor(t, "status", "cipher suite 17", short)
	s.waitFor(t, "status", "host power on", short)
	tty.typeKeys(t, "\r~C")
	s.waitCount(t, "prompt", "ghmicons> ", 3, short)
	tty.typeKeys(t, "help\r")
	s.waitFor(t, "help", "bootdev none|pxe|disk|safe|diag|cdrom|bios [persistent] [efi]", short)
	tty.typeKeys(t, "\r~.")
	if code := p.wait(t, short); code != ExitOK {
		t.Fatalf("exit status %d, want 0; screen:\n%s", code, quoteTail(s.Bytes()))
	}
}

// The log has the connection's note before the host output that the BMC
// sends as soon as SOL is active, and a prompt command's note where it
// happened.
func TestE2ELogNotesInOrder(t *testing.T) {
	host := fakebmctest.NewHost()
	host.Echo = true
	srv, _ := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	if _, err := host.Write([]byte("host banner\r\n")); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "console.log")
	tty := openPTY(t)
	p := startOnPTY(t, tty, "password", attachArgs(srv.Addr(), "--log", logFile)...)
	s := tty.screen
	s.waitFor(t, "banner", "host banner", short)
	tty.typeKeys(t, "~C")
	s.waitFor(t, "prompt", "ghmicons> ", short)
	tty.typeKeys(t, "bootdev pxe\r")
	s.waitFor(t, "bootdev answer", "boot device set to pxe", short)
	tty.typeKeys(t, "after\r")
	s.waitFor(t, "echo", "after\r", short)
	tty.typeKeys(t, "~.")
	if code := p.wait(t, short); code != ExitOK {
		t.Fatalf("exit status %d, want 0; screen:\n%s", code, quoteTail(s.Bytes()))
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	first, rest, _ := strings.Cut(log, "\n")
	if !strings.HasPrefix(first, "[ghmicons] connected to ") || !strings.HasPrefix(rest, "host banner\r\n[ghmicons] boot device set to pxe") {
		t.Errorf("log %q, want the connected note, the banner, the bootdev note", log)
	}
	if !strings.HasSuffix(log, "after\r\n[ghmicons] disconnected\n") {
		t.Errorf("log %q does not end with the echo and the disconnected note", log)
	}
}
