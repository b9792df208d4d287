// Command fakebmc is ghmicons's simulated BMC: IPMI 2.0 RMCP+ with chassis
// power, boot options and Serial-over-LAN, for trying ghmicons, ipmitool,
// FreeIPMI or any other client without hardware.
//
//	go run ./cmd/fakebmc --listen 127.0.0.1:9623 --user admin --password password
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "fakebmc:", err)
		os.Exit(2)
	}
}

// hooks are the shell commands run for chassis actions (in the spirit of
// shipmi's providers).
var hookKeys = []string{"power-on", "power-off", "power-cycle", "power-reset", "power-soft", "power-diag", "bootdev"}

func run(args []string, logw io.Writer) error {
	fs := pflag.NewFlagSet("fakebmc", pflag.ContinueOnError)
	fs.SortFlags = false
	listen := fs.String("listen", "127.0.0.1:9623", "UDP address to serve RMCP+ on")
	user := fs.String("user", "admin", "user name")
	password := fs.String("password", "password", "password of --user (or FAKEBMC_PASSWORD)")
	users := fs.StringArray("extra-user", nil, "another user as NAME:PASSWORD[:PRIVILEGE] (repeatable)")
	kg := fs.String("kg", "", "BMC key K_g as text")
	kgHex := fs.String("kg-hex", "", "BMC key K_g in hex")
	suites := fs.String("cipher-suites", "1,2,3,15,16,17", "cipher suites offered (0 only if listed)")
	timeout := fs.Duration("session-timeout", 60*time.Second, "drop sessions idle this long")
	noList := fs.Bool("no-cipher-suite-list", false, "ignore Get Channel Cipher Suites before a session (like ipmi_sim)")
	rejectP0 := fs.Bool("reject-boot-param0", false, "refuse boot option parameter 0 (set in progress), as some BMCs do")
	serial := fs.String("serial", "demo", "host side of the serial line: demo, exec:COMMAND, tcp:ADDR, unix:PATH or pty")
	solInbound := fs.Int("sol-inbound", 0, "largest SOL payload the console may send (default 259)")
	var hooks = map[string]*string{}
	for _, k := range hookKeys {
		hooks[k] = fs.String(k+"-cmd", "", "shell command run on "+strings.ReplaceAll(k, "-", " "))
	}
	provider := fs.String("provider", "", "file of KEY = COMMAND lines for the *-cmd hooks")
	hookTimeout := fs.Duration("hook-timeout", fakebmc.DefaultHookTimeout, "longest a hook may run; then it is killed and the request answered 0xC3")
	chassisDelay := fs.Duration("chassis-delay", 0, "misbehaviour: answer power and boot-device commands only after this long")
	var f impair.Config
	fs.Float64Var(&f.Drop, "drop", 0, "fault injection: probability of dropping a datagram (each way)")
	fs.Float64Var(&f.Duplicate, "duplicate", 0, "fault injection: probability of duplicating a datagram")
	fs.Float64Var(&f.Reorder, "reorder", 0, "fault injection: probability of reordering a datagram")
	fs.Float64Var(&f.Corrupt, "corrupt", 0, "fault injection: probability of flipping a bit")
	fs.DurationVar(&f.Delay, "delay", 0, "fault injection: delay every datagram sent")
	fs.Uint64Var(&f.Seed, "seed", 1, "fault injection: random seed")
	verbose := fs.BoolP("verbose", "v", false, "log sessions and commands to stderr")
	fs.Usage = func() {
		fmt.Fprintf(logw, "Usage: fakebmc [flags]\n\nA simulated IPMI 2.0 BMC with Serial-over-LAN.\n\n%s\nHook commands run with sh -c (cmd /C on Windows) and see GHMICONS_ACTION,\nGHMICONS_BOOTDEV, GHMICONS_BOOT_PERSISTENT and GHMICONS_BOOT_EFI; a non-zero exit\nrefuses the action (completion code 0xD5), one running past --hook-timeout is\nkilled (0xC3), and power or boot commands arriving meanwhile get 0xC0 (node busy).\n", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if v, ok := os.LookupEnv("FAKEBMC_PASSWORD"); ok && !fs.Changed("password") {
		*password = v
	}
	cfg := fakebmc.Config{SessionTimeout: *timeout, NoCipherSuiteList: *noList, RejectBootParam0: *rejectP0}
	cfg.Users = append(cfg.Users, fakebmc.User{Name: *user, Password: []byte(*password)})
	for _, u := range *users {
		parts := strings.SplitN(u, ":", 3)
		if len(parts) < 2 {
			return fmt.Errorf("--extra-user %q: want NAME:PASSWORD[:PRIVILEGE]", u)
		}
		nu := fakebmc.User{Name: parts[0], Password: []byte(parts[1])}
		if len(parts) == 3 {
			p, err := ipmi.ParsePrivilege(parts[2])
			if err != nil {
				return err
			}
			nu.MaxPrivilege = p
		}
		cfg.Users = append(cfg.Users, nu)
	}
	switch {
	case *kgHex != "":
		b, err := hex.DecodeString(strings.TrimPrefix(*kgHex, "0x"))
		if err != nil {
			return fmt.Errorf("--kg-hex: %w", err)
		}
		cfg.Kg = b
	case *kg != "":
		cfg.Kg = []byte(*kg)
	}
	cfg.CipherSuites = []uint8{}
	for _, s := range strings.Split(*suites, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("--cipher-suites: bad suite %q", s)
		}
		if _, ok := ipmi.LookupCipherSuite(uint8(n)); !ok {
			return fmt.Errorf("--cipher-suites: suite %d not implemented (have %v)", n, ipmi.SupportedCipherSuites())
		}
		cfg.CipherSuites = append(cfg.CipherSuites, uint8(n))
	}
	if *provider != "" {
		if err := readProvider(*provider, hooks); err != nil {
			return err
		}
	}
	if *hookTimeout <= 0 {
		return fmt.Errorf("--hook-timeout must be positive")
	}
	chassis := fakebmc.NewChassis()
	chassis.HookTimeout = *hookTimeout
	powerKeys := map[ipmi.ChassisAction]string{ipmi.PowerOn: "power-on", ipmi.PowerOff: "power-off", ipmi.PowerCycle: "power-cycle",
		ipmi.HardReset: "power-reset", ipmi.SoftShutdown: "power-soft", ipmi.DiagInterrupt: "power-diag"}
	for _, key := range powerKeys {
		if *hooks[key] != "" {
			chassis.Hook = func(ctx context.Context, a ipmi.ChassisAction) error {
				return runHook(ctx, logw, *hooks[powerKeys[a]], "GHMICONS_ACTION="+a.String())
			}
			break
		}
	}
	if *hooks["bootdev"] != "" {
		chassis.BootHook = func(ctx context.Context, b ipmi.BootFlags) error {
			return runHook(ctx, logw, *hooks["bootdev"], "GHMICONS_BOOTDEV="+b.Device.String(),
				fmt.Sprintf("GHMICONS_BOOT_PERSISTENT=%v", b.Persistent), fmt.Sprintf("GHMICONS_BOOT_EFI=%v", b.EFI))
		}
	}
	cfg.Chassis = chassis
	cfg.Faults.ChassisDelay = *chassisDelay
	host, err := fakebmc.ParseSerial(*serial)
	if err != nil {
		return err
	}
	cfg.SOL.Host = host
	if *solInbound > 0 {
		cfg.SOL.InboundSize = uint16(*solInbound)
	}
	if *verbose {
		cfg.OnEvent = func(e fakebmc.Event) {
			fmt.Fprintf(logw, "%s fakebmc: %s session 0x%08x %s\n", e.Time.Format(time.RFC3339), e.Kind, e.SessionID, e.Detail)
		}
	}
	pc, err := net.ListenPacket("udp", *listen)
	if err != nil {
		return err
	}
	var conn net.PacketConn = pc
	if f.Drop > 0 || f.Duplicate > 0 || f.Reorder > 0 || f.Corrupt > 0 || f.Delay > 0 {
		conn = impair.Wrap(pc, f)
	}
	srv := fakebmc.New(cfg)
	fmt.Fprintf(logw, "fakebmc: serving RMCP+ on %s (user %s, cipher suites %v, serial %s)\n", pc.LocalAddr(), *user, cfg.CipherSuites, *serial)
	if p, ok := host.(interface{ Path() string }); ok {
		fmt.Fprintf(logw, "fakebmc: serial line on %s\n", p.Path())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return srv.Serve(conn)
}

func readProvider(path string, hooks map[string]*string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || hooks[k] == nil {
			return fmt.Errorf("%s:%d: want KEY = COMMAND with KEY one of %s", path, n, strings.Join(hookKeys, ", "))
		}
		*hooks[k] = strings.TrimSpace(v)
	}
	return sc.Err()
}

// runHook runs a hook command (none: nothing to do) with its output on
// logw; fakebmc.RunShell kills it and all it started when ctx ends.
func runHook(ctx context.Context, logw io.Writer, cmd string, env ...string) error {
	if cmd == "" {
		return nil
	}
	return fakebmc.RunShell(ctx, cmd, env, logw)
}
