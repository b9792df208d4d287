package fakebmc

import (
	"slices"
	"sync"

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

// Chassis is the simulated machine: power state and boot flags. Its methods
// are called with the server lock held; Notify receives power events (it may
// be called from any goroutine and must not call back into the Server).
type Chassis struct {
	mu        sync.Mutex
	on        bool
	lastEvent byte
	boot      ipmi.BootFlags
	setInProg byte
	// Hook, if set, is called for every Chassis Control action before it
	// takes effect; an error refuses the action (cc 0xD5). cmd/fakebmc runs
	// user commands here.
	Hook func(a ipmi.ChassisAction) error
	// BootHook, if set, is told about boot flag changes.
	BootHook func(f ipmi.BootFlags) error
	notify   []func(PowerEvent)
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

// Control performs a Chassis Control action.
func (c *Chassis) Control(a ipmi.ChassisAction) error {
	if c.Hook != nil {
		if err := c.Hook(a); err != nil {
			return err
		}
	}
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
	return nil
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

// SetBootFlags stores boot flags.
func (c *Chassis) SetBootFlags(f ipmi.BootFlags) error {
	if c.BootHook != nil {
		if err := c.BootHook(f); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.boot = f
	c.mu.Unlock()
	return nil
}
