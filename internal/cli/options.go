package cli

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=…".
var Version = "0.1.0-dev"

type options struct {
	host, user, passFile, password, kg, kgHex string
	port                                      int
	envPass, ipv4, ipv6, noSteal, logStamps   bool
	suite                                     int
	allowSuite0, usernameLookup               bool
	privilege, iface, escapeChar, logFile     string
	instance                                  int
	reconnect, keepOpen, demo, version        bool
	keepalive, timeout                        time.Duration
	retries                                   int
	debug                                     string
	bootdev, power                            string
	bootPersistent, bootEFI                   bool

	args []string // the command and its arguments
	fs   *pflag.FlagSet
}

const usageHead = `ghmicons: the serial console of a machine through its BMC (IPMI 2.0 Serial-over-LAN)

Usage:
  ghmicons [flags]                          attach to the console
  ghmicons [flags] power on|off|cycle|reset|soft|diag|status
  ghmicons [flags] bootdev none|pxe|disk|safe|diag|cdrom|bios [persistent] [efi]
  ghmicons [flags] bootdev status
  ghmicons [flags] info                     BMC identity and session details
  ghmicons --demo                           try it against a built-in simulated BMC

Examples:
  IPMI_PASSWORD=secret ghmicons -H bmc1.example.net -U admin -E
  ghmicons -H 10.0.0.5 -U admin -f ~/.bmcpass --bootdev pxe --power cycle
  ghmicons -H bmc1 -U admin -E --log /var/log/consoles/bmc1.log --log-timestamps --reconnect </dev/null
  ghmicons -H bmc1 -U admin -E power status

Flags:
`

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := pflag.NewFlagSet("ghmicons", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(stderr)
	fs.SetInterspersed(true)
	fs.StringVarP(&o.host, "host", "H", "", "BMC address: host, host:port, [v6]:port")
	fs.IntVarP(&o.port, "port", "p", 0, "BMC UDP port (default 623)")
	fs.StringVarP(&o.user, "user", "U", "", "user name")
	fs.BoolVarP(&o.envPass, "env", "E", false, "read the password from IPMI_PASSWORD (or IPMITOOL_PASSWORD)")
	fs.StringVarP(&o.passFile, "password-file", "f", "", "read the password from the first line of a file")
	fs.StringVarP(&o.password, "password", "P", "", "password on the command line (other users can see it; prefer -E or -f)")
	fs.StringVarP(&o.kg, "kg", "k", "", "BMC key K_g as text")
	fs.StringVarP(&o.kgHex, "kg-hex", "y", "", "BMC key K_g in hex")
	fs.IntVarP(&o.suite, "cipher-suite", "C", -1, "cipher suite (default: negotiate, preferring 17 then 3)")
	fs.BoolVar(&o.allowSuite0, "insecure-cipher-suite-0", false, "allow -C 0: no authentication, integrity or encryption")
	fs.StringVarP(&o.privilege, "privilege", "L", "administrator", "privilege level: callback, user, operator, administrator")
	fs.BoolVar(&o.usernameLookup, "username-privilege-lookup", false, "look the user up by name and privilege (default: name only)")
	fs.StringVarP(&o.iface, "interface", "I", "lanplus", "accepted for ipmitool compatibility; only lanplus exists")
	fs.BoolVarP(&o.ipv4, "ipv4", "4", false, "use IPv4 only")
	fs.BoolVarP(&o.ipv6, "ipv6", "6", false, "use IPv6 only")
	fs.StringVarP(&o.escapeChar, "escape", "e", "~", "escape character, ^X, or none (off by default when stdin is not a terminal)")
	fs.IntVar(&o.instance, "instance", 1, "SOL payload instance (1-15)")
	fs.BoolVar(&o.noSteal, "no-steal", false, "fail if the console is in use instead of taking it over")
	fs.StringVar(&o.logFile, "log", "", "append console output to FILE")
	fs.BoolVar(&o.logStamps, "log-timestamps", false, "prefix each logged line with an RFC 3339 timestamp")
	fs.BoolVar(&o.reconnect, "reconnect", false, "on session loss, BMC reboot or takeover, reconnect with backoff")
	fs.BoolVar(&o.keepOpen, "keep-open", false, "keep the console running at end of standard input (for logging)")
	fs.DurationVar(&o.keepalive, "keepalive", 15*time.Second, "longest interval between keepalives (0 disables)")
	fs.DurationVar(&o.timeout, "timeout", time.Second, "wait for the first try of each request")
	fs.IntVar(&o.retries, "retries", 3, "retransmissions of each request")
	fs.StringVar(&o.debug, "debug", "", "protocol trace to stderr, or to `FILE` with --debug=FILE")
	fs.Lookup("debug").NoOptDefVal = "-"
	fs.StringVar(&o.bootdev, "bootdev", "", "with the console: set the boot device once attached (DEV[,persistent][,efi])")
	fs.StringVar(&o.power, "power", "", "with the console: power action once attached (on, off, cycle, reset, soft, diag)")
	fs.BoolVar(&o.demo, "demo", false, "run against a built-in simulated BMC")
	fs.BoolVar(&o.version, "version", false, "print the version")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead, fs.FlagUsages(), "\n", escapeHelpShort, "\n\n", exitCodesHelp, "\n")
	}
	o.fs = fs
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.args = fs.Args()
	return o, nil
}

const escapeHelpShort = `Escapes (after a newline): ~. quit, ~B break, ~C command prompt (power, bootdev),
~R reconnect, ~# status, ~^Z suspend, ~? help, ~~ a literal ~.`

func (o *options) address() (string, error) {
	if o.host == "" {
		return "", &usageError{"no BMC given: use -H HOST (or --demo)"}
	}
	addr := o.host
	if o.port != 0 {
		h := strings.Trim(addr, "[]")
		if strings.Contains(h, ":") {
			addr = "[" + h + "]:" + strconv.Itoa(o.port)
		} else {
			addr = h + ":" + strconv.Itoa(o.port)
		}
	}
	return ipmi.HostPort(addr)
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

// sessionConfig builds the session configuration, reading the password from
// the environment, a file, the command line or a prompt.
func (o *options) sessionConfig(env func(string) (string, bool), stdin *os.File, stderr io.Writer) (ipmi.Config, error) {
	cfg := ipmi.Config{Username: o.user, Timeout: o.timeout, Retries: o.retries, AllowNoAuth: o.allowSuite0,
		UsernamePrivilegeLookup: o.usernameLookup}
	if o.retries == 0 {
		cfg.Retries = -1
	}
	if o.iface != "lanplus" {
		return cfg, &usageError{fmt.Sprintf("-I %s: only lanplus (IPMI 2.0) is supported", o.iface)}
	}
	p, err := ipmi.ParsePrivilege(o.privilege)
	if err != nil {
		return cfg, &usageError{err.Error()}
	}
	cfg.Privilege = p
	if o.suite >= 0 {
		if o.suite > 255 {
			return cfg, &usageError{fmt.Sprintf("-C %d: no such cipher suite", o.suite)}
		}
		if o.suite == 0 && !o.allowSuite0 {
			return cfg, &usageError{"-C 0 has no authentication, integrity or encryption; add --insecure-cipher-suite-0 if you mean it"}
		}
		if _, ok := ipmi.LookupCipherSuite(uint8(o.suite)); !ok {
			return cfg, &usageError{fmt.Sprintf("-C %d: not supported (supported: %v)", o.suite, ipmi.SupportedCipherSuites())}
		}
		cfg.CipherSuites = []uint8{uint8(o.suite)}
	}
	switch {
	case o.kgHex != "":
		b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(o.kgHex, "0x"), "0X"))
		if err != nil || len(b) > 20 {
			return cfg, &usageError{"-y: K_g must be up to 20 bytes of hex"}
		}
		cfg.Kg = b
	case o.kg != "":
		if len(o.kg) > 20 {
			return cfg, &usageError{"-k: K_g is at most 20 characters"}
		}
		cfg.Kg = []byte(o.kg)
	}
	pw, err := o.readPassword(env, stdin, stderr)
	if err != nil {
		return cfg, err
	}
	if len(pw) > 20 {
		return cfg, &usageError{"the password is longer than IPMI's 20 bytes"}
	}
	cfg.Password = pw
	return cfg, nil
}

func (o *options) readPassword(env func(string) (string, bool), stdin *os.File, stderr io.Writer) ([]byte, error) {
	switch {
	case o.fs.Changed("password"):
		fmt.Fprintln(stderr, "ghmicons: warning: a password given with -P can be seen by other users; use -E or -f")
		return []byte(o.password), nil
	case o.envPass:
		for _, k := range []string{"IPMI_PASSWORD", "IPMITOOL_PASSWORD"} {
			if v, ok := env(k); ok {
				return []byte(v), nil
			}
		}
		return nil, &usageError{"-E: neither IPMI_PASSWORD nor IPMITOOL_PASSWORD is set"}
	case o.passFile != "":
		f, err := os.Open(o.passFile)
		if err != nil {
			return nil, &usageError{fmt.Sprintf("-f: %v", err)}
		}
		defer f.Close()
		line, err := bufio.NewReader(f).ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, &usageError{fmt.Sprintf("-f: %v", err)}
		}
		return []byte(strings.TrimRight(line, "\r\n")), nil
	}
	if term.IsTerminal(int(stdin.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		pw, err := term.ReadPassword(int(stdin.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, fmt.Errorf("reading password: %w", err)
		}
		return pw, nil
	}
	// No password source and nobody to ask: an empty password (null
	// passwords exist on some BMCs).
	return nil, nil
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

// parseBoot reads "pxe persistent efi" words.
func parseBoot(words []string) (ipmi.BootFlags, error) {
	if len(words) == 0 {
		return ipmi.BootFlags{}, &usageError{"bootdev: which device? none, pxe, disk, safe, diag, cdrom, bios"}
	}
	d, err := ipmi.ParseBootDevice(words[0])
	if err != nil {
		return ipmi.BootFlags{}, &usageError{err.Error()}
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
			return f, &usageError{fmt.Sprintf("bootdev: unknown option %q (want persistent, efi)", w)}
		}
	}
	return f, nil
}
