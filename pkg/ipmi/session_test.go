package ipmi_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

var admin = ipmi.Config{Username: "admin", Password: []byte("password")}

// tapConn remembers what the BMC sent, so tests can replay it.
type tapConn struct {
	net.PacketConn
	mu   sync.Mutex
	sent [][]byte
	to   net.Addr
}

func (c *tapConn) WriteTo(b []byte, a net.Addr) (int, error) {
	c.mu.Lock()
	c.sent = append(c.sent, append([]byte(nil), b...))
	c.to = a
	c.mu.Unlock()
	return c.PacketConn.WriteTo(b, a)
}

func TestEverySuiteOverUDP(t *testing.T) {
	b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""))
	for _, id := range []uint8{1, 2, 3, 15, 16, 17} {
		cfg := admin
		cfg.CipherSuites = []uint8{id}
		s, err := ipmi.Dial(context.Background(), "udp", b.Addr, cfg)
		if err != nil {
			t.Fatalf("suite %d: %v", id, err)
		}
		if s.CipherSuite().ID != id {
			t.Errorf("suite %d: session uses %d", id, s.CipherSuite().ID)
		}
		if s.Privilege() != ipmi.PrivilegeAdministrator {
			t.Errorf("suite %d: privilege %v", id, s.Privilege())
		}
		d, err := s.GetDeviceID(context.Background())
		if err != nil || d.IPMIVersion != 0x02 {
			t.Errorf("suite %d: device ID %+v, %v", id, d, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("suite %d: close: %v", id, err)
		}
	}
	if closes := b.Events.Count(fakebmc.EventSessionClose); closes != 6 {
		t.Errorf("BMC saw %d Close Session, want 6", closes)
	}
	if n := b.Server.Stats().Sessions; n != 0 {
		t.Errorf("%d sessions left on the BMC", n)
	}
}

func TestSuiteZeroNeedsExplicitPermission(t *testing.T) {
	b := fakebmctest.New(t, fakebmc.Config{CipherSuites: []uint8{0, 3}}, fakebmctest.UDP(""))
	cfg := admin
	cfg.CipherSuites = []uint8{0}
	if _, err := ipmi.Dial(context.Background(), "udp", b.Addr, cfg); !errors.Is(err, ipmi.ErrNoCipherSuite) {
		t.Fatalf("suite 0 without permission: %v", err)
	}
	cfg.AllowNoAuth = true
	s, err := ipmi.Dial(context.Background(), "udp", b.Addr, cfg)
	if err != nil {
		t.Fatalf("suite 0 allowed: %v", err)
	}
	s.Close()
}

func TestNegotiation(t *testing.T) {
	tests := []struct {
		name string
		bmc  fakebmc.Config
		want uint8
	}{
		{"prefers 17", fakebmc.Config{}, 17},
		{"3 when listed without 17", fakebmc.Config{CipherSuites: []uint8{1, 2, 3}}, 3},
		{"falls back when the list is not answered", fakebmc.Config{CipherSuites: []uint8{1, 2, 3}, NoCipherSuiteList: true}, 3},
		{"17 when the list is not answered", fakebmc.Config{NoCipherSuiteList: true}, 17},
		{"2 when nothing better", fakebmc.Config{CipherSuites: []uint8{2}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := fakebmctest.New(t, tc.bmc)
				start := time.Now()
				s := b.Session(t, admin)
				if s.CipherSuite().ID != tc.want {
					t.Errorf("negotiated %d, want %d", s.CipherSuite().ID, tc.want)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("setup took %v", d)
				}
			})
		})
	}
}

func TestSetupFailures(t *testing.T) {
	users := []fakebmc.User{
		{Name: "admin", Password: []byte("password")},
		{Name: "oper", Password: []byte("oppass"), MaxPrivilege: ipmi.PrivilegeOperator},
	}
	tests := []struct {
		name  string
		bmc   fakebmc.Config
		cfg   ipmi.Config
		want  error
		suite uint8
	}{
		{"wrong password", fakebmc.Config{Users: users}, ipmi.Config{Username: "admin", Password: []byte("wrong")}, ipmi.ErrAuth, 0},
		{"wrong password suite 3", fakebmc.Config{Users: users}, ipmi.Config{Username: "admin", Password: []byte("wrong"), CipherSuites: []uint8{3}}, ipmi.ErrAuth, 0},
		{"unknown user", fakebmc.Config{Users: users}, ipmi.Config{Username: "nobody", Password: []byte("password")}, ipmi.ErrAuth, 0},
		{"wrong K_g", fakebmc.Config{Users: users, Kg: []byte("secretkey")}, ipmi.Config{Username: "admin", Password: []byte("password"), Kg: []byte("otherkey")}, ipmi.ErrKg, 0},
		{"K_g missing", fakebmc.Config{Users: users, Kg: []byte("secretkey")}, admin, ipmi.ErrKg, 0},
		{"privilege refused", fakebmc.Config{Users: users}, ipmi.Config{Username: "oper", Password: []byte("oppass")}, ipmi.ErrPrivilege, 0},
		{"no common suite", fakebmc.Config{CipherSuites: []uint8{3}}, ipmi.Config{Username: "admin", Password: []byte("password"), CipherSuites: []uint8{17}}, ipmi.ErrNoCipherSuite, 0},
		{"right K_g", fakebmc.Config{Users: users, Kg: []byte("secretkey")}, ipmi.Config{Username: "admin", Password: []byte("password"), Kg: []byte("secretkey")}, nil, 17},
		{"operator at operator", fakebmc.Config{Users: users}, ipmi.Config{Username: "oper", Password: []byte("oppass"), Privilege: ipmi.PrivilegeOperator}, nil, 17},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := fakebmctest.New(t, tc.bmc)
				start := time.Now()
				s, err := b.Dial(t, tc.cfg)
				if tc.want == nil {
					if err != nil {
						t.Fatal(err)
					}
					if s.CipherSuite().ID != tc.suite {
						t.Errorf("suite %d", s.CipherSuite().ID)
					}
					s.Close()
					return
				}
				if err == nil {
					s.Close()
					t.Fatal("session established")
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				// Refusals are answered at once: no retry loop.
				if d := time.Since(start); d > time.Second {
					t.Errorf("failure took %v", d)
				}
			})
		})
	}
}

func TestSilentBMC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		b.Link.SetSilent(true)
		cfg := admin
		cfg.Timeout = 500 * time.Millisecond
		cfg.Retries = 2
		start := time.Now()
		_, err := b.Dial(t, cfg)
		var te *ipmi.TimeoutError
		if !errors.Is(err, ipmi.ErrNoResponse) || !errors.As(err, &te) || te.Addr != "bmc" {
			t.Fatalf("error %v, want a TimeoutError naming bmc", err)
		}
		if d := time.Since(start); d > cfg.RequestBound() {
			t.Errorf("gave up after %v, bound %v", d, cfg.RequestBound())
		}
	})
}

func TestLossyNetwork(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		synctest.Test(t, func(t *testing.T) {
			b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.Impair(impair.Config{Drop: 0.3, Duplicate: 0.3, Reorder: 0.1, Seed: seed}))
			// 30% loss each way: a try succeeds with p = 0.49, so allow
			// enough tries that a give-up would mean a bug, not bad luck.
			cfg := admin
			cfg.Retries = 15
			s, err := b.Dial(t, cfg)
			if err != nil {
				t.Fatalf("seed %d: setup: %v", seed, err)
			}
			defer s.Close()
			for i := range 5 {
				if _, err := s.ChassisStatus(context.Background()); err != nil {
					t.Fatalf("seed %d: request %d: %v", seed, i, err)
				}
			}
			// A lost answer to Chassis Control must not run the action twice.
			if err := s.ChassisControl(context.Background(), ipmi.PowerCycle); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if cycles := b.Events.Count(fakebmc.EventChassisControl); cycles != 1 {
				t.Errorf("seed %d: power cycled %d times: %v", seed, cycles, b.Events.All())
			}
		})
	}
}

func TestGarbageAndReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tap *tapConn
		b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.Tap(func(pc net.PacketConn) net.PacketConn {
			tap = &tapConn{PacketConn: pc}
			return tap
		}))
		s := b.Session(t, admin)
		if _, err := s.GetDeviceID(context.Background()); err != nil {
			t.Fatal(err)
		}
		tap.mu.Lock()
		last := tap.sent[len(tap.sent)-1]
		to := tap.to
		tap.mu.Unlock()
		before := s.Stats()
		inject := func(b []byte) { tap.PacketConn.WriteTo(b, to) }
		inject(last) // replay
		inject([]byte{1, 2, 3})
		inject(append([]byte(nil), last[:20]...)) // truncated
		forged := append([]byte(nil), last...)
		forged[10] += 5 // a fresh sequence number, so the MAC no longer matches
		inject(forged)
		foreign := append([]byte(nil), last...)
		foreign[6] ^= 0xFF // another session's ID
		inject(foreign)
		synctest.Wait()
		after := s.Stats()
		if after.DroppedReplay != before.DroppedReplay+1 {
			t.Errorf("replays dropped %d → %d", before.DroppedReplay, after.DroppedReplay)
		}
		if after.DroppedMalformed < before.DroppedMalformed+2 {
			t.Errorf("malformed dropped %d → %d", before.DroppedMalformed, after.DroppedMalformed)
		}
		if after.DroppedIntegrity != before.DroppedIntegrity+1 {
			t.Errorf("integrity failures %d → %d", before.DroppedIntegrity, after.DroppedIntegrity)
		}
		if after.DroppedForeign != before.DroppedForeign+1 {
			t.Errorf("foreign dropped %d → %d", before.DroppedForeign, after.DroppedForeign)
		}
		if _, err := s.GetDeviceID(context.Background()); err != nil {
			t.Fatalf("session broken by garbage: %v", err)
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
	})
}

func TestBMCSessionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{SessionTimeout: 30 * time.Second})
		cfg := admin
		cfg.Retries = -1
		s := b.Session(t, cfg)
		time.Sleep(29 * time.Second) // advances the bubble's clock
		if _, err := s.GetDeviceID(context.Background()); err != nil {
			t.Fatalf("before the timeout: %v", err)
		}
		time.Sleep(31 * time.Second)
		if _, err := s.GetDeviceID(context.Background()); !errors.Is(err, ipmi.ErrNoResponse) {
			t.Fatalf("after the timeout: %v, want ErrNoResponse", err)
		}
		if b.Events.Count(fakebmc.EventSessionTimeout) == 0 {
			t.Error("BMC did not time the session out")
		}
	})
}

func TestChassisAndBoot(t *testing.T) {
	for _, rejectParam0 := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			b := fakebmctest.New(t, fakebmc.Config{RejectBootParam0: rejectParam0})
			s := b.Session(t, admin)
			ctx := context.Background()
			for _, a := range []ipmi.ChassisAction{ipmi.PowerOff, ipmi.PowerOn, ipmi.PowerCycle, ipmi.SoftShutdown} {
				if err := s.ChassisControl(ctx, a); err != nil {
					t.Fatal(err)
				}
				st, err := s.ChassisStatus(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := a == ipmi.PowerOn || a == ipmi.PowerCycle; st.PowerOn != want {
					t.Errorf("after %v power on = %v", a, st.PowerOn)
				}
			}
			for _, f := range []ipmi.BootFlags{
				{Device: ipmi.BootPXE},
				{Device: ipmi.BootBIOS, Persistent: true, EFI: true},
				{Device: ipmi.BootCDROM, EFI: true},
				{Device: ipmi.BootNone},
			} {
				if err := s.SetBootFlags(ctx, f); err != nil {
					t.Fatalf("rejectParam0=%v: %v", rejectParam0, err)
				}
				got, err := s.BootFlags(ctx)
				if err != nil {
					t.Fatal(err)
				}
				f.Valid = true
				if got.Device != f.Device || got.Persistent != f.Persistent || got.EFI != f.EFI || !got.Valid {
					t.Errorf("read back %v, set %v", got, f)
				}
			}
		})
	}
}

func TestCompletionErrorIsTyped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		s := b.Session(t, admin)
		_, err := s.Do(context.Background(), ipmi.NetFnApp, 0x7F, nil)
		var ce *ipmi.CompletionError
		if !errors.As(err, &ce) || ce.Code != ipmi.CCInvalidCommand {
			t.Fatalf("error %v, want completion code 0xC1", err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte("invalid command")) {
			t.Errorf("message %q does not say what the code means", err)
		}
	})
}

func TestConcurrentRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.Impair(impair.Config{Drop: 0.1, Seed: 3}))
		cfg := admin
		cfg.Retries = 8
		s := b.Session(t, cfg)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := s.GetDeviceID(context.Background()); err != nil {
					t.Error(err)
				}
				if _, err := s.ChassisStatus(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	})
}

func TestClosedSessionRemembersError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		s, err := b.Dial(t, admin)
		if err != nil {
			t.Fatal(err)
		}
		s.Fail(ipmi.ErrSessionLost)
		for range 2 {
			if _, err := s.GetDeviceID(context.Background()); !errors.Is(err, ipmi.ErrSessionLost) {
				t.Fatalf("after failure: %v", err)
			}
		}
		if err := s.Close(); !errors.Is(err, ipmi.ErrSessionLost) {
			t.Fatalf("close: %v", err)
		}
	})
}

func BenchmarkSetupUDP(b *testing.B) {
	srv := fakebmctest.New(b, fakebmc.Config{}, fakebmctest.UDP(""))
	for _, id := range []uint8{3, 17} {
		b.Run(map[uint8]string{3: "suite3", 17: "suite17"}[id], func(b *testing.B) {
			cfg := admin
			cfg.CipherSuites = []uint8{id}
			for range b.N {
				s, err := ipmi.Dial(context.Background(), "udp", srv.Addr, cfg)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
	b.Run("negotiated", func(b *testing.B) {
		for range b.N {
			s, err := ipmi.Dial(context.Background(), "udp", srv.Addr, admin)
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
}
