package fakebmc_test

import (
	"context"
	"errors"
	"regexp"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

func completionCode(err error) ipmi.CompletionCode {
	var ce *ipmi.CompletionError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// A power hook that blocks delays only its own request: another session's
// requests are answered and SOL output flows meanwhile; power commands
// arriving meanwhile are refused with node busy; the requester's
// retransmissions do not run the hook again; the change takes effect once
// the hook returns, and the answer comes then.
func TestSlowPowerHookBlocksOnlyItsRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered := make(chan ipmi.ChassisAction, 4)
		release := make(chan struct{})
		defer close(release) // also when the test fails: the hook must end
		var calls atomic.Int32
		ch := fakebmc.NewChassis()
		ch.HookTimeout = time.Minute
		ch.Hook = func(ctx context.Context, a ipmi.ChassisAction) error {
			calls.Add(1)
			entered <- a
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		var offs, ons atomic.Int32
		ch.OnPower(func(e fakebmc.PowerEvent) {
			switch e.Kind {
			case fakebmc.PowerOffEvent:
				offs.Add(1)
			case fakebmc.PowerOnEvent:
				ons.Add(1)
			}
		})
		bmc := fakebmctest.New(t, fakebmc.Config{Chassis: ch})
		a, b := bmc.Session(t, admin), bmc.Session(t, admin)
		ctx := context.Background()

		errc := make(chan error, 1)
		go func() { errc <- a.ChassisControl(ctx, ipmi.PowerCycle) }()
		if got := <-entered; got != ipmi.PowerCycle {
			t.Fatalf("hook ran for %v", got)
		}

		if _, err := b.GetDeviceID(ctx); err != nil {
			t.Fatalf("Get Device ID while a hook runs: %v", err)
		}
		sol := activateSOL(t, b)
		sol.send("typed while the hook runs")
		sol.waitRe(regexp.MustCompile("typed while the hook runs"), 0, 5*time.Second)
		if err := b.ChassisControl(ctx, ipmi.PowerOff); completionCode(err) != ipmi.CCNodeBusy {
			t.Errorf("power off while a hook runs: %v, want completion code 0xC0", err)
		}
		if st, err := b.ChassisStatus(ctx); err != nil || !st.PowerOn {
			t.Errorf("chassis status while the cycle's hook runs: %+v, %v; want on", st, err)
		}

		// A's session resends its request after 1 s, 2.5 s, 4.5 s.
		time.Sleep(3 * time.Second)
		select {
		case err := <-errc:
			t.Fatalf("power cycle answered before its hook returned: %v", err)
		default:
		}
		if n := a.Stats().Retransmissions; n < 2 {
			t.Fatalf("%d retransmissions of power cycle, want 2 by now", n)
		}
		release <- struct{}{}
		if err := <-errc; err != nil {
			t.Fatalf("power cycle: %v", err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("hook ran %d times for one power cycle", n)
		}
		if offs.Load() != 1 || ons.Load() != 1 {
			t.Errorf("power cycle gave %d off and %d on events, want 1 and 1", offs.Load(), ons.Load())
		}
		// The chassis is free again: the next command runs its hook.
		go func() { errc <- b.ChassisControl(ctx, ipmi.PowerOff) }()
		<-entered
		release <- struct{}{}
		if err := <-errc; err != nil {
			t.Fatalf("power off after the cycle: %v", err)
		}
		if ch.PoweredOn() {
			t.Error("still powered on after power off")
		}
	})
}

// A hook that outlives HookTimeout (even one that ignores its context)
// makes the request fail with completion code 0xC3 and changes nothing;
// the chassis takes the next command.
func TestHookTimeoutAnswersCompletionCode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stuck := make(chan struct{})
		defer close(stuck)
		var calls atomic.Int32
		ch := fakebmc.NewChassis()
		ch.HookTimeout = 2 * time.Second
		ch.Hook = func(ctx context.Context, a ipmi.ChassisAction) error {
			if calls.Add(1) == 1 {
				<-stuck // deaf to ctx
			}
			return nil
		}
		s := fakebmctest.New(t, fakebmc.Config{Chassis: ch}).Session(t, admin)
		ctx := context.Background()
		start := time.Now()
		err := s.ChassisControl(ctx, ipmi.PowerOff)
		if completionCode(err) != ipmi.CCTimeout {
			t.Fatalf("power off with a stuck hook: %v, want completion code 0xC3", err)
		}
		if d := time.Since(start); d < 2*time.Second || d > 3*time.Second {
			t.Errorf("answered after %v, want the hook timeout (2 s)", d)
		}
		if !ch.PoweredOn() {
			t.Error("powered off although the hook never agreed")
		}
		if err := s.ChassisControl(ctx, ipmi.PowerOff); err != nil {
			t.Fatalf("power off after the timeout: %v", err)
		}
		if ch.PoweredOn() {
			t.Error("still on after power off")
		}
	})
}

// Boot flag writes with a hook take the same path: the BMC answers others
// meanwhile, a failing hook refuses the change with 0xD5 and leaves the
// flags as they were.
func TestBootHookRunsOutsideTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered := make(chan ipmi.BootFlags, 1)
		verdict := make(chan error, 1)
		ended := make(chan struct{})
		defer close(ended) // also when the test fails: the hook must end
		ch := fakebmc.NewChassis()
		ch.BootHook = func(ctx context.Context, f ipmi.BootFlags) error {
			entered <- f
			select {
			case err := <-verdict:
				return err
			case <-ended:
				return nil
			}
		}
		bmc := fakebmctest.New(t, fakebmc.Config{Chassis: ch})
		a, b := bmc.Session(t, admin), bmc.Session(t, admin)
		ctx := context.Background()
		errc := make(chan error, 1)
		go func() { errc <- a.SetBootFlags(ctx, ipmi.BootFlags{Device: ipmi.BootPXE}) }()
		if f := <-entered; f.Device != ipmi.BootPXE {
			t.Fatalf("boot hook saw %v", f)
		}
		if _, err := b.GetDeviceID(ctx); err != nil {
			t.Fatalf("Get Device ID while a boot hook runs: %v", err)
		}
		verdict <- errors.New("refused")
		if err := <-errc; completionCode(err) != ipmi.CCNotSupportedNow {
			t.Fatalf("boot flags refused by the hook: %v, want completion code 0xD5", err)
		}
		if f := ch.BootFlags(); f.Valid {
			t.Errorf("boot flags %v stored although the hook refused", f)
		}
	})
}

// Faults.ChassisDelay makes power commands slow without a hook.
func TestChassisDelayFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bmc := fakebmctest.New(t, fakebmc.Config{Faults: fakebmc.Faults{ChassisDelay: 1500 * time.Millisecond}})
		a, b := bmc.Session(t, admin), bmc.Session(t, admin)
		ctx := context.Background()
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- a.ChassisControl(ctx, ipmi.PowerOff) }()
		synctest.Wait()
		if err := b.ChassisControl(ctx, ipmi.PowerOn); completionCode(err) != ipmi.CCNodeBusy {
			t.Errorf("power on during a slow power off: %v, want 0xC0", err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("slow power off: %v", err)
		}
		if d := time.Since(start); d != 1500*time.Millisecond {
			t.Errorf("answered after %v, want 1.5 s", d)
		}
	})
}
