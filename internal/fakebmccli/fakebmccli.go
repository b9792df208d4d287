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
	"os"
	"os/signal"
	"slices"
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
// shipmi's providers).
var hookKeys = []string{"power-on", "power-off", "power-cycle", "power-reset", "power-soft", "power-diag", "bootdev"}

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
	count                  int
	namePattern            string
	history                int
	list                   bool
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
	fs.IntVar(&o.count, "count", 0, "serve a rack of N identical BMCs on consecutive ports from --listen")
	fs.StringVar(&o.namePattern, "name-pattern", "bmc%d", "names of the --count BMCs, numbered from 1 (printf: node%03d); %(name)s or {name} in --serial and hooks is the name")
	fs.IntVar(&o.history, "history", 0, "bytes of serial output kept while no console is attached, replayed on activation (default 65536)")
	fs.BoolVar(&o.list, "list", false, "print the rack's table (name, address, port, provider, power) and exit")
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
func Run(args []string, logw io.Writer) error { return RunWith(args, os.Stdout, logw) }

// RunWith is Run with the standard output (--list's table) given.
func RunWith(args []string, stdout, logw io.Writer) error {
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
	specs, err := o.specs()
	if err != nil {
		return err
	}
	if o.list {
		return printList(stdout, specs)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return serveRack(ctx, logw, specs, o.verbose, o.count > 0)
}

// specs are the BMCs the flags describe: one, or --count of them.
func (o *options) specs() ([]*bmcSpec, error) {
	sp := &bmcSpec{Listen: o.listen, SessionTimeout: o.timeout, NoCipherSuiteList: o.noList, RejectBootParam0: o.rejectP0,
		Serial: o.serial, SOLInbound: o.solInbound, History: o.history, HookTimeout: o.hookTimeout,
		ChassisDelay: o.chassisDelay, Faults: o.faults, Hooks: map[string]string{}}
	sp.Users = append(sp.Users, fakebmc.User{Name: o.user, Password: []byte(o.password)})
	for _, u := range o.users {
		parts := strings.SplitN(u, ":", 3)
		if len(parts) < 2 {
			return nil, fmt.Errorf("--extra-user %q: want NAME:PASSWORD[:PRIVILEGE]", u)
		}
		nu := fakebmc.User{Name: parts[0], Password: []byte(parts[1])}
		if len(parts) == 3 {
			p, err := ipmi.ParsePrivilege(parts[2])
			if err != nil {
				return nil, err
			}
			nu.MaxPrivilege = p
		}
		sp.Users = append(sp.Users, nu)
	}
	switch {
	case o.kgHex != "":
		b, err := hex.DecodeString(strings.TrimPrefix(o.kgHex, "0x"))
		if err != nil {
			return nil, fmt.Errorf("--kg-hex: %w", err)
		}
		sp.Kg = b
	case o.kg != "":
		sp.Kg = []byte(o.kg)
	}
	suites, err := parseSuites(o.suites)
	if err != nil {
		return nil, fmt.Errorf("--cipher-suites: %w", err)
	}
	sp.Suites = suites
	for k, v := range o.hooks {
		if *v != "" {
			sp.Hooks[k] = *v
		}
	}
	if o.provider != "" {
		if err := readProvider(o.provider, sp.Hooks); err != nil {
			return nil, err
		}
	}
	if o.hookTimeout <= 0 {
		return nil, fmt.Errorf("--hook-timeout must be positive")
	}
	if o.history < 0 {
		return nil, fmt.Errorf("--history must not be negative")
	}
	if o.count < 0 {
		return nil, fmt.Errorf("--count must be positive")
	}
	if o.count == 0 {
		sp.Name = "bmc"
		return []*bmcSpec{sp}, nil
	}
	addrs, err := rackAddrs(o.listen, o.count)
	if err != nil {
		return nil, err
	}
	names, err := rackNames(o.namePattern, o.count)
	if err != nil {
		return nil, err
	}
	// A rack's BMCs take small datagrams: the socket buffers of a
	// thousand BMCs are most of what they cost.
	sp.ReceiveBuffer = 4096
	out := make([]*bmcSpec, o.count)
	for i := range out {
		c := *sp
		c.Name, c.Listen, c.Serial = names[i], addrs[i], expandName(o.serial, names[i])
		out[i] = &c
	}
	return out, nil
}

// parseSuites parses a comma-separated list of implemented cipher suites.
func parseSuites(list string) ([]uint8, error) {
	out := []uint8{}
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("bad suite %q", s)
		}
		if _, ok := ipmi.LookupCipherSuite(uint8(n)); !ok {
			return nil, fmt.Errorf("suite %d not implemented (have %v)", n, ipmi.SupportedCipherSuites())
		}
		out = append(out, uint8(n))
	}
	return out, nil
}

func readProvider(path string, hooks map[string]string) error {
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
		if !ok || !slices.Contains(hookKeys, k) {
			return fmt.Errorf("%s:%d: want KEY = COMMAND with KEY one of %s", path, n, strings.Join(hookKeys, ", "))
		}
		hooks[k] = strings.TrimSpace(v)
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
