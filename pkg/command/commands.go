package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The rows. A new command is one more entry here; every list of commands
// (usage, help, escape help, completion, man pages) is made from this.

var actionWords = []string{"on", "off", "cycle", "reset", "soft", "diag"}

var deviceWords = []string{"none", "pxe", "disk", "safe", "diag", "cdrom", "bios"}

func init() {
	table = []*Command{
		{
			Name:        "power",
			Usage:       []string{"power on|off|cycle|reset|soft|diag|status"},
			Synopsis:    "power on|off|cycle|reset|soft|diag|status",
			Help:        "switch the host's power (soft asks the OS, diag sends an NMI), or say it",
			Destructive: "power off, cycle, reset and diag",
			Scope:       OneShot | Prompt,
			parse:       parsePower,
			complete: func(args []string) []string {
				if len(args) == 0 {
					return append(append([]string(nil), actionWords...), "status")
				}
				return nil
			},
		},
		{
			Name: "bootdev",
			Usage: []string{"bootdev " + strings.Join(deviceWords, "|") + " [persistent] [efi]",
				"bootdev status"},
			Synopsis: "bootdev DEV [persistent] [efi] | status",
			Help:     "choose the next boot device (persistent: every boot), or say it",
			Scope:    OneShot | Prompt,
			parse:    parseBootdev,
			complete: func(args []string) []string {
				if len(args) == 0 {
					return append(append([]string(nil), deviceWords...), "status")
				}
				if args[0] == "status" {
					return nil
				}
				return []string{"persistent", "efi"}
			},
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
		return nil, usagef("power: want one word: on, off, cycle, reset, soft, diag or status")
	}
	if strings.EqualFold(args[0], "status") {
		return &Call{Status: true, run: runPowerStatus}, nil
	}
	a, err := ipmi.ParseChassisAction(args[0]) // as typed, for the message
	if err != nil {
		return nil, usagef("power: %s", strings.TrimPrefix(err.Error(), "ipmi: "))
	}
	c := &Call{Action: a, run: runPower}
	switch a {
	case ipmi.PowerOff, ipmi.PowerCycle, ipmi.HardReset, ipmi.DiagInterrupt:
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
	d, err := ipmi.ParseBootDevice(words[0])
	if err != nil {
		return ipmi.BootFlags{}, usagef("%s", strings.TrimPrefix(err.Error(), "ipmi: "))
	}
	f := ipmi.BootFlags{Device: d}
	for _, w := range words[1:] {
		switch strings.ToLower(w) {
		case "persistent":
			f.Persistent = true
		case "efi":
			f.EFI = true
		case "legacy", "next", "once":
		default:
			return f, usagef("bootdev: unknown option %q (want persistent, efi)", w)
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
