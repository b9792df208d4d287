package fakebmctest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/memnet"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// In memory, inside a synctest bubble: a session, a command, and the BMC's
// events, typed and stamped with the bubble's clock.
func TestInMemoryUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		if b.Addr != "bmc" || b.Server.Addr() != "bmc" || b.Network() == nil {
			t.Fatalf("addr %q, network %v: want bmc on a memnet network", b.Addr, b.Network())
		}
		start := time.Now()
		s := b.Session(t, fakebmctest.Admin())
		time.Sleep(3 * time.Second) // fake time: the event below is stamped 3 s later
		if err := s.ChassisControl(context.Background(), ipmi.PowerOff); err != nil {
			t.Fatal(err)
		}
		b.Events.WaitFor(t, time.Second, fakebmc.EventSessionOpen, fakebmc.EventChassisControl)
		if got := b.Events.Of(fakebmc.EventSessionOpen); len(got) != 1 || got[0].Detail != "admin" || !got[0].Time.Equal(start) {
			t.Errorf("session-open events %+v, want one for admin at %v", got, start)
		}
		if ts := b.Events.Times(fakebmc.EventChassisControl); len(ts) != 1 || ts[0].Sub(start) != 3*time.Second {
			t.Errorf("chassis-control at %v, want 3 s after the start", ts)
		}
		if n := len(b.Events.Requests("Chassis Control")); n != 1 {
			t.Errorf("%d Chassis Control requests, want 1", n)
		}
		if b.Server.Chassis().PoweredOn() {
			t.Error("still on after power off")
		}
		if n := b.Events.OpenSessions(); n != 1 {
			t.Errorf("%d sessions open, want 1", n)
		}
		s.Close()
		b.Events.WaitFor(t, time.Second, fakebmc.EventSessionClose)
		if n := b.Events.OpenSessions(); n != 0 {
			t.Errorf("%d sessions open after Close, want 0", n)
		}
		if s := b.Events.String(); !strings.Contains(s, "session-open(admin)") || strings.Contains(s, "request") {
			t.Errorf("String() = %q, want the events but requests", s)
		}
	})
}

// Over UDP loopback, for programs in another process; Transport dials the
// same way a test that sets up its own session would.
func TestOverUDP(t *testing.T) {
	b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""))
	if b.Network() != nil || !strings.HasPrefix(b.Addr, "127.0.0.1:") || b.Server.Addr() != b.Addr {
		t.Fatalf("addr %q, network %v: want a UDP port on 127.0.0.1", b.Addr, b.Network())
	}
	s, err := ipmi.NewSession(context.Background(), b.Transport(t), fakebmctest.Admin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeviceID(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b.Events.WaitFor(t, 5*time.Second, fakebmc.EventSessionClose)
}

// DialTransport is a dial function for a program under test: each call a
// new transport, to the BMC wherever it serves.
func TestDialTransport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		var dial func(context.Context) (ipmi.Transport, error) = b.DialTransport
		for range 2 {
			tr, err := dial(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			s, err := ipmi.NewSession(context.Background(), tr, fakebmctest.Admin())
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		}
		if n := b.Events.Count(fakebmc.EventSessionClose); n != 2 {
			t.Errorf("%d sessions closed, want 2", n)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := b.DialTransport(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("dial with a canceled context: %v", err)
		}
	})
}

// A BMC closed and started again at the same address, as after a reboot:
// in memory and on a fixed UDP port.
func TestRestartAtSameAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &memnet.Network{}
		first := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.Network(n, "bmc-a"))
		first.Server.Close()
		again := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.Network(n, "bmc-a"))
		again.Session(t, fakebmctest.Admin())
	})
	first := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""))
	first.Server.Close()
	again := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(first.Addr))
	if again.Addr != first.Addr {
		t.Fatalf("restarted at %s, want %s", again.Addr, first.Addr)
	}
	again.Session(t, fakebmctest.Admin())
}

// Restart reboots the BMC in place: sessions gone, same address, same host
// and event log, the faults from their seed again.
func TestRestart(t *testing.T) {
	restart := func(t *testing.T, opts ...fakebmctest.Option) {
		b := fakebmctest.New(t, fakebmc.Config{}, append(opts, fakebmctest.Impair(impair.Config{Seed: 3}))...)
		addr, host, oldSrv, oldLink := b.Addr, b.Host, b.Server, b.Link
		cfg := fakebmctest.Admin()
		cfg.Retries = -1
		cfg.Timeout = 100 * time.Millisecond
		s := b.Session(t, cfg)
		b.Link.SetSilent(true)
		b.Restart(t)
		if b.Addr != addr || b.Host != host || b.Server == oldSrv || b.Link == oldLink {
			t.Fatalf("after Restart: addr %s, host %p, server %p, link %p; before %s, %p, %p, %p",
				b.Addr, b.Host, b.Server, b.Link, addr, host, oldSrv, oldLink)
		}
		if b.Server.Addr() != addr {
			t.Errorf("the new server serves %s, want %s", b.Server.Addr(), addr)
		}
		if _, err := s.GetDeviceID(context.Background()); !errors.Is(err, ipmi.ErrNoResponse) {
			t.Errorf("the old session after a reboot: %v, want no answer", err)
		}
		// A fresh link: not silent.
		b.Session(t, fakebmctest.Admin())
		if n := b.Events.Count(fakebmc.EventSessionOpen); n != 2 {
			t.Errorf("%d session-open events across the reboot, want 2", n)
		}
	}
	t.Run("memory", func(t *testing.T) { synctest.Test(t, func(t *testing.T) { restart(t) }) })
	t.Run("UDP", func(t *testing.T) { restart(t, fakebmctest.UDP("")) })
	b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.PacketConn(mustListen(t)))
	ft := &fakeTB{TB: t}
	b.Restart(ft)
	if len(ft.failures) != 1 || !strings.Contains(ft.failures[0], "cannot be restarted") {
		t.Errorf("restarting a BMC on the test's own conn: %q", ft.failures)
	}
}

func mustListen(t *testing.T) net.PacketConn {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// The recording host keeps input, counts BREAKs, echoes unless NoEcho, and
// writes what the test gives it.
func TestRecordingHost(t *testing.T) {
	for _, echo := range []bool{true, false} {
		t.Run(fmt.Sprintf("echo %v", echo), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var opts []fakebmctest.Option
				if !echo {
					opts = append(opts, fakebmctest.NoEcho())
				}
				b := fakebmctest.New(t, fakebmc.Config{}, opts...)
				st, err := sol.Activate(context.Background(), b.Session(t, fakebmctest.Admin()), sol.Config{})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				st.Write([]byte("typed"))
				if got := b.Host.WaitInput(t, time.Second, 5); string(got) != "typed" {
					t.Fatalf("host got %q", got)
				}
				// Without echo, the first output the console reads is the
				// host's own.
				if echo {
					got := make([]byte, 5)
					if _, err := io.ReadFull(st, got); err != nil || string(got) != "typed" {
						t.Fatalf("echo %q, %v", got, err)
					}
				}
				go b.Host.Write([]byte("from the host"))
				got := make([]byte, 13)
				if _, err := io.ReadFull(st, got); err != nil || string(got) != "from the host" {
					t.Fatalf("console read %q, %v", got, err)
				}
				if err := st.SendBreak(); err != nil {
					t.Fatal(err)
				}
				b.Host.WaitBreaks(t, time.Second, 1)
				if start := time.Now(); b.Host.AwaitBreaks(time.Second, 2) || time.Since(start) != time.Second {
					t.Errorf("AwaitBreaks(2) true, or false before its bound, with one BREAK sent")
				}
				if b.Host.Breaks() != 1 || b.Events.Count(fakebmc.EventBreak) != 1 {
					t.Errorf("%d breaks at the host, %d break events; want 1, 1", b.Host.Breaks(), b.Events.Count(fakebmc.EventBreak))
				}
				in, ok := b.Host.Await(time.Minute, func(in []byte) bool { return len(in) > 5 })
				if ok || string(in) != "typed" {
					t.Errorf("Await = %q, %v; want the 5 bytes and false after a minute", in, ok)
				}
			})
		})
	}
}

// ImpairEach faults one direction only: lost requests never reach the BMC;
// lost answers leave it having seen them.
func TestImpairEachDirection(t *testing.T) {
	cfg := fakebmctest.Admin()
	cfg.Retries = 1
	for _, tc := range []struct {
		name     string
		in, out  impair.Config
		received bool
	}{
		{"requests lost", impair.Config{Drop: 1}, impair.Config{}, false},
		{"answers lost", impair.Config{}, impair.Config{Drop: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.ImpairEach(tc.in, tc.out))
				if _, err := b.Dial(t, cfg); !errors.Is(err, ipmi.ErrNoResponse) {
					t.Fatalf("setup through a dead direction: %v, want ErrNoResponse", err)
				}
				if got := b.Server.Stats().Received > 0; got != tc.received {
					t.Errorf("the BMC received %d datagrams", b.Server.Stats().Received)
				}
				if b.Link.Stats().Dropped == 0 {
					t.Error("nothing dropped")
				}
			})
		})
	}
}

// Impair faults both ways from its seed, and Link changes the faults while
// the test runs.
func TestImpairAndLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.Impair(impair.Config{Drop: 0.3, Seed: 4}))
		cfg := fakebmctest.Admin()
		cfg.Retries = 15
		s := b.Session(t, cfg)
		if b.Link.Stats().Dropped == 0 {
			t.Error("30% loss dropped nothing")
		}
		b.Link.SetSilent(true)
		if _, err := s.GetDeviceID(context.Background()); !errors.Is(err, ipmi.ErrNoResponse) {
			t.Errorf("request to a silent BMC: %v", err)
		}
	})
}

// Tap sees the datagrams on the wire, beneath the impairment.
func TestTap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var read, written atomic.Int64
		b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.Tap(func(pc net.PacketConn) net.PacketConn {
			return &countConn{PacketConn: pc, read: &read, written: &written}
		}))
		b.Session(t, fakebmctest.Admin())
		synctest.Wait()
		st := b.Server.Stats()
		if uint64(read.Load()) != st.Received || uint64(written.Load()) != st.Sent || st.Sent == 0 {
			t.Errorf("tap saw %d read, %d written; the BMC %+v", read.Load(), written.Load(), st)
		}
	})
}

type countConn struct {
	net.PacketConn
	read, written *atomic.Int64
}

func (c *countConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		c.read.Add(1)
	}
	return n, a, err
}

func (c *countConn) WriteTo(p []byte, a net.Addr) (int, error) {
	c.written.Add(1)
	return c.PacketConn.WriteTo(p, a)
}

// A test's own OnEvent still sees every event, in order.
func TestOnEventChained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var seen []fakebmc.Event
		b := fakebmctest.New(t, fakebmc.Config{OnEvent: func(e fakebmc.Event) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, e)
		}})
		b.Session(t, fakebmctest.Admin())
		synctest.Wait()
		all := b.Events.All()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != len(all) || len(all) < 2 || all[0].Kind != fakebmc.EventSessionOpen {
			t.Fatalf("OnEvent saw %v; recorded %v", seen, all)
		}
		for i := range all {
			if seen[i] != all[i] {
				t.Errorf("event %d: OnEvent saw %v, recorded %v", i, seen[i], all[i])
			}
		}
	})
}

// An event is in by the time the console has the answer to its request,
// even though the BMC records it after answering (Close Session).
func TestEventOfAnAnsweredRequestIsIn(t *testing.T) {
	b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""))
	for i := range 20 {
		s := b.Session(t, fakebmctest.Admin())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n := b.Events.Count(fakebmc.EventSessionClose); n != i+1 {
			t.Fatalf("%d session-close events after %d Close Session answered", n, i+1)
		}
	}
}

// fakeTB records Fatalf instead of stopping the test, to check what the
// waits say when they give up.
type fakeTB struct {
	testing.TB
	failures []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}

// Every wait gives up at its bound (fake time), saying what it waited for.
func TestWaitsGiveUpAtTheirBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		b.Session(t, fakebmctest.Admin())
		ft := &fakeTB{TB: t}
		for _, w := range []struct {
			name string
			wait func()
			want string
		}{
			{"WaitFor", func() { b.Events.WaitFor(ft, time.Second, fakebmc.EventSessionOpen, fakebmc.EventActivate) }, `the BMC saw no "activate" within 1s; events: session-open(admin)`},
			{"WaitN", func() { b.Events.WaitN(ft, time.Second, fakebmc.EventSessionOpen, 2) }, `the BMC saw 1× "session-open" within 1s, want 2`},
			{"WaitRequest", func() { b.Events.WaitRequest(ft, time.Second, "Get Chassis Status") }, `the BMC got no "Get Chassis Status" request within 1s`},
			{"WaitInput", func() { b.Host.WaitInput(ft, time.Second, 1) }, "the host got 0 bytes of console input within 1s, want 1"},
			{"WaitBreaks", func() { b.Host.WaitBreaks(ft, time.Second, 1) }, "the host got 0 BREAKs within 1s, want 1"},
		} {
			ft.failures = nil
			start := time.Now()
			w.wait()
			if d := time.Since(start); d != time.Second {
				t.Errorf("%s gave up after %v, want 1s", w.name, d)
			}
			if len(ft.failures) != 1 || !strings.Contains(ft.failures[0], w.want) {
				t.Errorf("%s failed with %q, want %q", w.name, ft.failures, w.want)
			}
		}
		// Met at once: no wait, no failure.
		ft.failures = nil
		start := time.Now()
		b.Events.WaitFor(ft, time.Second, fakebmc.EventSessionOpen)
		b.Events.WaitN(ft, time.Second, fakebmc.EventSessionOpen, 1)
		b.Events.WaitRequest(ft, time.Second, "Set Session Privilege Level")
		if len(ft.failures) != 0 || time.Since(start) != 0 {
			t.Errorf("waits already met: %q after %v", ft.failures, time.Since(start))
		}
	})
}

// A rack: many BMCs on one network, each with its own chassis, host and
// events.
func TestRack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rack := fakebmctest.NewRack(t, 50, fakebmc.Config{})
		seen := map[string]bool{}
		for i, b := range rack {
			if want := fmt.Sprintf("bmc-%d", i+1); b.Addr != want || b.Network() != rack[0].Network() {
				t.Fatalf("BMC %d at %s on %p, want %s on %p", i, b.Addr, b.Network(), want, rack[0].Network())
			}
			seen[b.Addr] = true
		}
		s := rack[7].Session(t, fakebmctest.Admin())
		if err := s.ChassisControl(context.Background(), ipmi.PowerOff); err != nil {
			t.Fatal(err)
		}
		for i, b := range rack {
			if on := b.Server.Chassis().PoweredOn(); on != (i != 7) {
				t.Errorf("BMC %d powered on = %v", i, on)
			}
			if n := b.Events.Count(fakebmc.EventChassisControl); n != map[bool]int{true: 1}[i == 7] {
				t.Errorf("BMC %d saw %d chassis-control events", i, n)
			}
			if b.Host == nil || b.Host == rack[0].Host && i != 0 {
				t.Fatalf("BMC %d has host %p, want a recording host of its own", i, b.Host)
			}
		}
	})
	for _, b := range fakebmctest.NewRack(t, 3, fakebmc.Config{}, fakebmctest.UDP("")) {
		if b.Network() != nil {
			t.Fatalf("BMC at %s on memnet, want UDP", b.Addr)
		}
		b.Session(t, fakebmctest.Admin())
	}
}

// A thousand BMCs in one process, with a session to each: what issue 11's
// console server will be tested against.
func TestRackOfAThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("a thousand sessions")
	}
	synctest.Test(t, func(t *testing.T) {
		rack := fakebmctest.NewRack(t, 1000, fakebmc.Config{})
		cfg := fakebmctest.Admin()
		cfg.CipherSuites = []uint8{17}
		var wg sync.WaitGroup
		for _, b := range rack {
			wg.Go(func() {
				if _, err := b.Dial(t, cfg); err != nil {
					t.Errorf("%s: %v", b.Addr, err)
				}
			})
		}
		wg.Wait()
		for _, b := range rack {
			if n := b.Events.OpenSessions(); n != 1 {
				t.Fatalf("%s has %d sessions open, want 1", b.Addr, n)
			}
		}
	})
}
