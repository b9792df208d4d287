package fakebmc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

func newRack(t *testing.T) *fakebmc.Rack {
	r := fakebmc.NewRack()
	t.Cleanup(func() { r.Close() })
	return r
}

func addBMC(t *testing.T, r *fakebmc.Rack, name string) *fakebmc.RackMember {
	t.Helper()
	m, err := r.Add(fakebmc.RackBMC{Name: name, Listen: "127.0.0.1:0", Config: fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{}}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func dialMember(t *testing.T, m *fakebmc.RackMember) *ipmi.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := fakebmctest.Admin()
	// Short waits: the test closes sessions of BMCs it removed.
	cfg.Timeout, cfg.Retries = 300*time.Millisecond, 2
	s, err := ipmi.Dial(ctx, "udp", m.Addr(), cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", m.Name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func powerOn(t *testing.T, s *ipmi.Session) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.ChassisStatus(ctx)
	if err != nil {
		t.Fatalf("chassis status: %v", err)
	}
	return st.PowerOn
}

// Each BMC of a rack is its own machine: powering one off leaves the
// others on; names are unique; Remove and Replace touch only their BMC,
// and a session on another keeps working across them.
func TestRackMembersAreIndependent(t *testing.T) {
	r := newRack(t)
	a, b := addBMC(t, r, "a"), addBMC(t, r, "b")
	if _, err := r.Add(fakebmc.RackBMC{Name: "a", Listen: "127.0.0.1:0"}); !errors.Is(err, fakebmc.ErrDuplicate) {
		t.Fatalf("second a: %v, want ErrDuplicate", err)
	}
	sa, sb := dialMember(t, a), dialMember(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sb.ChassisControl(ctx, ipmi.PowerOff); err != nil {
		t.Fatal(err)
	}
	if !powerOn(t, sa) || powerOn(t, sb) {
		t.Fatalf("after powering b off: a on %v, b on %v; want true, false", powerOn(t, sa), powerOn(t, sb))
	}
	c := addBMC(t, r, "c")
	if err := r.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove("b"); !errors.Is(err, fakebmc.ErrNoSuchBMC) {
		t.Fatalf("removing b twice: %v, want ErrNoSuchBMC", err)
	}
	if !powerOn(t, sa) {
		t.Fatal("a's session saw the power off")
	}
	// Replace c at its own address: a new machine (power on again) and
	// the listing keeps its place.
	if err := dialMember(t, c).ChassisControl(ctx, ipmi.PowerOff); err != nil {
		t.Fatal(err)
	}
	c2, err := r.Replace(fakebmc.RackBMC{Name: "c", Listen: c.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Addr() != c.Addr() || !powerOn(t, dialMember(t, c2)) {
		t.Fatalf("replaced c at %s (was %s), want the same address and the power on", c2.Addr(), c.Addr())
	}
	d := addBMC(t, r, "d")
	if _, err := r.Replace(fakebmc.RackBMC{Name: "a", Listen: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range r.Members() {
		names = append(names, m.Name)
	}
	if fmt.Sprint(names) != "[a c d]" {
		t.Fatalf("members %v, want [a c d]", names)
	}
	if !powerOn(t, dialMember(t, d)) {
		t.Fatal("d is off")
	}
	r.Close()
	if _, err := r.Add(fakebmc.RackBMC{Name: "e", Listen: "127.0.0.1:0"}); !errors.Is(err, fakebmc.ErrRackClosed) {
		t.Fatalf("Add after Close: %v, want ErrRackClosed", err)
	}
}

// A BMC that cannot listen is an error naming it, and the name stays
// free.
func TestRackAddListenError(t *testing.T) {
	r := newRack(t)
	a := addBMC(t, r, "a")
	_, err := r.Add(fakebmc.RackBMC{Name: "b", Listen: a.Addr()})
	if err == nil || r.Get("b") != nil {
		t.Fatalf("b on a's address: %v, member %v; want an error and no b", err, r.Get("b"))
	}
	if got := err.Error(); got[:len(`fakebmc: BMC "b"`)] != `fakebmc: BMC "b"` {
		t.Errorf("error %q does not name the BMC", got)
	}
	addBMC(t, r, "b")
}
