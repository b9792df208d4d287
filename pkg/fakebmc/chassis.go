package fakebmc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// PowerEventKind says what happened to the simulated host's power.
type PowerEventKind int

// Power event kinds.
const (
	PowerOffEvent PowerEventKind = iota // host lost power
	PowerOnEvent                        // host booting from power-on or reset
	DiagEvent                           // NMI
)

// PowerEvent is a change of the simulated host's power, as the serial host
// side sees it. Boot is the device an override chose for a PowerOnEvent.
type PowerEvent struct {
	Kind PowerEventKind
	Boot ipmi.BootFlags
}

// DefaultHookTimeout bounds a power or boot hook when Chassis.HookTimeout
// is zero. It is shorter than the time ghmicons (7 s) and ipmitool (about
// 10 s) wait for an answer by default, so that the requester hears the
// completion code instead of giving up.
const DefaultHookTimeout = 5 * time.Second

// Errors of chassis actions, for callers that branch on them. The server
// answers ErrChassisBusy with completion code 0xC0 (node busy),
// ErrHookTimeout with 0xC3 (timeout while processing the command) and any
// other hook error with 0xD5 (not supported in the present state); IPMI
// v2.0 §5.2, Table 5-2.
//
// A hook or query that wants another completion code returns a
// *CompletionError.
var (
	ErrChassisBusy = errors.New("fakebmc: chassis busy: a power or boot hook is running")
	ErrHookTimeout = errors.New("fakebmc: hook timed out")
)

// CompletionError is a hook's or query's error that answers the request
// with Code (IPMI v2.0 §5.2, Table 5-2) instead of 0xD5.
type CompletionError struct {
	Code ipmi.CompletionCode
	Err  error
}

func (e *CompletionError) Error() string {
	return fmt.Sprintf("%v (completion code 0x%02X)", e.Err, byte(e.Code))
}

func (e *CompletionError) Unwrap() error { return e.Err }

// completionCode is the answer to a request whose hook or query failed
// with err.
func completionCode(err error) ipmi.CompletionCode {
	var ce *CompletionError
	switch {
	case errors.As(err, &ce):
		return ce.Code
	case errors.Is(err, ErrHookTimeout):
		return ipmi.CCTimeout
	case errors.Is(err, ErrChassisBusy):
		return ipmi.CCNodeBusy
	}
	return ipmi.CCNotSupportedNow
}

// Chassis is the simulated machine: power state and boot flags. Its state
// methods may be called with the server lock held; the hooks never are, so
// a slow hook delays only the request that ran it. Notify receives power
// events (it may be called from any goroutine and must not call back into
// the Server).
type Chassis struct {
	mu        sync.Mutex // guards the fields below
	on        bool
	lastEvent byte
	boot      ipmi.BootFlags
	setInProg byte
	busy      bool // a hook (or a Faults delay) runs; its change is not applied yet
	notify    []func(PowerEvent)

	// Hook, if set, is called for every Chassis Control action before it
	// takes effect; an error refuses the action (cc 0xD5). cmd/fakebmc runs
	// user commands here. It runs without the server lock, one hook per
	// chassis at a time, and must return when ctx ends (HookTimeout, or the
	// server closing); if it does not, it is abandoned.
	Hook func(ctx context.Context, a ipmi.ChassisAction) error
	// BootHook, if set, is told about boot flag changes (boot option
	// parameter 5) before they take effect, like Hook.
	BootHook func(ctx context.Context, f ipmi.BootFlags) error
	// PowerQuery, if set, is asked for the power state on every Get Chassis
	// Status (the machine's real state, as a shipmi provider's status
	// command tells it), without the server lock and under HookTimeout,
	// and the chassis takes the answer as its state. Nil: the built-in
	// state.
	PowerQuery func(ctx context.Context) (on bool, err error)
	// BootQuery, if set, is asked for the boot device on every Get System
	// Boot Options of the boot flags (parameter 5), like PowerQuery.
	BootQuery func(ctx context.Context) (ipmi.BootDevice, error)
	// HookTimeout bounds each Hook and BootHook call; 0 means
	// DefaultHookTimeout. A hook still running then fails the action with
	// ErrHookTimeout (cc 0xC3) and the chassis state stays as it was.
	HookTimeout time.Duration
}

// NewChassis returns a chassis with the power on.
func NewChassis() *Chassis { return &Chassis{on: true} }

// OnPower registers fn to be called on every power event. fn runs
// synchronously, often with the server lock held: it must not block and
// must not call Line or Server methods (hand the event to a goroutine).
func (c *Chassis) OnPower(fn func(PowerEvent)) {
	c.mu.Lock()
	c.notify = append(c.notify, fn)
	c.mu.Unlock()
}

// PoweredOn reports the power state.
func (c *Chassis) PoweredOn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

// Status returns Get Chassis Status data.
func (c *Chassis) Status() ipmi.ChassisStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Restore policy "previous" (bits 6:5 = 01).
	return ipmi.ChassisStatus{PowerOn: c.on, PowerState: 0x20, LastPowerEvent: c.lastEvent}
}

// Control performs a Chassis Control action: it runs Hook (waiting for it,
// up to HookTimeout), then changes the power state. While another action's
// hook runs it fails at once with ErrChassisBusy.
func (c *Chassis) Control(a ipmi.ChassisAction) error {
	if err := c.begin(); err != nil {
		return err
	}
	defer c.end()
	if err := c.runHook(context.Background(), c.controlHook(a, 0)); err != nil {
		return err
	}
	c.apply(a)
	return nil
}

// SetBootFlags stores boot flags after BootHook agreed, as Control does.
func (c *Chassis) SetBootFlags(f ipmi.BootFlags) error {
	if err := c.begin(); err != nil {
		return err
	}
	defer c.end()
	if err := c.runHook(context.Background(), c.bootHook(f, 0)); err != nil {
		return err
	}
	c.setBoot(f)
	return nil
}

// begin claims the chassis for one action with a hook: actions are
// serialised, and one arriving meanwhile is refused rather than queued. A
// BMC busy with a power transition may answer "node busy" (completion code
// 0xC0, IPMI v2.0 §5.2, Table 5-2), and a queue would answer long after the
// requester gave up.
func (c *Chassis) begin() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy {
		return ErrChassisBusy
	}
	c.busy = true
	return nil
}

func (c *Chassis) end() {
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
}

// controlHook is what runs before a Chassis Control action takes effect:
// the Hook, after delay (Faults.ChassisControlDelay). Nil: nothing.
func (c *Chassis) controlHook(a ipmi.ChassisAction, delay time.Duration) func(context.Context) error {
	if c.Hook == nil && delay <= 0 {
		return nil
	}
	return func(ctx context.Context) error {
		if err := sleepCtx(ctx, delay); err != nil {
			return err
		}
		if c.Hook == nil {
			return nil
		}
		return c.Hook(ctx, a)
	}
}

func (c *Chassis) bootHook(f ipmi.BootFlags, delay time.Duration) func(context.Context) error {
	if c.BootHook == nil && delay <= 0 {
		return nil
	}
	return func(ctx context.Context) error {
		if err := sleepCtx(ctx, delay); err != nil {
			return err
		}
		if c.BootHook == nil {
			return nil
		}
		return c.BootHook(ctx, f)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runHook runs fn (nil: nothing) under HookTimeout, without any lock held.
// A hook that ignores its context is abandoned at the deadline: the action
// fails and its late result is dropped.
func (c *Chassis) runHook(parent context.Context, fn func(context.Context) error) error {
	if fn == nil {
		return nil
	}
	d := c.HookTimeout
	if d <= 0 {
		d = DefaultHookTimeout
	}
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- fn(ctx) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil:
		return fmt.Errorf("%w after %v", ErrHookTimeout, d)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// apply changes the power state for a and tells the power listeners.
func (c *Chassis) apply(a ipmi.ChassisAction) {
	c.mu.Lock()
	var events []PowerEvent
	switch a {
	case ipmi.PowerOff, ipmi.SoftShutdown:
		if c.on {
			events = append(events, PowerEvent{Kind: PowerOffEvent})
		}
		c.on = false
	case ipmi.PowerOn:
		if !c.on {
			events = append(events, c.boot1())
		}
		c.on = true
		c.lastEvent = 0x10
	case ipmi.PowerCycle, ipmi.HardReset:
		if c.on || a == ipmi.PowerCycle {
			if c.on {
				events = append(events, PowerEvent{Kind: PowerOffEvent})
			}
			events = append(events, c.boot1())
			c.on = true
			c.lastEvent = 0x10
		}
	case ipmi.DiagInterrupt:
		if c.on {
			events = append(events, PowerEvent{Kind: DiagEvent})
		}
	}
	notify := slices.Clone(c.notify)
	c.mu.Unlock()
	for _, e := range events {
		for _, fn := range notify {
			fn(e)
		}
	}
}

// boot1 is the power-on event for a boot now: it names the device and
// clears a next-boot-only override, as BIOSes do; c.mu held.
func (c *Chassis) boot1() PowerEvent {
	e := PowerEvent{Kind: PowerOnEvent, Boot: c.nextBoot()}
	if c.boot.Valid && !c.boot.Persistent {
		c.boot.Valid = false
	}
	return e
}

func (c *Chassis) nextBoot() ipmi.BootFlags {
	if c.boot.Valid {
		return c.boot
	}
	return ipmi.BootFlags{Device: ipmi.BootDisk}
}

// setPower makes the power state on, as a PowerQuery found it, and tells
// the power listeners when that is a change.
func (c *Chassis) setPower(on bool) {
	c.mu.Lock()
	if c.on == on {
		c.mu.Unlock()
		return
	}
	c.on = on
	e := PowerEvent{Kind: PowerOffEvent}
	if on {
		e = PowerEvent{Kind: PowerOnEvent, Boot: c.nextBoot()}
	}
	notify := slices.Clone(c.notify)
	c.mu.Unlock()
	for _, fn := range notify {
		fn(e)
	}
}

// BootFlags returns the stored boot flags.
func (c *Chassis) BootFlags() ipmi.BootFlags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.boot
}

// NextBootDevice is the device the host boots from next: the override if
// one is valid, else the default disk.
func (c *Chassis) NextBootDevice() ipmi.BootFlags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nextBoot()
}

func (c *Chassis) setBoot(f ipmi.BootFlags) {
	c.mu.Lock()
	c.boot = f
	c.mu.Unlock()
}
