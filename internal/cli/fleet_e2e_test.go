//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// The program on a hostlist of real UDP BMCs: one line per host in the
// list's order, the silent BMC's line an error, exit 4, the failed host
// named on stderr; --hostfile reads the same hosts from a file; --wait
// prints the confirmed state.
func TestE2EFleet(t *testing.T) {
	a, _ := startBMC(t, fakebmc.Config{})
	b, _ := startBMC(t, fakebmc.Config{})
	deaf, _ := deafBMC(t)
	list := a.Addr() + "," + deaf + "," + b.Addr()
	fast := []string{"--timeout", "200ms", "--retries", "1"}

	p := startOnPipes(t, "password", attachArgs(list, append(fast, "power", "status")...)...)
	if code := p.wait(t, short); code != ExitUnreachable {
		t.Errorf("exit %d, want %d%s", code, ExitUnreachable, p.output())
	}
	lines := strings.Split(strings.TrimSuffix(p.stdout.String(), "\n"), "\n")
	if len(lines) != 3 || lines[0] != a.Addr()+": on" || !strings.HasPrefix(lines[1], deaf+": error: ") ||
		lines[2] != b.Addr()+": on" {
		t.Errorf("stdout %q", lines)
	}
	oneLineStderr(t, p, "ghmicons: 1 of 3 hosts failed: "+deaf)

	file := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(file, []byte("# the rack\n"+a.Addr()+"\n\n"+b.Addr()+" # second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, hosts := range [][]string{{"--hostfile", file}, {"-H", "@" + file}} {
		args := append(append(append([]string{}, hosts...), "-U", "admin", "-E", "--wait"), append(fast, "power", "off")...)
		p = startOnPipes(t, "password", args...)
		if code := p.wait(t, short); code != ExitOK {
			t.Errorf("%v: exit %d%s", hosts, code, p.output())
		}
		if got, want := p.stdout.String(), a.Addr()+": off\n"+b.Addr()+": off\n"; got != want {
			t.Errorf("%v: stdout %q, want %q", hosts, got, want)
		}
	}
	if a.Chassis().PoweredOn() || b.Chassis().PoweredOn() {
		t.Error("a BMC is still on after power off")
	}
}

// One BMC keeps its own output; --wait adds the confirmed state.
func TestE2EOneHostWait(t *testing.T) {
	a, _ := startBMC(t, fakebmc.Config{})
	p := startOnPipes(t, "password", attachArgs(a.Addr(), "--wait", "power", "off")...)
	if code := p.wait(t, short); code != ExitOK {
		t.Errorf("exit %d%s", code, p.output())
	}
	if got, want := p.stdout.String(), "Chassis Power Control: off\nChassis Power is off\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// --powerman on pipes: the prompt, one line per host, quit; end of input
// ends it too.
func TestE2EPowerman(t *testing.T) {
	a, _ := startBMC(t, fakebmc.Config{})
	b, _ := startBMC(t, fakebmc.Config{})
	list := a.Addr() + "," + b.Addr()
	p := startOnPipes(t, "password", "--powerman", "-H", list, "-U", "admin", "-E")
	p.write(t, "stat\noff "+b.Addr()+"\nquit\n")
	if code := p.wait(t, short); code != ExitOK {
		t.Errorf("exit %d%s", code, p.output())
	}
	want := "ghmicons> " + a.Addr() + ": on\n" + b.Addr() + ": on\nghmicons> " + b.Addr() + ": off\nghmicons> "
	if got := p.stdout.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if b.Chassis().PoweredOn() || !a.Chassis().PoweredOn() {
		t.Error("off reached the wrong BMC")
	}
	p = startOnPipes(t, "password", "--powerman", "-H", list, "-U", "admin", "-E")
	if err := p.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, short); code != ExitOK || p.stdout.String() != "ghmicons> " {
		t.Errorf("end of input: exit %d, stdout %q%s", code, p.stdout.String(), p.output())
	}
}
