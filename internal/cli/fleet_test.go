package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/fleet"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// memRack starts n BMCs in memory and a runner that reaches host "nI"
// through the rack's BMC I (its own DialTransport), with short timeouts.
func memRack(t *testing.T, n int, wait time.Duration) ([]*fakebmctest.BMC, []fleet.Host, *fleet.Runner) {
	t.Helper()
	rack := fakebmctest.NewRack(t, n, fakebmc.Config{})
	var hosts []fleet.Host
	byAddr := map[string]*fakebmctest.BMC{}
	for i, b := range rack {
		hosts = append(hosts, fleet.Host{Name: fmt.Sprint("n", i+1), Addr: b.Addr})
		byAddr[b.Addr] = b
	}
	session := fakebmctest.Admin()
	session.Timeout, session.Retries = 200*time.Millisecond, 1
	return rack, hosts, fleet.New(fleet.Config{Session: session, Fanout: 2, Wait: wait,
		Dial: fleet.OverTransport(func(ctx context.Context, addr string) (ipmi.Transport, error) {
			return byAddr[addr].DialTransport(ctx)
		})})
}

func mustParse(t *testing.T, words ...string) *command.Call {
	t.Helper()
	c, err := command.Parse(command.OneShot, words)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runLines runs call and returns its "host: result" lines and the outcome.
func runLines(r *fleet.Runner, hosts []fleet.Host, call *command.Call) ([]string, error) {
	var lines []string
	res := r.Run(context.Background(), hosts, call, func(r fleet.Result) {
		lines = append(lines, r.Host.Name+": "+lineText(context.Background(), call, r))
	})
	return lines, fleetOutcome(context.Background(), res)
}

// The lines: a state for power status, "ok" for an action, the confirmed
// state after a wait, a command's output on one line, and an error line
// for a silent BMC, whose failure makes the exit code and the summary.
func TestFleetLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rack, hosts, r := memRack(t, 3, 0)
		rack[1].Link.SetSilent(true)
		if err := rack[2].Server.Chassis().Control(ipmi.PowerOff); err != nil {
			t.Fatal(err)
		}
		lines, err := runLines(r, hosts, mustParse(t, "power", "status"))
		if len(lines) != 3 || lines[0] != "n1: on" || !strings.HasPrefix(lines[1], "n2: error: Get Channel Authentication Capabilities: no answer") ||
			lines[2] != "n3: off" {
			t.Errorf("power status: %q", lines)
		}
		if ExitCode(err) != ExitUnreachable || err.Error() != "1 of 3 hosts failed: n2" {
			t.Errorf("outcome %v (exit %d), want 1 of 3 failed, exit %d", err, ExitCode(err), ExitUnreachable)
		}
		rack[1].Link.SetSilent(false)
		if lines, err = runLines(r, hosts, mustParse(t, "power", "off")); strings.Join(lines, "|") != "n1: ok|n2: ok|n3: ok" || err != nil {
			t.Errorf("power off: %q, %v", lines, err)
		}
		if lines, _ = runLines(r, hosts[:1], mustParse(t, "bootdev", "status")); len(lines) != 1 || !strings.HasPrefix(lines[0], "n1: Boot device: ") {
			t.Errorf("bootdev status: %q", lines)
		}
		if lines, _ = runLines(r, hosts[:1], mustParse(t, "info")); len(lines) != 1 || !strings.Contains(lines[0], "; IPMI version: 2.0; ") {
			t.Errorf("info: %q", lines)
		}
		_, hosts, r = memRack(t, 2, 10*time.Second)
		if lines, _ = runLines(r, hosts, mustParse(t, "power", "soft")); strings.Join(lines, "|") != "n1: off|n2: off" {
			t.Errorf("power soft with --wait: %q", lines)
		}
	})
}

// The failed hosts' exit code when they agree, else 1.
func TestFleetOutcomeCodes(t *testing.T) {
	hosts := []fleet.Host{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	auth := fmt.Errorf("x: %w", ipmi.ErrAuth)
	silent := fmt.Errorf("x: %w", ipmi.ErrNoResponse)
	for _, tc := range []struct {
		errs []error
		code int
		msg  string
	}{
		{[]error{nil, nil, nil}, ExitOK, ""},
		{[]error{auth, nil, auth}, ExitAuth, "2 of 3 hosts failed: a,c"},
		{[]error{silent, auth, nil}, ExitError, "2 of 3 hosts failed: a,b"},
	} {
		res := make([]fleet.Result, len(tc.errs))
		for i, e := range tc.errs {
			res[i] = fleet.Result{Host: hosts[i], Err: e}
		}
		err := fleetOutcome(context.Background(), res)
		if ExitCode(err) != tc.code || (err != nil && err.Error() != tc.msg) {
			t.Errorf("%v: %v (exit %d), want %q exit %d", tc.errs, err, ExitCode(err), tc.msg, tc.code)
		}
	}
}

func TestFleetFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string // "" for no error
	}{
		{[]string{"-H", "n[1-2]", "power", "status"}, ""},
		{[]string{"-H", "n[1-2]"}, "take a command"},
		{[]string{"-H", "n[1-2]", "--power", "on"}, "take a command"},
		{[]string{"-H", "n1,n2", "--bootdev", "pxe", "info"}, "apply to a console"},
		{[]string{"-H", "n1", "--fanout", "0", "info"}, "--fanout 0"},
		{[]string{"-H", "n1", "--wait", "power", "status"}, "--wait confirms"},
		{[]string{"-H", "n1", "--wait"}, "--wait waits after a power command"},
		{[]string{"-H", "n1", "--wait-timeout", "5s", "power", "on"}, "add --wait"},
		{[]string{"-H", "n1", "--wait", "--wait-timeout", "1ms", "power", "on"}, "--wait-timeout 1ms"},
		{[]string{"--powerman", "-H", "n[1-2]", "-E", "power", "on"}, "reads its commands from standard input"},
		{[]string{"--powerman", "-H", "n[1-2]"}, "cannot prompt"},
		{[]string{"--powerman", "-E"}, "needs the BMCs"},
		{[]string{"--powerman", "-H", "n1", "-E", "-Y"}, "-Y cannot prompt"},
		{[]string{"--powerman", "-H", "n[1-2]", "-E"}, ""},
	} {
		_, err := parseOptions(tc.args, io.Discard)
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg) || ExitCode(err) != ExitUsage):
			t.Errorf("%q: %v, want a usage error saying %q", tc.args, err, tc.msg)
		}
	}
	o, err := parseOptions([]string{"-H", "n[1-2]", "--hostfile", "x", "info"}, io.Discard)
	if err == nil {
		_, err = o.fleetHosts()
	}
	if err == nil || !strings.Contains(err.Error(), "-H and --hostfile both") {
		t.Errorf("-H and --hostfile: %v", err)
	}
	o, _ = parseOptions([]string{"-H", "n[1-2]", "-p", "70000", "info"}, io.Discard)
	if o != nil {
		t.Errorf("-p 70000 accepted")
	}
	o, err = parseOptions([]string{"-H", "n[1-2],[::1]:700", "-p", "624", "info"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.fleetHosts(); err == nil || !strings.Contains(err.Error(), "host [::1]:700") {
		t.Errorf("a host's port against -p: %v", err)
	}
	o, _ = parseOptions([]string{"-H", "10.0.0.1,[::1]:700", "-4", "info"}, io.Discard)
	if _, err := o.fleetHosts(); err == nil || !strings.Contains(err.Error(), "-4 with the IPv6 address ::1") {
		t.Errorf("-4 with an IPv6 host: %v", err)
	}
	o, _ = parseOptions([]string{"-H", "n[1-2]", "-p", "624", "info"}, io.Discard)
	hs, err := o.fleetHosts()
	if err != nil || len(hs) != 2 || hs[1] != (fleet.Host{Name: "n2", Addr: "n2:624"}) {
		t.Errorf("hosts %v, %v", hs, err)
	}
}
