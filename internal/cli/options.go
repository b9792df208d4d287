package cli

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ghmicons/ghmicons/internal/textfile"
	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=…".
var Version = "0.1.0-dev"

type options struct {
	host, user, passFile, password        string
	kg, kgHex, kgFile                     string
	port                                  int
	envPass, kgEnv, kgPrompt              bool
	ipv4, ipv6, noSteal, logStamps        bool
	suite                                 int
	allowSuite0, usernameLookup           bool
	privilege, iface, escapeChar, logFile string
	instance                              int
	reconnect, keepOpen, demo, version    bool
	keepalive, timeout                    time.Duration
	retries                               int
	debug                                 string
	bootdev, power                        string

	args []string      // the command and its arguments
	cmd  *command.Call // the parsed one-shot command; nil attaches to the console
	// The commands --bootdev and --power run once attached.
	bootCmd, powerCmd *command.Call
	priv              ipmi.Privilege
	fs                *pflag.FlagSet
}

// Bounds of the count and duration flags. A value outside them is a usage
// error, never clamped, so that a mistake shows (--keepalive 1ns would
// otherwise send tens of thousands of datagrams a second).
const (
	minTimeout   = 100 * time.Millisecond
	maxTimeout   = 60 * time.Second
	maxRetries   = 20
	minKeepalive = time.Second
	maxKeepalive = 5 * time.Minute
	maxInstance  = 15 // SOL payload instances are 1–15 (IPMI v2.0 §24.1)
	// maxUserName: RAKP Message 1 carries at most 16 bytes of user name
	// (IPMI v2.0 §13.20).
	maxUserName = 16
	// maxSecret: passwords and K_g are at most 20 bytes (IPMI v2.0 §13.31,
	// §22.25).
	maxSecret = 20
)

const usageIntro = `ghmicons: the serial console of a machine through its BMC (IPMI 2.0 Serial-over-LAN)

Usage:
`

const usageExamples = `Command words are case-insensitive.

Examples:
  IPMI_PASSWORD=secret ghmicons -H bmc1.example.net -U admin -E
  ghmicons -H 10.0.0.5 -U admin -f ~/.bmcpass --bootdev pxe --power cycle
  ghmicons -H bmc1 -U admin -E --log /var/log/consoles/bmc1.log --log-timestamps --reconnect </dev/null
  ghmicons -H bmc1 -U admin -E power status
  ghmicons serve --config consoles.toml      (every console of a fleet over SSH: ghmicons serve --help)

Flags:
`

// usageHead is --help up to the flags; the command lines come from the
// command table.
func usageHead() string { return usageIntro + usageCommands() + usageExamples }

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := pflag.NewFlagSet("ghmicons", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(stderr)
	fs.SetInterspersed(true)
	fs.StringVarP(&o.host, "host", "H", "", "BMC address: host, host:port, IPv6, [IPv6]:port, [fe80::1%eth0]:port")
	fs.IntVarP(&o.port, "port", "p", 0, "BMC UDP port, 1-65535 (default 623; or give it in -H)")
	fs.StringVarP(&o.user, "user", "U", "", "user name (at most 16 bytes)")
	fs.BoolVarP(&o.envPass, "env", "E", false, "read the password from IPMI_PASSWORD (or IPMITOOL_PASSWORD)")
	fs.StringVarP(&o.passFile, "password-file", "f", "", "read the password from the first line of a file")
	fs.StringVarP(&o.password, "password", "P", "", "password on the command line (other users can see it; prefer -E or -f)")
	fs.BoolVarP(&o.kgEnv, "kg-env", "K", false, "read the BMC key K_g from IPMI_KGKEY (text, or hex after 0x)")
	fs.BoolVarP(&o.kgPrompt, "kg-prompt", "Y", false, "prompt for the BMC key K_g on the terminal (text, or hex after 0x)")
	fs.StringVar(&o.kgFile, "kg-file", "", "read the BMC key K_g from the first line of `FILE` (text, or hex after 0x)")
	fs.StringVarP(&o.kg, "kg", "k", "", "BMC key K_g as text on the command line (other users can see it)")
	fs.StringVarP(&o.kgHex, "kg-hex", "y", "", "BMC key K_g in hex on the command line (other users can see it)")
	fs.IntVarP(&o.suite, "cipher-suite", "C", -1, "cipher suite 0-255 (default: negotiate, preferring 17 then 3)")
	fs.BoolVar(&o.allowSuite0, "insecure-cipher-suite-0", false, "allow -C 0: no authentication, integrity or encryption")
	fs.StringVarP(&o.privilege, "privilege", "L", "administrator", "privilege level: callback, user, operator, administrator")
	fs.BoolVar(&o.usernameLookup, "username-privilege-lookup", false, "look the user up by name and privilege (default: name only)")
	fs.StringVarP(&o.iface, "interface", "I", "lanplus", "accepted for ipmitool compatibility; only lanplus exists")
	fs.BoolVarP(&o.ipv4, "ipv4", "4", false, "use IPv4 only")
	fs.BoolVarP(&o.ipv6, "ipv6", "6", false, "use IPv6 only")
	fs.StringVarP(&o.escapeChar, "escape", "e", "~", "escape character, ^X, or none (off by default when stdin is not a terminal)")
	fs.IntVar(&o.instance, "instance", 1, "SOL payload instance, 1-15")
	fs.BoolVar(&o.noSteal, "no-steal", false, "fail if the console is in use instead of taking it over")
	fs.StringVar(&o.logFile, "log", "", "append console output to FILE")
	fs.BoolVar(&o.logStamps, "log-timestamps", false, "prefix each logged line with an RFC 3339 timestamp (with --log)")
	fs.BoolVar(&o.reconnect, "reconnect", false, "on session loss, BMC reboot or takeover, reconnect with backoff")
	fs.BoolVar(&o.keepOpen, "keep-open", false, "keep the console running at end of standard input (for logging)")
	fs.DurationVar(&o.keepalive, "keepalive", 15*time.Second, "longest interval between keepalives, 1s-5m, or 0 to disable")
	fs.DurationVar(&o.timeout, "timeout", time.Second, "wait for the first try of each request, 100ms-60s")
	fs.IntVar(&o.retries, "retries", 3, "retransmissions of each request, 0-20")
	fs.StringVar(&o.debug, "debug", "", "protocol trace to stderr, or to `FILE` with --debug=FILE")
	fs.Lookup("debug").NoOptDefVal = "-"
	fs.StringVar(&o.bootdev, "bootdev", "", "with the console: set the boot device once attached (DEV[,persistent][,efi])")
	fs.StringVar(&o.power, "power", "", "with the console: power action once attached (on, off, cycle, reset, soft, diag)")
	fs.BoolVar(&o.demo, "demo", false, "run against a built-in simulated BMC")
	fs.BoolVar(&o.version, "version", false, "print the version")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead(), fs.FlagUsages(), "\n", escapeHelpShort(), "\n\n", environmentHelp, "\n\n", exitCodesHelp, "\n")
	}
	o.fs = fs
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.args = fs.Args()
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// escapeHelpShort is --help's line on the escapes.
func escapeHelpShort() string {
	return wrap("Escapes (after a newline): ~. quit, ~B break, ~C command prompt ("+command.Summary(command.Prompt)+
		"), ~R reconnect, ~# status, ~^Z suspend, ~? help, ~~ a literal ~.", 79)
}

// flagName is how messages name a flag: its letter if it has one.
func (o *options) flagName(name string) string {
	if f := o.fs.Lookup(name); f != nil && f.Shorthand != "" {
		return "-" + f.Shorthand
	}
	return "--" + name
}

// given lists, by their names in messages, which of the flags were given.
func (o *options) given(names ...string) []string {
	var g []string
	for _, n := range names {
		if o.fs.Changed(n) {
			g = append(g, o.flagName(n))
		}
	}
	return g
}

var (
	passwordFlags = []string{"password", "env", "password-file"}
	kgFlags       = []string{"kg", "kg-hex", "kg-env", "kg-prompt", "kg-file"}
)

// both is "-P and -E both" or "-P, -E and -f all".
func both(flags []string) string {
	if len(flags) == 2 {
		return flags[0] + " and " + flags[1] + " both"
	}
	return strings.Join(flags[:len(flags)-1], ", ") + " and " + flags[len(flags)-1] + " all"
}

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// validate checks every flag and the command words before anything is read
// or sent, so that a mistake costs neither a password prompt nor a session.
func (o *options) validate() error {
	if o.demo {
		demoFixed := append([]string{"host", "port", "user", "privilege"}, append(passwordFlags, kgFlags...)...)
		if g := o.given(demoFixed...); len(g) > 0 {
			return usagef("--demo runs its own simulated BMC (user admin, password password): drop %s", strings.Join(g, ", "))
		}
		if len(o.args) > 0 {
			return usagef("--demo attaches to the simulated console; %q needs a real BMC (-H)", o.args[0])
		}
	}
	if o.fs.Changed("port") && (o.port < 1 || o.port > 65535) {
		return usagef("-p %d: a UDP port is 1-65535 (omit -p for IPMI's 623)", o.port)
	}
	if o.ipv4 && o.ipv6 {
		return usagef("-4 and -6 exclude each other: give one, or neither to use the address as it resolves")
	}
	if o.fs.Changed("cipher-suite") {
		switch {
		case o.suite < 0 || o.suite > 255:
			return usagef("-C %d: cipher suites are 0-255 (omit -C to negotiate)", o.suite)
		case o.suite == 0 && !o.allowSuite0:
			return usagef("-C 0 has no authentication, integrity or encryption; add --insecure-cipher-suite-0 if you mean it")
		}
		if _, ok := ipmi.LookupCipherSuite(uint8(o.suite)); !ok {
			return usagef("-C %d: not supported (supported: %v)", o.suite, ipmi.SupportedCipherSuites())
		}
	}
	p, err := ipmi.ParsePrivilege(o.privilege)
	if err != nil {
		return usagef("-L: %s", strings.TrimPrefix(err.Error(), "ipmi: "))
	}
	o.priv = p
	if o.iface != "lanplus" {
		return usagef("-I %s: only lanplus (IPMI 2.0) is supported", o.iface)
	}
	if len(o.user) > maxUserName {
		return usagef("-U: the user name is %d bytes; IPMI allows at most %d", len(o.user), maxUserName)
	}
	if g := o.given(passwordFlags...); len(g) > 1 {
		return usagef("%s give the password: use one (-E or -f keep it out of the process list)", both(g))
	}
	if g := o.given(kgFlags...); len(g) > 1 {
		return usagef("%s give K_g: use one (-K, -Y or --kg-file keep it out of the process list)", both(g))
	}
	if o.fs.Changed("password") && len(o.password) > maxSecret {
		return usagef("-P: the password is %d bytes, longer than IPMI's %d", len(o.password), maxSecret)
	}
	if o.fs.Changed("kg") && len(o.kg) > maxSecret {
		return usagef("-k: K_g is at most %d bytes", maxSecret)
	}
	if o.fs.Changed("kg-hex") {
		if _, err := decodeKgHex(o.kgHex); err != nil {
			return usagef("-y: %v", err)
		}
	}
	if o.timeout < minTimeout || o.timeout > maxTimeout {
		return usagef("--timeout %v: give %v to %v", o.timeout, minTimeout, maxTimeout)
	}
	if o.retries < 0 || o.retries > maxRetries {
		return usagef("--retries %d: give 0 to %d", o.retries, maxRetries)
	}
	if o.keepalive != 0 && (o.keepalive < minKeepalive || o.keepalive > maxKeepalive) {
		return usagef("--keepalive %v: give %v to %v, or 0 to disable keepalives", o.keepalive, minKeepalive, maxKeepalive)
	}
	if o.instance < 1 || o.instance > maxInstance {
		return usagef("--instance %d: SOL instances are 1-%d", o.instance, maxInstance)
	}
	if o.fs.Changed("escape") {
		if _, _, err := escape.Parse(o.escapeChar); err != nil {
			return usagef("-e: %s", strings.TrimPrefix(err.Error(), "escape: "))
		}
	}
	if o.logStamps && o.logFile == "" {
		return usagef("--log-timestamps stamps the lines of --log FILE: add --log")
	}
	if o.bootdev != "" {
		if o.bootCmd, err = parseAttachCommand("--bootdev", "bootdev", o.bootdev); err != nil {
			return err
		}
	}
	if o.power != "" {
		if o.powerCmd, err = parseAttachCommand("--power", "power", o.power); err != nil {
			return err
		}
	}
	if len(o.args) > 0 {
		if g := o.given("bootdev", "power"); len(g) > 0 {
			return usagef("%s apply to the console; with the command %q, give the action as a command of its own (ghmicons ... %s ...)",
				strings.Join(g, " and "), o.args[0], strings.TrimPrefix(g[0], "--"))
		}
		c, err := parseCommand(o.args)
		if err != nil {
			return err
		}
		o.cmd = c
	}
	return nil
}

// address is the BMC's UDP address from -H and -p. Rules: -H is a host
// name, an IPv4 address, an IPv6 address (bare, or in brackets, with a zone
// if link-local), each optionally with :PORT (IPv6 then in brackets). -p
// gives the port instead; giving it both ways is fine only if both agree.
func (o *options) address() (string, error) {
	if o.host == "" {
		return "", usagef("no BMC given: use -H HOST (or --demo)")
	}
	port := 0
	if o.fs.Changed("port") {
		port = o.port
	}
	addr, err := ipmi.BMCAddress(o.host, port)
	if err != nil {
		return "", usagef("-H %s: %s", o.host, strings.TrimPrefix(err.Error(), "ipmi: "))
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip, err := netip.ParseAddr(host); err == nil {
		switch {
		case o.ipv4 && !ip.Unmap().Is4():
			return "", usagef("-4 with the IPv6 address %s: drop -4, or give an IPv4 address", host)
		case o.ipv6 && ip.Is4():
			return "", usagef("-6 with the IPv4 address %s: drop -6, or give an IPv6 address", host)
		}
	}
	return addr, nil
}

func (o *options) network() string {
	switch {
	case o.ipv4:
		return "udp4"
	case o.ipv6:
		return "udp6"
	}
	return "udp"
}

// escapeFilter returns the escape filter: on with "~" on a terminal, off in
// pipe mode unless -e was given.
func (o *options) escapeFilter(tty bool) (*escape.Filter, error) {
	if !tty && !o.fs.Changed("escape") {
		return escape.Disabled(), nil
	}
	c, enabled, err := escape.Parse(o.escapeChar)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if !enabled {
		return escape.Disabled(), nil
	}
	return escape.New(c), nil
}

// firstLine reads the first line of a file, without its line end.
func firstLine(path string) (string, error) { return textfile.FirstLine(path) }

// decodeKgHex reads K_g in hex, with or without 0x.
func decodeKgHex(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil || len(b) == 0 || len(b) > maxSecret {
		return nil, fmt.Errorf("K_g in hex is 1 to %d bytes (2 to %d hex digits)", maxSecret, 2*maxSecret)
	}
	return b, nil
}
