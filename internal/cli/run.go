// Package cli is the ghmicons program: flags, password sources, the console
// bridge between the terminal (or a pipe) and SOL, escapes, logging,
// reconnection, one-shot power and boot commands, and the demo. Only this
// package prints; it maps errors to exit codes in one place (exit.go).
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Env is the program's environment, injectable for tests.
type Env struct {
	Stdin          *os.File
	Stdout, Stderr *os.File
	Getenv         func(string) (string, bool)
}

// Run runs ghmicons and returns its exit code.
func Run(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.LookupEnv
	}
	err := run(args, env)
	if err != nil && !errors.Is(err, pflag.ErrHelp) {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "ghmicons: ")
		fmt.Fprintf(env.Stderr, "ghmicons: %s\n", oneLine(msg))
	}
	if errors.Is(err, pflag.ErrHelp) {
		return ExitOK
	}
	return ExitCode(err)
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func run(args []string, env Env) error {
	o, err := parseOptions(args, env.Stderr)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return &usageError{err.Error() + " (see --help)"}
	}
	if o.version {
		fmt.Fprintf(env.Stdout, "ghmicons %s\n", Version)
		return nil
	}
	if o.demo {
		return runDemo(o, env)
	}
	addr, err := o.address()
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return &usageError{err.Error()}
	}
	if len(o.args) > 0 {
		cfg, err := o.sessionConfig(env.Getenv, env.Stdin, env.Stderr)
		if err != nil {
			return err
		}
		return oneShot(o, addr, cfg, env)
	}
	cfg, err := o.sessionConfig(env.Getenv, env.Stdin, env.Stderr)
	if err != nil {
		return err
	}
	return attach(o, addr, cfg, env, nil)
}

// oneShot runs "power …", "bootdev …" or "info" and exits.
func oneShot(o *options, addr string, cfg ipmi.Config, env Env) error {
	ctx := context.Background()
	cmd, rest := strings.ToLower(o.args[0]), o.args[1:]
	// Check the words before talking to the BMC.
	switch cmd {
	case "power":
		if len(rest) != 1 {
			return &usageError{"power: want one of on, off, cycle, reset, soft, diag, status"}
		}
		if rest[0] != "status" {
			if _, err := ipmi.ParseChassisAction(rest[0]); err != nil {
				return &usageError{err.Error()}
			}
		}
	case "bootdev":
		if len(rest) == 0 || rest[0] != "status" {
			if _, err := parseBoot(rest); err != nil {
				return err
			}
		}
	case "info":
	default:
		return &usageError{fmt.Sprintf("unknown command %q (want power, bootdev or info; no command attaches to the console)", o.args[0])}
	}
	dbg, closeDebug, err := o.debugWriter(env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	if dbg != nil {
		cfg.Trace = (&tracer{w: dbg}).event
	}
	s, err := ipmi.Dial(ctx, o.network(), addr, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	out := env.Stdout
	switch cmd {
	case "power":
		if rest[0] == "status" {
			st, err := s.ChassisStatus(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Chassis Power is %s\n", onOff(st.PowerOn))
			return nil
		}
		a, _ := ipmi.ParseChassisAction(rest[0])
		if err := s.ChassisControl(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(out, "Chassis Power Control: %s\n", a)
	case "bootdev":
		if len(rest) > 0 && rest[0] == "status" {
			f, err := s.BootFlags(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Boot device: %s\n", f)
			return nil
		}
		f, _ := parseBoot(rest)
		if err := s.SetBootFlags(ctx, f); err != nil {
			return err
		}
		f.Valid = true
		fmt.Fprintf(out, "Set boot device to %s\n", f)
	case "info":
		d, err := s.GetDeviceID(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "BMC:            %s\nIPMI version:   %d.%d\nFirmware:       %s\nManufacturer:   %d\nProduct:        0x%04x\nCipher suite:   %s\nPrivilege:      %s\n",
			s.RemoteAddr(), d.IPMIVersion&0x0F, d.IPMIVersion>>4, d.FirmwareVersion(), d.ManufacturerID, d.ProductID,
			s.CipherSuite(), s.Privilege())
	}
	return s.Close()
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }
