package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// command is a one-shot command: "power …", "bootdev …" or "info". Its
// words are case-insensitive, like ipmitool's.
type command struct {
	name   string // "power", "bootdev" or "info"
	status bool   // power status, bootdev status
	action ipmi.ChassisAction
	boot   ipmi.BootFlags
}

// parseCommand checks the words before anything talks to the BMC.
func parseCommand(args []string) (*command, error) {
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = strings.ToLower(a)
	}
	c := &command{name: words[0]}
	rest := words[1:]
	switch c.name {
	case "power":
		if len(rest) != 1 {
			return nil, usagef("power: want one word: on, off, cycle, reset, soft, diag or status")
		}
		if rest[0] == "status" {
			c.status = true
			break
		}
		a, err := ipmi.ParseChassisAction(args[1]) // as typed, for the message
		if err != nil {
			return nil, usagef("power: %s", strings.TrimPrefix(err.Error(), "ipmi: "))
		}
		c.action = a
	case "bootdev":
		if len(rest) > 0 && rest[0] == "status" {
			if len(rest) > 1 {
				return nil, usagef("bootdev status takes no more words (got %q)", strings.Join(args[2:], " "))
			}
			c.status = true
			break
		}
		f, err := parseBoot(args[1:]) // case-insensitive; messages quote the words as typed
		if err != nil {
			return nil, err
		}
		c.boot = f
	case "info":
		if len(rest) > 0 {
			return nil, usagef("info takes no more words (got %q)", strings.Join(args[1:], " "))
		}
	default:
		return nil, usagef("unknown command %q (want power, bootdev or info; no command attaches to the console)", args[0])
	}
	return c, nil
}

// run sends the command and returns what to print.
func (c *command) run(ctx context.Context, s *ipmi.Session) (string, error) {
	switch {
	case c.name == "power" && c.status:
		st, err := s.ChassisStatus(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Chassis Power is %s\n", onOff(st.PowerOn)), nil
	case c.name == "power":
		if err := s.ChassisControl(ctx, c.action); err != nil {
			return "", err
		}
		return fmt.Sprintf("Chassis Power Control: %s\n", c.action), nil
	case c.name == "bootdev" && c.status:
		f, err := s.BootFlags(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Boot device: %s\n", f), nil
	case c.name == "bootdev":
		if err := s.SetBootFlags(ctx, c.boot); err != nil {
			return "", err
		}
		f := c.boot
		f.Valid = true
		return fmt.Sprintf("Set boot device to %s\n", f), nil
	}
	d, err := s.GetDeviceID(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("BMC:            %s\nIPMI version:   %d.%d\nFirmware:       %s\nManufacturer:   %d\nProduct:        0x%04x\nCipher suite:   %s\nPrivilege:      %s\n",
		s.RemoteAddr(), d.IPMIVersion&0x0F, d.IPMIVersion>>4, d.FirmwareVersion(), d.ManufacturerID, d.ProductID,
		s.CipherSuite(), s.Privilege()), nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
