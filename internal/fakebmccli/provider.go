package fakebmccli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// A provider file is one of two formats, told apart by its first line that
// is not blank or a comment: "[SECTION]" makes it a shipmi provider (INI),
// anything else the KEY = COMMAND hook file of --provider before racks.
//
// shipmi's INI, as shipmi reads it (Python's configparser without
// interpolation): [POWER] status, on, off, shutdown, reset, diag; [BOOT]
// get, set; key = value or key: value, keys in any case, # and ; comments,
// indented lines continue a value. Commands run with sh -c after %(name)s
// (the BMC's name) and, for set, %(bootdev)s (also spelt %(boot_device)s)
// are substituted (%% is %), in the provider file's folder, so relative
// script paths are resolved against it. Boot devices are named as shipmi
// names them: network, hd, optical. fakebmc adds [POWER] cycle (else off,
// then on) and [CONSOLE] exec = COMMAND or serial = SERIAL (any --serial
// form), the BMC's serial host when its own serial is not set.

// provider is a shipmi provider file.
type provider struct {
	Path    string            // the file, for listings
	Dir     string            // its folder: where commands run
	Power   map[string]string // [POWER] by key
	Boot    map[string]string // [BOOT] by key
	Console string            // a --serial value from [CONSOLE], or ""
	Timeout time.Duration     // per command; 0 means fakebmc.DefaultHookTimeout
}

// providerFile is what a provider file holds: an INI provider or hooks.
type providerFile struct {
	ini   *provider
	hooks map[string]string
}

var iniKeys = map[string][]string{
	"POWER":   {"status", "on", "off", "shutdown", "reset", "diag", "cycle"},
	"BOOT":    {"get", "set"},
	"CONSOLE": {"exec", "serial"},
}

// loadProviderFile reads a provider file in either format.
func loadProviderFile(path string, readFile func(string) ([]byte, error)) (providerFile, error) {
	data, err := readFile(path)
	if err != nil {
		return providerFile{}, err
	}
	return parseProviderFile(path, data)
}

func parseProviderFile(path string, data []byte) (providerFile, error) {
	if isINI(data) {
		p, err := parseINIProvider(path, data)
		return providerFile{ini: p}, err
	}
	hooks := map[string]string{}
	err := parseHooks(path, data, hooks)
	return providerFile{hooks: hooks}, err
}

func isINI(data []byte) bool {
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		return l[0] == '['
	}
	return false
}

// parseHooks reads the KEY = COMMAND format into hooks.
func parseHooks(path string, data []byte, hooks map[string]string) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || !isHookKey(k) {
			return fmt.Errorf("%s:%d: want KEY = COMMAND with KEY one of %s", path, n, strings.Join(hookKeys, ", "))
		}
		hooks[k] = strings.TrimSpace(v)
	}
	return sc.Err()
}

func isHookKey(k string) bool { return slices.Contains(hookKeys, k) }

// parseINIProvider reads a shipmi provider.
func parseINIProvider(path string, data []byte) (*provider, error) {
	p := &provider{Path: path, Dir: filepath.Dir(path), Power: map[string]string{}, Boot: map[string]string{}}
	section, key := "", ""
	var last map[string]string
	for n, raw := range strings.Split(string(data), "\n") {
		n++
		line := strings.TrimRight(raw, "\r \t")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case line[0] == ' ' || line[0] == '\t':
			if last == nil || key == "" {
				return nil, fmt.Errorf("%s:%d: an indented line continues no value", path, n)
			}
			last[key] += "\n" + trimmed
			continue
		case trimmed[0] == '[':
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fmt.Errorf("%s:%d: bad section header %q", path, n, trimmed)
			}
			section = strings.TrimSpace(trimmed[1 : len(trimmed)-1])
			if iniKeys[section] == nil {
				return nil, fmt.Errorf("%s:%d: unknown section [%s] (want POWER, BOOT or CONSOLE)", path, n, section)
			}
			key, last = "", nil
			continue
		}
		if section == "" {
			return nil, fmt.Errorf("%s:%d: a key before any section", path, n)
		}
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("%s:%d: want key = command", path, n)
		}
		key = strings.ToLower(strings.TrimSpace(trimmed[:i]))
		v := strings.TrimSpace(trimmed[i+1:])
		if !slices.Contains(iniKeys[section], key) {
			return nil, fmt.Errorf("%s:%d: unknown key %q in [%s] (want %s)", path, n, key, section, strings.Join(iniKeys[section], ", "))
		}
		switch section {
		case "POWER":
			last = p.Power
		case "BOOT":
			last = p.Boot
		case "CONSOLE":
			last = map[string]string{}
			if p.Console != "" {
				return nil, fmt.Errorf("%s:%d: [CONSOLE] has exec or serial, once", path, n)
			}
			if key == "exec" {
				p.Console = "exec:" + v
			} else {
				p.Console = v
			}
			continue
		}
		last[key] = v
	}
	for _, m := range []map[string]string{p.Power, p.Boot} {
		for k, v := range m {
			if _, err := substitute(v, map[string]string{"name": "x", "bootdev": "hd", "boot_device": "hd"}); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, k, err)
			}
		}
	}
	if p.Console != "" {
		if _, err := substitute(p.Console, map[string]string{"name": "x"}); err != nil {
			return nil, fmt.Errorf("%s: [CONSOLE]: %w", path, err)
		}
		if err := fakebmc.CheckSerial(p.Console); err != nil {
			return nil, fmt.Errorf("%s: [CONSOLE]: %w", path, err)
		}
	}
	return p, nil
}

var substRe = regexp.MustCompile(`%(\(([A-Za-z_]+)\)s|%)`)

// substitute does Python's %-formatting of a mapping, as shipmi does to
// its commands: %(key)s is vars[key], %% is %. Any other % is an error.
func substitute(s string, vars map[string]string) (string, error) {
	var out strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			out.WriteString(s)
			return out.String(), nil
		}
		out.WriteString(s[:i])
		m := substRe.FindStringSubmatch(s[i:])
		if m == nil || !strings.HasPrefix(s[i:], m[0]) {
			return "", fmt.Errorf("bad %% in %q (want %%(name)s, %%(bootdev)s or %%%%)", s)
		}
		if m[1] == "%" {
			out.WriteByte('%')
		} else {
			v, ok := vars[m[2]]
			if !ok {
				return "", fmt.Errorf("unknown substitution %%(%s)s in %q", m[2], s)
			}
			out.WriteString(v)
		}
		s = s[i+len(m[0]):]
	}
}

// shipmi's boot device names (pyghmi's, for the devices shipmi accepts).
var shipmiBootNames = map[ipmi.BootDevice]string{ipmi.BootPXE: "network", ipmi.BootDisk: "hd", ipmi.BootCDROM: "optical"}

// errProviderOutput is what a status or get command printed that is not
// a state or device; shipmi answers it with 0xCC (invalid data field,
// IPMI v2.0 §5.2, Table 5-2), and so does fakebmc.
func errProviderOutput(what, out string) error {
	return &fakebmc.CompletionError{Code: ipmi.CCInvalidDataField, Err: fmt.Errorf("provider %s printed %q", what, out)}
}

// run runs the provider's command for key of section with vars (and
// name) substituted, in the provider's folder, and returns its standard
// output without the surrounding blanks. Its standard error goes to logw.
func (p *provider) run(ctx context.Context, cmds map[string]string, key, name string, logw io.Writer, vars ...string) (string, error) {
	m := map[string]string{"name": name}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	cmd, err := substitute(cmds[key], m)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = fakebmc.RunShellIn(ctx, p.Dir, cmd, []string{"GHMICONS_BMC=" + name}, &limitedWriter{w: &out, n: 64 << 10}, logw)
	return strings.TrimSpace(out.String()), err
}

// attach makes chassis do what the provider says for the BMC called name.
// Commands run on the server's hook goroutines, never under its lock,
// each bounded by the chassis's HookTimeout: a command that fails (exits
// non-zero) answers 0xD5, one that runs too long is killed and answers
// 0xC3, one busy with another action makes a power or boot request
// answer 0xC0 (IPMI v2.0 §5.2, Table 5-2).
func (p *provider) attach(c *fakebmc.Chassis, name string, logw io.Writer) {
	if len(p.Power) > 0 {
		c.Hook = func(ctx context.Context, a ipmi.ChassisAction) error {
			key := map[ipmi.ChassisAction]string{ipmi.PowerOn: "on", ipmi.PowerOff: "off", ipmi.SoftShutdown: "shutdown",
				ipmi.HardReset: "reset", ipmi.DiagInterrupt: "diag", ipmi.PowerCycle: "cycle"}[a]
			if a == ipmi.PowerCycle && p.Power["cycle"] == "" && (p.Power["off"] != "" || p.Power["on"] != "") {
				for _, k := range []string{"off", "on"} {
					if p.Power[k] == "" {
						continue
					}
					if _, err := p.run(ctx, p.Power, k, name, logw); err != nil {
						return err
					}
				}
				return nil
			}
			if p.Power[key] == "" {
				return nil // the built-in state machine alone
			}
			_, err := p.run(ctx, p.Power, key, name, logw)
			return err
		}
	}
	if p.Power["status"] != "" {
		c.PowerQuery = func(ctx context.Context) (bool, error) {
			out, err := p.run(ctx, p.Power, "status", name, logw)
			if err != nil {
				return false, err
			}
			switch out {
			case "on", "1":
				return true, nil
			case "off", "0":
				return false, nil
			}
			return false, errProviderOutput("status", out)
		}
	}
	if p.Boot["set"] != "" {
		c.BootHook = func(ctx context.Context, f ipmi.BootFlags) error {
			if !f.Valid {
				return nil
			}
			dev, ok := shipmiBootNames[f.Device]
			if !ok {
				return &fakebmc.CompletionError{Code: ipmi.CCInvalidDataField,
					Err: fmt.Errorf("boot device %s: shipmi providers take network, hd or optical", f.Device)}
			}
			_, err := p.run(ctx, p.Boot, "set", name, logw, "bootdev", dev, "boot_device", dev)
			return err
		}
	}
	if p.Boot["get"] != "" {
		c.BootQuery = func(ctx context.Context) (ipmi.BootDevice, error) {
			out, err := p.run(ctx, p.Boot, "get", name, logw)
			if err != nil {
				return 0, err
			}
			for d, n := range shipmiBootNames {
				if n == out {
					return d, nil
				}
			}
			return 0, errProviderOutput("boot get", out)
		}
	}
}

// powerText is the power state --list shows: what the status command
// says ("on", "off", or "? (why)"), or "on" without one.
func (p *provider) powerText(name string) string {
	if p.Power["status"] == "" {
		return "on"
	}
	d := p.Timeout
	if d <= 0 {
		d = fakebmc.DefaultHookTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out, err := p.run(ctx, p.Power, "status", name, io.Discard)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "?(timeout)"
	case err != nil:
		return "?(failed)"
	case out == "on" || out == "1":
		return "on"
	case out == "off" || out == "0":
		return "off"
	case out == "":
		return "?(no output)"
	}
	return "?(" + out + ")"
}

// limitedWriter keeps the first n bytes written and discards the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if k := min(len(b), l.n); k > 0 {
		l.n -= k
		if _, err := l.w.Write(b[:k]); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
