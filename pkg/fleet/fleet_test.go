package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/fleet"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// rack starts n BMCs on one memnet network; host "nI" is the rack's
// "bmc-I". The config dials them there, with short timeouts.
func rack(t *testing.T, n int) ([]*fakebmctest.BMC, []fleet.Host, fleet.Config) {
	t.Helper()
	bmcs := fakebmctest.NewRack(t, n, fakebmc.Config{})
	net := bmcs[0].Network()
	hosts := make([]fleet.Host, n)
	for i := range hosts {
		hosts[i] = fleet.Host{Name: fmt.Sprintf("n%d", i+1), Addr: fmt.Sprintf("bmc-%d", i+1)}
	}
	cfg := fakebmctest.Admin()
	cfg.Timeout, cfg.Retries = 200*time.Millisecond, 1
	dial := fleet.OverTransport(func(_ context.Context, addr string) (ipmi.Transport, error) {
		c, err := net.Dial(addr)
		if err != nil {
			return nil, err // not a nil *memnet.Conn in the interface
		}
		return c, nil
	})
	return bmcs, hosts, fleet.Config{Session: cfg, Fanout: 2, Dial: dial}
}

func parse(t *testing.T, words ...string) *command.Call {
	t.Helper()
	c, err := command.Parse(command.OneShot, words)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Results come in the hosts' order; a silent BMC fails alone; the first
// sessions negotiate the suite and the others propose it.
func TestRunOrderAndSuite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bmcs, hosts, cfg := rack(t, 5)
		bmcs[1].Link.SetSilent(true)
		if err := bmcs[3].Server.Chassis().Control(ipmi.PowerOff); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var proposed []string
		dial := cfg.Dial
		cfg.Dial = func(ctx context.Context, n, a string, c ipmi.Config) (*ipmi.Session, error) {
			mu.Lock()
			proposed = append(proposed, fmt.Sprint(c.CipherSuites))
			mu.Unlock()
			return dial(ctx, n, a, c)
		}
		var emitted []string
		results := fleet.New(cfg).Run(context.Background(), hosts, parse(t, "power", "status"), func(r fleet.Result) {
			emitted = append(emitted, r.Host.Name)
		})
		if strings.Join(emitted, " ") != "n1 n2 n3 n4 n5" {
			t.Errorf("emitted in the order %v", emitted)
		}
		want := []command.PowerState{command.PowerOn, command.PowerUnknown, command.PowerOn, command.PowerOff, command.PowerOn}
		for i, r := range results {
			switch {
			case r.Host != hosts[i]:
				t.Errorf("result %d is %v's", i, r.Host)
			case i == 1:
				if !errors.Is(r.Err, ipmi.ErrNoResponse) {
					t.Errorf("silent n2: %v", r.Err)
				}
			case r.Err != nil || r.Result.Power != want[i]:
				t.Errorf("%s: %v, %v; want %v", r.Host.Name, r.Result.Power, r.Err, want[i])
			}
		}
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
		if negotiated < 1 || negotiated > cfg.Fanout || len(proposed) != 5 {
			t.Errorf("dials proposed %q: want 1 to %d negotiating, the rest [17]", proposed, cfg.Fanout)
		}
	})
}

// Fanout bounds the sessions set up at once.
func TestRunFanout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, hosts, cfg := rack(t, 6)
		var mu sync.Mutex
		var open, most int
		dial := cfg.Dial
		cfg.Dial = func(ctx context.Context, n, a string, c ipmi.Config) (*ipmi.Session, error) {
			mu.Lock()
			open++
			most = max(most, open)
			mu.Unlock()
			defer func() { mu.Lock(); open--; mu.Unlock() }()
			return dial(ctx, n, a, c)
		}
		for _, r := range fleet.New(cfg).Run(context.Background(), hosts, parse(t, "power", "status"), nil) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		if most != 2 {
			t.Errorf("%d dials at once, fan-out 2", most)
		}
	})
}

// With Wait, an action's Result carries the state the BMC confirmed.
func TestRunWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bmcs, hosts, cfg := rack(t, 3)
		cfg.Wait = 10 * time.Second
		r := fleet.New(cfg)
		for _, tc := range []struct {
			action string
			want   command.PowerState
		}{{"off", command.PowerOff}, {"on", command.PowerOn}, {"cycle", command.PowerOn}} {
			for _, res := range r.Run(context.Background(), hosts, parse(t, "power", tc.action), nil) {
				if res.Err != nil || res.Confirmed != tc.want {
					t.Errorf("power %s on %s: confirmed %v, %v", tc.action, res.Host.Name, res.Confirmed, res.Err)
				}
			}
		}
		for i, b := range bmcs {
			if got := len(b.Events.Requests("Chassis Control")); got != 3 {
				t.Errorf("BMC %d: %d Chassis Control requests, want 3", i+1, got)
			}
		}
		// Nothing to confirm after status.
		for _, res := range r.Run(context.Background(), hosts[:1], parse(t, "power", "status"), nil) {
			if res.Confirmed != command.PowerUnknown {
				t.Errorf("status confirmed %v", res.Confirmed)
			}
		}
	})
}

// WaitPower returns once the BMC reports the state, gives up at its bound
// saying what it saw, and ends with its context.
func TestWaitPower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		s := b.Session(t, fakebmctest.Admin())
		go func() {
			time.Sleep(3 * time.Second) // fake time: the machine goes off later
			_ = b.Server.Chassis().Control(ipmi.PowerOff)
		}()
		start := time.Now()
		if err := fleet.WaitPower(context.Background(), s, command.PowerOff, 10*time.Second, 0); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 3*time.Second || d > 3*time.Second+fleet.DefaultPoll {
			t.Errorf("confirmed after %v, want 3s to 3s+%v", d, fleet.DefaultPoll)
		}
		err := fleet.WaitPower(context.Background(), s, command.PowerOn, 2*time.Second, time.Second)
		if !errors.Is(err, fleet.ErrNotConfirmed) || !strings.Contains(err.Error(), "still off after 2s (want on)") {
			t.Errorf("wait for on: %v", err)
		}
		cause := errors.New("ended by SIGTERM")
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(time.Second, func() { cancel(cause) })
		if err := fleet.WaitPower(ctx, s, command.PowerOn, time.Minute, 0); err != cause {
			t.Errorf("cancelled wait: %v, want its cause", err)
		}
		b.Link.SetSilent(true)
		err = fleet.WaitPower(context.Background(), s, command.PowerOn, 3*time.Second, 0)
		if !errors.Is(err, fleet.ErrNotConfirmed) || !strings.Contains(err.Error(), "no answer from the BMC in 3s (want on)") {
			t.Errorf("silent BMC: %v", err)
		}
	})
}

func TestTarget(t *testing.T) {
	for words, want := range map[string]command.PowerState{
		"power on": command.PowerOn, "power cycle": command.PowerOn, "power reset": command.PowerOn,
		"power off": command.PowerOff, "power soft": command.PowerOff,
		"power diag": command.PowerUnknown, "power status": command.PowerUnknown, "bootdev pxe": command.PowerUnknown,
		"info": command.PowerUnknown,
	} {
		got, ok := fleet.Target(parse(t, strings.Fields(words)...))
		if got != want || ok != (want != command.PowerUnknown) {
			t.Errorf("%s: %v, %v", words, got, ok)
		}
	}
}
