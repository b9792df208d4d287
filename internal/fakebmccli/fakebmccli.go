// Package fakebmccli is the fakebmc program: its flags, the simulated BMC
// they configure, and serving it until a signal. cmd/fakebmc is a thin main
// around Run; the man page and the shell completion are generated from the
// same flag definitions (see docs.go), so they cannot drift from --help.
package fakebmccli

import (
	"bufio"
	"context"
	"encoding/hex"
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

// hooks are the shell commands run for chassis actions (in the spirit of
// shipmi's providers): one for each Chassis Control action (IPMI v2.0
// §28.3), by its pkg/ipmi name, and one for Set System Boot Options
// (§28.12).
var (
	hookActions = []ipmi.ChassisAction{ipmi.PowerOn, ipmi.PowerOff, ipmi.PowerCycle, ipmi.HardReset,
		ipmi.SoftShutdown, ipmi.DiagInterrupt}
	hookKeys = append(powerKeys(), "bootdev")
)

// powerKey is the hook of action a ("power-cycle").
func powerKey(a ipmi.ChassisAction) string { return "power-" + a.String() }

func powerKeys() (keys []string) {
	for _, a := range hookActions {
		keys = append(keys, powerKey(a))
	}
	return keys
}

// options holds fakebmc's flags.
type options struct {
	listen, user, password string
	users                  []string
	kg, kgHex, suites      string
	timeout                time.Duration
	noList, rejectP0       bool
	serial                 string
	solInbound             int
	hooks                  map[string]*string // by hookKeys
	provider               string
	hookTimeout            time.Duration
	chassisDelay           time.Duration
	faults                 impair.Config
	verbose                bool
}

// Text that --help and the man page share.
const (
	// Summary is the one-line description.
	Summary = "A simulated IPMI 2.0 BMC with Serial-over-LAN."
	// hooksHelp ends --help and is the man page's HOOKS section.
	hooksHelp = `Hook commands run with sh -c (cmd /C on Windows) and see GHMICONS_ACTION,
GHMICONS_BOOTDEV, GHMICONS_BOOT_PERSISTENT and GHMICONS_BOOT_EFI; a non-zero exit
refuses the action (completion code 0xD5), one running past --hook-timeout is
killed (0xC3), and power or boot commands arriving meanwhile get 0xC0 (node busy).
`
)

// newFlagSet defines fakebmc's flags on o; --help goes to usage.
func newFlagSet(o *options, usage io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("fakebmc", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&o.listen, "listen", "127.0.0.1:9623", "UDP address to serve RMCP+ on")
	fs.StringVar(&o.user, "user", "admin", "user name")
	fs.StringVar(&o.password, "password", "password", "password of --user (or FAKEBMC_PASSWORD)")
	fs.StringArrayVar(&o.users, "extra-user", nil, "another user as NAME:PASSWORD[:PRIVILEGE] (repeatable)")
	fs.StringVar(&o.kg, "kg", "", "BMC key K_g as text")
	fs.StringVar(&o.kgHex, "kg-hex", "", "BMC key K_g in hex")
	fs.StringVar(&o.suites, "cipher-suites", "1,2,3,15,16,17", "cipher suites offered (0 only if listed)")
	fs.DurationVar(&o.timeout, "session-timeout", 60*time.Second, "drop sessions idle this long")
	fs.BoolVar(&o.noList, "no-cipher-suite-list", false, "ignore Get Channel Cipher Suites before a session (like ipmi_sim)")
	fs.BoolVar(&o.rejectP0, "reject-boot-param0", false, "refuse boot option parameter 0 (set in progress), as some BMCs do")
	fs.StringVar(&o.serial, "serial", "demo", "host side of the serial line: demo, exec:COMMAND, tcp:ADDR, unix:PATH or pty")
	fs.IntVar(&o.solInbound, "sol-inbound", 0, "largest SOL payload the console may send (default 259)")
	o.hooks = map[string]*string{}
	for _, k := range hookKeys {
		o.hooks[k] = fs.String(k+"-cmd", "", "shell command run on "+strings.ReplaceAll(k, "-", " "))
	}
	fs.StringVar(&o.provider, "provider", "", "file of KEY = COMMAND lines for the *-cmd hooks")
	fs.DurationVar(&o.hookTimeout, "hook-timeout", fakebmc.DefaultHookTimeout, "longest a hook may run; then it is killed and the request answered 0xC3")
	fs.DurationVar(&o.chassisDelay, "chassis-delay", 0, "misbehaviour: answer power and boot-device commands only after this long")
	f := &o.faults
	fs.Float64Var(&f.Drop, "drop", 0, "fault injection: probability of dropping a datagram (each way)")
	fs.Float64Var(&f.Duplicate, "duplicate", 0, "fault injection: probability of duplicating a datagram")
	fs.Float64Var(&f.Reorder, "reorder", 0, "fault injection: probability of reordering a datagram")
	fs.Float64Var(&f.Corrupt, "corrupt", 0, "fault injection: probability of flipping a bit")
	fs.DurationVar(&f.Delay, "delay", 0, "fault injection: delay every datagram sent")
	fs.Uint64Var(&f.Seed, "seed", 1, "fault injection: random seed")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log sessions and commands to stderr")
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: fakebmc [flags]\n\n%s\n\n%s\n%s", Summary, fs.FlagUsages(), hooksHelp)
	}
	return fs
}

// FlagSet returns fakebmc's flags with their defaults, for documentation.
func FlagSet() *pflag.FlagSet { return newFlagSet(&options{}, io.Discard) }

// Run runs fakebmc with args (without the program name) until SIGINT,
// SIGTERM or SIGHUP, logging to logw. A nil error after a signal; --help
// gives pflag.ErrHelp; any other error is a bad flag or a failure to serve.
func Run(args []string, logw io.Writer) error {
	o := &options{}
	fs := newFlagSet(o, logw)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if v, ok := os.LookupEnv("FAKEBMC_PASSWORD"); ok && !fs.Changed("password") {
		o.password = v
	}
	cfg := fakebmc.Config{SessionTimeout: o.timeout, NoCipherSuiteList: o.noList, RejectBootParam0: o.rejectP0}
	cfg.Users = append(cfg.Users, fakebmc.User{Name: o.user, Password: []byte(o.password)})
	for _, u := range o.users {
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
	case o.kgHex != "":
		b, err := hex.DecodeString(strings.TrimPrefix(o.kgHex, "0x"))
		if err != nil {
			return fmt.Errorf("--kg-hex: %w", err)
		}
		cfg.Kg = b
	case o.kg != "":
		cfg.Kg = []byte(o.kg)
	}
	cfg.CipherSuites = []uint8{}
	for _, s := range strings.Split(o.suites, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("--cipher-suites: bad suite %q", s)
		}
		if _, ok := ipmi.LookupCipherSuite(uint8(n)); !ok {
			return fmt.Errorf("--cipher-suites: suite %d not implemented (have %v)", n, ipmi.SupportedCipherSuites())
		}
		cfg.CipherSuites = append(cfg.CipherSuites, uint8(n))
	}
	if o.provider != "" {
		if err := readProvider(o.provider, o.hooks); err != nil {
			return err
		}
	}
	if o.hookTimeout <= 0 {
		return fmt.Errorf("--hook-timeout must be positive")
	}
	chassis := fakebmc.NewChassis()
	chassis.HookTimeout = o.hookTimeout
	for _, key := range powerKeys() {
		if *o.hooks[key] != "" {
			chassis.Hook = func(ctx context.Context, a ipmi.ChassisAction) error {
				cmd := o.hooks[powerKey(a)]
				if cmd == nil {
					return nil // an action without a hook
				}
				return runHook(ctx, logw, *cmd, "GHMICONS_ACTION="+a.String())
			}
			break
		}
	}
	if *o.hooks["bootdev"] != "" {
		chassis.BootHook = func(ctx context.Context, b ipmi.BootFlags) error {
			return runHook(ctx, logw, *o.hooks["bootdev"], "GHMICONS_BOOTDEV="+b.Device.String(),
				fmt.Sprintf("GHMICONS_BOOT_PERSISTENT=%v", b.Persistent), fmt.Sprintf("GHMICONS_BOOT_EFI=%v", b.EFI))
		}
	}
	cfg.Chassis = chassis
	cfg.Faults.ChassisDelay = o.chassisDelay
	host, err := fakebmc.ParseSerial(o.serial)
	if err != nil {
		return err
	}
	cfg.SOL.Host = host
	if o.solInbound > 0 {
		cfg.SOL.InboundSize = uint16(o.solInbound)
	}
	if o.verbose {
		cfg.OnEvent = func(e fakebmc.Event) {
			fmt.Fprintf(logw, "%s fakebmc: %s session 0x%08x %s\n", e.Time.Format(time.RFC3339), e.Kind, e.SessionID, e.Detail)
		}
	}
	pc, err := net.ListenPacket("udp", o.listen)
	if err != nil {
		return err
	}
	var conn net.PacketConn = pc
	if f := o.faults; f.Drop > 0 || f.Duplicate > 0 || f.Reorder > 0 || f.Corrupt > 0 || f.Delay > 0 {
		conn = impair.Wrap(pc, f)
	}
	srv := fakebmc.New(cfg)
	fmt.Fprintf(logw, "fakebmc: serving RMCP+ on %s (user %s, cipher suites %v, serial %s)\n", pc.LocalAddr(), o.user, cfg.CipherSuites, o.serial)
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
