package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/memnet"
)

// memRack starts n BMCs on one memnet network and a fleet that dials them:
// host "nI" is the rack's "bmc-I".
func memRack(t *testing.T, n int) ([]*fakebmctest.BMC, []fleetHost, *fleet) {
	t.Helper()
	rack := fakebmctest.NewRack(t, n, fakebmc.Config{})
	net := rack[0].Network()
	hosts := make([]fleetHost, n)
	for i := range hosts {
		hosts[i] = fleetHost{name: fmt.Sprintf("n%d", i+1), addr: fmt.Sprintf("bmc-%d", i+1)}
	}
	cfg := fakebmctest.Admin()
	cfg.Timeout, cfg.Retries = 200*time.Millisecond, 1
	f := &fleet{cfg: cfg, fanout: 2, dialFn: memDial(net)}
	return rack, hosts, f
}

func memDial(net *memnet.Network) func(context.Context, string, string, ipmi.Config) (*ipmi.Session, error) {
	return func(ctx context.Context, _, addr string, cfg ipmi.Config) (*ipmi.Session, error) {
		c, err := net.Dial(addr)
		if err != nil {
			return nil, err
		}
		s, err := ipmi.NewSession(ctx, c, cfg)
		if err != nil {
			c.Close()
		}
		return s, err
	}
}

func mustParse(t *testing.T, words ...string) *command.Call {
	t.Helper()
	c, err := command.Parse(command.OneShot, words)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runLines runs call on the fleet and returns its "host: result" lines.
func runLines(f *fleet, hosts []fleetHost, call *command.Call) ([]string, []hostResult) {
	var lines []string
	res := f.run(context.Background(), hosts, call, func(h fleetHost, r hostResult) {
		lines = append(lines, h.name+": "+r.text)
	})
	return lines, res
}

// Every host's answer is one line, in the hostlist's order whatever the
// order of completion; a silent BMC is an error line for that host only,
// the exit code is the unreachable one, and the summary names the host.
func TestFleetLinesInOrderErrorsApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rack, hosts, f := memRack(t, 5)
		rack[1].Link.SetSilent(true)
		var mu sync.Mutex
		var proposed []string
		dial := f.dialFn
		f.dialFn = func(ctx context.Context, n, a string, cfg ipmi.Config) (*ipmi.Session, error) {
			mu.Lock()
			proposed = append(proposed, fmt.Sprint(cfg.CipherSuites))
			mu.Unlock()
			return dial(ctx, n, a, cfg)
		}
		if err := rack[3].Server.Chassis().Control(ipmi.PowerOff); err != nil {
			t.Fatal(err)
		}
		lines, res := runLines(f, hosts, mustParse(t, "power", "status"))
		want := []string{"n1: on", "n2: error: ", "n3: on", "n4: off", "n5: on"}
		if len(lines) != len(want) {
			t.Fatalf("lines %q", lines)
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, want[i]) || (want[i] == "n2: error: " && !strings.Contains(l, "no answer")) {
				t.Errorf("line %d: %q, want %q", i, l, want[i])
			}
		}
		err := fleetOutcome(hosts, res)
		if ExitCode(err) != ExitUnreachable || err.Error() != "1 of 5 hosts failed: n2" {
			t.Errorf("outcome %v (exit %d), want 1 of 5 failed, exit %d", err, ExitCode(err), ExitUnreachable)
		}
		// The sessions begun before one had negotiated negotiate (at most
		// --fanout of them); the others propose the suite it found.
		negotiated := 0
		for _, p := range proposed {
			switch p {
			case "[]":
				negotiated++
			case "[17]":
			default:
				t.Errorf("a dial proposed %s", p)
			}
		}
		if negotiated < 1 || negotiated > f.fanout || len(proposed) != 5 {
			t.Errorf("dials proposed %q: want at most %d negotiating, the rest [17]", proposed, f.fanout)
		}
	})
}

// Actions print "ok"; with a wait, the confirmed state; other commands
// their output on one line.
func TestFleetResultTexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rack, hosts, f := memRack(t, 3)
		lines, _ := runLines(f, hosts, mustParse(t, "power", "off"))
		if strings.Join(lines, "|") != "n1: ok|n2: ok|n3: ok" {
			t.Errorf("power off: %q", lines)
		}
		f.waitFor = 10 * time.Second
		lines, _ = runLines(f, hosts, mustParse(t, "power", "on"))
		if strings.Join(lines, "|") != "n1: on|n2: on|n3: on" {
			t.Errorf("power on with --wait: %q", lines)
		}
		for i, b := range rack {
			if got := len(b.Events.Requests("Chassis Control")); got != 2 {
				t.Errorf("BMC %d: %d Chassis Control requests, want 2", i+1, got)
			}
		}
		lines, _ = runLines(f, hosts[:1], mustParse(t, "bootdev", "status"))
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "n1: Boot device: ") {
			t.Errorf("bootdev status: %q", lines)
		}
	})
}

// --fanout bounds the sessions open at once.
func TestFleetFanout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rack, hosts, f := memRack(t, 6)
		var mu sync.Mutex
		var open, most int
		dial := f.dialFn
		f.dialFn = func(ctx context.Context, n, a string, cfg ipmi.Config) (*ipmi.Session, error) {
			mu.Lock()
			open++
			most = max(most, open)
			mu.Unlock()
			defer func() { mu.Lock(); open--; mu.Unlock() }()
			return dial(ctx, n, a, cfg)
		}
		_ = rack
		f.fanout = 2
		if _, res := runLines(f, hosts, mustParse(t, "power", "status")); fleetOutcome(hosts, res) != nil {
			t.Fatal(fleetOutcome(hosts, res))
		}
		if most > 2 {
			t.Errorf("%d dials at once, fan-out 2", most)
		}
	})
}

// waitPower returns once the BMC reports the state, and gives up at its
// bound saying what it saw.
func TestWaitPower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		s := b.Session(t, fakebmctest.Admin())
		go func() {
			time.Sleep(3 * time.Second) // fake time: the machine goes off later
			_ = b.Server.Chassis().Control(ipmi.PowerOff)
		}()
		start := time.Now()
		if err := waitPower(context.Background(), s, command.PowerOff, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 3*time.Second || d > 3*time.Second+waitPoll {
			t.Errorf("confirmed after %v, want 3s to 3s+%v", d, waitPoll)
		}
		err := waitPower(context.Background(), s, command.PowerOn, 2*time.Second)
		if !errors.Is(err, errWaitTimeout) || !strings.Contains(err.Error(), "still off after 2s (want on)") {
			t.Errorf("wait for on: %v", err)
		}
		if ExitCode(err) != ExitError {
			t.Errorf("exit %d, want %d", ExitCode(err), ExitError)
		}
	})
}

// The failed hosts' exit code when they agree, else 1.
func TestFleetOutcomeCodes(t *testing.T) {
	hosts := []fleetHost{{name: "a"}, {name: "b"}, {name: "c"}}
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
		res := make([]hostResult, len(tc.errs))
		for i, e := range tc.errs {
			res[i].err = e
		}
		err := fleetOutcome(hosts, res)
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
	o, _ = parseOptions([]string{"-H", "n[1-2]", "-p", "624", "info"}, io.Discard)
	hs, err := o.fleetHosts()
	if err != nil || len(hs) != 2 || hs[1] != (fleetHost{"n2", "n2:624"}) {
		t.Errorf("hosts %v, %v", hs, err)
	}
}
