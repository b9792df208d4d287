package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The rows. A new command is one more entry here; every list of commands
// (usage, help, escape help, completion, man pages) is made from this.

// The power actions in the order they are offered, and those that lose
// the host's state (a prompt asks first); their words are pkg/ipmi's names.
var (
	actions = []ipmi.ChassisAction{ipmi.PowerOn, ipmi.PowerOff, ipmi.PowerCycle, ipmi.HardReset,
		ipmi.SoftShutdown, ipmi.DiagInterrupt}
	destructiveActions = []ipmi.ChassisAction{ipmi.PowerOff, ipmi.PowerCycle, ipmi.HardReset, ipmi.DiagInterrupt}
)

// The words of power, of bootdev's device and of its options.
var (
	actionWords = words(actions)
	powerWords  = append(slices.Clone(actionWords), "status")
	deviceWords = func() (w []string) {
		for d := ipmi.BootNone; d <= ipmi.BootBIOS; d++ { // IPMI v2.0 §28.12, boot flags parameter 5
			w = append(w, d.String())
		}
		return w
	}()
	bootOptionWords = []string{"persistent", "efi"}
)

func words[T fmt.Stringer](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

func init() {
	table = []*Command{
		{
			Name:     "power",
			Usage:    []string{"power " + strings.Join(powerWords, "|")},
			Synopsis: "power " + strings.Join(powerWords, "|"),
			Help:     "switch the host's power (soft asks the OS, diag sends an NMI), or say it",
			Doc: []string{"power the machine on or off, power-cycle it, reset it, shut it down through ACPI (soft) " +
				"or send it a diagnostic interrupt (diag, an NMI); status prints whether it is on"},
			Args:        [][]string{powerWords},
			Destructive: "power " + list(words(destructiveActions), "and"),
			Scope:       OneShot | Prompt,
			parse:       parsePower,
		},
		{
			Name: "bootdev",
			Usage: []string{"bootdev " + strings.Join(deviceWords, "|") + " [" + strings.Join(bootOptionWords, "] [") + "]",
				"bootdev status"},
			Synopsis: "bootdev DEV [" + strings.Join(bootOptionWords, "] [") + "] | status",
			Help:     "choose the next boot device (persistent: every boot), or say it",
			Doc: []string{"choose the device the machine boots from next: none (no override), pxe, disk, safe (the disk " +
				"in safe mode), diag (the diagnostic partition), cdrom or bios (BIOS setup); persistent keeps it for " +
				"every boot, efi asks for an EFI boot",
				"print the boot device the BMC holds, with its persistent and EFI flags"},
			Args:       [][]string{append(slices.Clone(deviceWords), "status"), bootOptionWords},
			RepeatArgs: true,
			Scope:      OneShot | Prompt,
			parse:      parseBootdev,
		},
		{
			Name:     "info",
			Usage:    []string{"info"},
			Synopsis: "info",
			Help:     "BMC identity and session details",
			Scope:    OneShot | Prompt,
			parse:    noArgs(runInfo),
		},
		{
			Name:     "break",
			Usage:    []string{"break"},
			Synopsis: "break",
			Help:     "send a serial BREAK to the host",
			Scope:    Prompt,
			Local:    true,
			parse:    noArgs(runBreak),
		},
		{
			Name:     "status",
			Usage:    []string{"status"},
			Synopsis: "status",
			Help:     "the console's session, counters and the host's power",
			Scope:    Prompt,
			parse:    noArgs(runStatus),
		},
		{
			Name:     "help",
			Aliases:  []string{"?"},
			Usage:    []string{"help"},
			Synopsis: "help",
			Help:     "this list",
			Scope:    Prompt,
			Local:    true,
			parse: noArgs(func(context.Context, *Call, Target) (Result, error) {
				return Result{Note: HelpText(Prompt)}, nil
			}),
		},
	}
}

func noArgs(run func(ctx context.Context, c *Call, t Target) (Result, error)) func(*Command, []string) (*Call, error) {
	return func(c *Command, args []string) (*Call, error) {
		if len(args) > 0 {
			return nil, usagef("%s takes no more words (got %q)", c.Name, strings.Join(args, " "))
		}
		return &Call{run: run}, nil
	}
}

func parsePower(_ *Command, args []string) (*Call, error) {
	if len(args) != 1 {
		return nil, usagef("power: want one word: %s", list(powerWords, "or"))
	}
	if strings.EqualFold(args[0], "status") {
		return &Call{Status: true, run: runPowerStatus}, nil
	}
	a, err := ipmi.ParseChassisAction(args[0]) // also ipmitool's names (up, down, nmi, …)
	if err != nil {
		return nil, usagef("power: unknown power action %q (want %s)", args[0], list(powerWords, "or"))
	}
	c := &Call{Action: a, run: runPower}
	if slices.Contains(destructiveActions, a) {
		// The host loses what it was doing: a prompt asks first.
		c.Destructive, c.Question = true, fmt.Sprintf("power %s the host?", a)
	}
	return c, nil
}

func runPowerStatus(ctx context.Context, _ *Call, t Target) (Result, error) {
	var cs ipmi.ChassisStatus
	err := t.Do(ctx, func(ctx context.Context, s *ipmi.Session) (err error) {
		cs, err = s.ChassisStatus(ctx)
		return err
	})
	if err != nil {
		return Result{Note: fmt.Sprintf("power status: %v", err)}, err
	}
	p := powerOf(cs.PowerOn)
	return Result{Power: p, Output: fmt.Sprintf("Chassis Power is %s\n", p), Note: fmt.Sprintf("host power is %s", p)}, nil
}

func runPower(ctx context.Context, c *Call, t Target) (Result, error) {
	err := t.Do(ctx, func(ctx context.Context, s *ipmi.Session) error { return s.ChassisControl(ctx, c.Action) })
	if err != nil {
		return Result{Action: c.Action, Note: fmt.Sprintf("power %s failed: %v", c.Action, err), Logged: true}, err
	}
	return Result{Action: c.Action, Output: fmt.Sprintf("Chassis Power Control: %s\n", c.Action),
		Note: fmt.Sprintf("power %s sent", c.Action), Logged: true}, nil
}

func parseBootdev(_ *Command, args []string) (*Call, error) {
	if len(args) > 0 && strings.EqualFold(args[0], "status") {
		if len(args) > 1 {
			return nil, usagef("bootdev status takes no more words (got %q)", strings.Join(args[1:], " "))
		}
		return &Call{Status: true, run: runBootStatus}, nil
	}
	f, err := ParseBoot(args)
	if err != nil {
		return nil, err
	}
	return &Call{Boot: f, run: runBootdev}, nil
}

// ParseBoot reads the words after bootdev: a device, then persistent and
// efi (legacy, next and once are the defaults and accepted). Words are
// case-insensitive; messages quote them as typed.
func ParseBoot(words []string) (ipmi.BootFlags, error) {
	if len(words) == 0 {
		return ipmi.BootFlags{}, usagef("bootdev: which device? %s", strings.Join(deviceWords, ", "))
	}
	d, err := ipmi.ParseBootDevice(words[0]) // also ipmitool's names (hdd, cd, setup, …)
	if err != nil {
		return ipmi.BootFlags{}, usagef("unknown boot device %q (want %s)", words[0], list(deviceWords, "or"))
	}
	f := ipmi.BootFlags{Device: d}
	for _, w := range words[1:] {
		switch strings.ToLower(w) {
		case bootOptionWords[0]:
			f.Persistent = true
		case bootOptionWords[1]:
			f.EFI = true
		case "legacy", "next", "once":
		default:
			return f, usagef("bootdev: unknown option %q (want %s)", w, strings.Join(bootOptionWords, ", "))
		}
	}
	return f, nil
}

func runBootStatus(ctx context.Context, _ *Call, t Target) (Result, error) {
	var f ipmi.BootFlags
	err := t.Do(ctx, func(ctx context.Context, s *ipmi.Session) (err error) {
		f, err = s.BootFlags(ctx)
		return err
	})
	if err != nil {
		return Result{Note: fmt.Sprintf("bootdev status: %v", err)}, err
	}
	return Result{Boot: f, Output: fmt.Sprintf("Boot device: %s\n", f), Note: fmt.Sprintf("boot device: %s", f)}, nil
}

func runBootdev(ctx context.Context, c *Call, t Target) (Result, error) {
	f := c.Boot
	err := t.Do(ctx, func(ctx context.Context, s *ipmi.Session) error { return s.SetBootFlags(ctx, f) })
	if err != nil {
		return Result{Boot: f, Note: fmt.Sprintf("bootdev %s failed: %v", f.Device, err), Logged: true}, err
	}
	f.Valid = true
	return Result{Boot: f, Output: fmt.Sprintf("Set boot device to %s\n", f), Note: fmt.Sprintf("boot device set to %s", f),
		Logged: true}, nil
}

func runInfo(ctx context.Context, _ *Call, t Target) (Result, error) {
	var d ipmi.DeviceID
	var text string
	err := t.Do(ctx, func(ctx context.Context, s *ipmi.Session) (err error) {
		if d, err = s.GetDeviceID(ctx); err != nil {
			return err
		}
		text = fmt.Sprintf("BMC:            %s\nIPMI version:   %d.%d\nFirmware:       %s\nManufacturer:   %d\nProduct:        0x%04x\nCipher suite:   %s\nPrivilege:      %s\n",
			s.RemoteAddr(), d.IPMIVersion&0x0F, d.IPMIVersion>>4, d.FirmwareVersion(), d.ManufacturerID, d.ProductID,
			s.CipherSuite(), s.Privilege())
		return nil
	})
	if err != nil {
		return Result{Note: fmt.Sprintf("info: %v", err)}, err
	}
	return Result{Device: &d, Output: text, Note: strings.TrimSuffix(text, "\n")}, nil
}

func runBreak(_ context.Context, _ *Call, t Target) (Result, error) {
	ct, ok := t.(ConsoleTarget)
	if !ok {
		return Result{Note: "break needs a console"}, ErrNeedsConsole
	}
	if err := ct.SendBreak(); err != nil {
		if errors.Is(err, console.ErrNotConnected) {
			return Result{Note: "not connected: no BREAK sent"}, err
		}
		return Result{Note: fmt.Sprintf("break: %v", err)}, err
	}
	// The console says "BREAK sent" (console.BreakSent) once it is.
	return Result{}, nil
}

// statusPowerWait bounds status's power request: the rest of the answer is
// local.
const statusPowerWait = 3 * time.Second

func runStatus(ctx context.Context, _ *Call, t Target) (Result, error) {
	ct, ok := t.(ConsoleTarget)
	if !ok {
		return Result{Note: "status needs a console"}, ErrNeedsConsole
	}
	st := ct.Stats()
	if st.Session == nil {
		// Not an error: where the console stands is the answer.
		if st.State == console.StateWaiting {
			return Result{Note: fmt.Sprintf("not connected (%s); next attempt in %v", oneLine(st.LastErr),
				time.Until(st.NextAttempt).Round(100*time.Millisecond))}, nil
		}
		return Result{Note: fmt.Sprintf("not connected; connecting to %s", st.Addr)}, nil
	}
	power := PowerUnknown
	pctx, cancel := context.WithTimeout(ctx, statusPowerWait)
	defer cancel()
	_ = ct.Do(pctx, func(ctx context.Context, s *ipmi.Session) error {
		cs, err := s.ChassisStatus(ctx)
		if err == nil {
			power = powerOf(cs.PowerOn)
		}
		return err
	})
	ss, sp := st.Stream, st.SessionPkts
	return Result{Power: power, Note: fmt.Sprintf("peer %s, cipher suite %s, privilege %s\npackets sent %d, received %d, retransmissions %d (requests %d), duplicates %d, round trip %v\nhost power %s",
		st.Session.Addr, st.Session.CipherSuite, st.Session.Privilege, sp.Sent, sp.Received, ss.Retransmissions,
		sp.Retransmissions, ss.Duplicates, ss.RTT.Round(time.Microsecond), power)}, nil
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(fmt.Sprint(err)), "\n", "; ")
}
