package serve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/internal/textfile"
	"github.com/ghmicons/ghmicons/internal/tomlfile"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The configuration file (TOML): [ssh], [defaults], [[group]] and
// [[console]] tables. Unknown keys are errors, reported with the line they
// are on. docs/serve.md is the reference.

// File is the configuration file as written.
type File struct {
	SSH      SSHConfig       `toml:"ssh"`
	Defaults ConsoleConfig   `toml:"defaults"`
	Groups   []GroupConfig   `toml:"group"`
	Consoles []ConsoleConfig `toml:"console"`
}

// SSHConfig is the [ssh] table.
type SSHConfig struct {
	// Listen is the address to listen on (127.0.0.1:2222 by default).
	Listen string `toml:"listen"`
	// HostKey is the host key's file, made on first start.
	HostKey string `toml:"host_key"`
	// AuthorizedKeys grant every console.
	AuthorizedKeys []string `toml:"authorized_keys"`
	// UserCAKeys are the certificate authorities whose user certificates
	// are accepted; a certificate's principals name consoles and groups.
	UserCAKeys []string `toml:"user_ca_keys"`
	// Escape is the session escape, "^Ec" by default, or "none".
	Escape string `toml:"escape"`
}

// GroupConfig is a [[group]]: keys that grant the consoles of the group.
type GroupConfig struct {
	Name           string   `toml:"name"`
	AuthorizedKeys []string `toml:"authorized_keys"`
}

// ConsoleConfig is a [[console]] or the [defaults]: pointers tell a value
// given from one left to the defaults.
type ConsoleConfig struct {
	Name         string    `toml:"name"`
	BMC          string    `toml:"bmc"`
	User         *string   `toml:"user"`
	PasswordFile *string   `toml:"password_file"`
	PasswordEnv  *string   `toml:"password_env"`
	KgFile       *string   `toml:"kg_file"`
	Suite        *int      `toml:"suite"`
	Privilege    *string   `toml:"privilege"`
	Groups       []string  `toml:"groups"`
	Log          *string   `toml:"log"`
	Timestamps   *bool     `toml:"timestamps"`
	NoSteal      *bool     `toml:"no_steal"`
	Keepalive    *Duration `toml:"keepalive"`
	Timeout      *Duration `toml:"timeout"`
	Replay       *Size     `toml:"replay"`
	History      *Size     `toml:"history"`
	LogMaxSize   *Size     `toml:"log_max_size"`
	// AuthorizedKeys grant this console (in [defaults]: every console).
	AuthorizedKeys []string `toml:"authorized_keys"`
}

// Duration is a TOML duration: "30s", "2m", or "0" / "off" for none.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "off" || s == "0" {
		d.Duration = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration (30s, 2m, off)", s)
	}
	d.Duration = v
	return nil
}

// Size is a byte count: an integer, or a string with a unit ("64KiB",
// "10MiB", "1GiB", "512B").
type Size int64

// UnmarshalTOML implements toml.Unmarshaler.
func (z *Size) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return fmt.Errorf("size %d is negative", v)
		}
		*z = Size(v)
		return nil
	case string:
		n, err := ParseSize(v)
		*z = n
		return err
	}
	return fmt.Errorf("a size is a number of bytes or a string such as \"64KiB\", not %v", v)
}

var sizeRE = regexp.MustCompile(`^\s*([0-9]+)\s*([KMGkmg]i?[Bb]?|[Bb])?\s*$`)

// ParseSize reads a size: digits and an optional unit (B, KiB, MiB, GiB; K,
// M, G and KB, MB, GB mean the same powers of 1024).
func ParseSize(s string) (Size, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (65536, \"64KiB\", \"10MiB\")", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %v", s, err)
	}
	shift := 0
	if m[2] != "" {
		switch strings.ToUpper(m[2][:1]) {
		case "K":
			shift = 10
		case "M":
			shift = 20
		case "G":
			shift = 30
		}
	}
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(n << shift), nil
}

// Defaults of what a console leaves out.
const (
	DefaultListen  = "127.0.0.1:2222"
	DefaultReplay  = 4 << 10
	DefaultHistory = 16 << 10
	DefaultEscape  = "^Ec"
	// MaxHistory bounds history (and replay): the history is held in memory
	// for each console.
	MaxHistory = 16 << 20
)

// Spec is one console, resolved: everything its engine and log need. Two
// equal Specs are the same console (a reload keeps it running).
type Spec struct {
	Name       string
	Addr       string
	Username   string
	Password   string // compared, never printed
	Kg         string
	Suites     []uint8
	Privilege  ipmi.Privilege
	Log        string
	Timestamps bool
	NoSteal    bool
	Keepalive  time.Duration // 0: the engine's default; negative: none
	Timeout    time.Duration
	Replay     int
	History    int
	LogMaxSize int64
}

// Console is a configured console: its Spec and what grants it.
type Console struct {
	Spec
	Groups []string
	Keys   []string // authorized_keys files for this console
}

// Config is a loaded, checked configuration.
type Config struct {
	Path          string
	Listen        string
	HostKey       string
	Escape        string
	AllKeys       []string            // [ssh] authorized_keys
	UserCAKeys    []string            // [ssh] user_ca_keys
	GroupKeys     map[string][]string // group -> authorized_keys files
	Consoles      []*Console
	byName        map[string]*Console
	configuredDir string
}

// Console returns the console named name, or nil.
func (c *Config) Console(name string) *Console { return c.byName[name] }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// reserved are first words of an exec request that are not console names.
var reserved = map[string]bool{"list": true, "help": true}

// ConfigError is a configuration that cannot be used; its text names the
// file, and the line where it can.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// Load reads and checks the configuration file at path; env looks up
// password_env variables.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{fmt.Sprintf("config: %v", err)}
	}
	return Parse(path, b, env)
}

// Parse reads and checks a configuration; name is its file name for
// messages and the directory relative paths start from.
func Parse(name string, data []byte, env func(string) (string, bool)) (*Config, error) {
	var f File
	if err := tomlfile.Decode(data, &f); err != nil {
		var te *tomlfile.Error
		switch {
		case errors.As(err, &te) && te.Key != nil:
			return nil, &ConfigError{fmt.Sprintf("%s:%d: unknown key %q", name, te.Line, te.Key.String())}
		case errors.As(err, &te) && te.Line > 0:
			return nil, &ConfigError{fmt.Sprintf("%s:%d: %s", name, te.Line, oneLine(te.Msg))}
		}
		return nil, &ConfigError{fmt.Sprintf("%s: %s", name, oneLine(err.Error()))}
	}
	cfg, err := resolve(name, &f, env)
	if err != nil {
		return nil, &ConfigError{fmt.Sprintf("%s: %s", name, err)}
	}
	return cfg, nil
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func resolve(name string, f *File, env func(string) (string, bool)) (*Config, error) {
	dir := filepath.Dir(name)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	rels := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = rel(p)
		}
		return out
	}
	cfg := &Config{Path: name, Listen: f.SSH.Listen, HostKey: rel(f.SSH.HostKey), Escape: f.SSH.Escape,
		AllKeys:    rels(append(append([]string(nil), f.SSH.AuthorizedKeys...), f.Defaults.AuthorizedKeys...)),
		UserCAKeys: rels(f.SSH.UserCAKeys), GroupKeys: map[string][]string{}, byName: map[string]*Console{},
		configuredDir: dir}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Escape == "" {
		cfg.Escape = DefaultEscape
	}
	if _, _, err := ParseEscape(cfg.Escape); err != nil {
		return nil, fmt.Errorf("[ssh] escape: %v", err)
	}
	if f.Defaults.Name != "" || f.Defaults.BMC != "" || len(f.Defaults.Groups) > 0 {
		return nil, errors.New("[defaults]: name, bmc and groups belong to each [[console]]")
	}
	for i, g := range f.Groups {
		if !nameRE.MatchString(g.Name) {
			return nil, fmt.Errorf("[[group]] %d: name %q: letters, digits, '.', '_' and '-', up to 64", i+1, g.Name)
		}
		if _, dup := cfg.GroupKeys[g.Name]; dup {
			return nil, fmt.Errorf("[[group]] %q twice", g.Name)
		}
		cfg.GroupKeys[g.Name] = rels(g.AuthorizedKeys)
	}
	for i := range f.Consoles {
		c, err := resolveConsole(&f.Defaults, &f.Consoles[i], env, rel)
		if err != nil {
			if f.Consoles[i].Name != "" {
				return nil, fmt.Errorf("console %q: %v", f.Consoles[i].Name, err)
			}
			return nil, fmt.Errorf("[[console]] %d: %v", i+1, err)
		}
		if _, dup := cfg.byName[c.Name]; dup {
			return nil, fmt.Errorf("console %q twice", c.Name)
		}
		if _, clash := cfg.GroupKeys[c.Name]; clash {
			return nil, fmt.Errorf("console %q: a group has that name too", c.Name)
		}
		c.Keys = rels(f.Consoles[i].AuthorizedKeys)
		cfg.byName[c.Name] = c
		cfg.Consoles = append(cfg.Consoles, c)
	}
	logs := map[string]string{}
	for _, c := range cfg.Consoles {
		if other, dup := logs[c.Log]; dup {
			return nil, fmt.Errorf("consoles %q and %q both log to %s", other, c.Name, c.Log)
		}
		logs[c.Log] = c.Name
	}
	return cfg, nil
}

func pick[T any](c, d *T) (T, bool) {
	switch {
	case c != nil:
		return *c, true
	case d != nil:
		return *d, true
	}
	var zero T
	return zero, false
}

func resolveConsole(d, c *ConsoleConfig, env func(string) (string, bool), rel func(string) string) (*Console, error) {
	if !nameRE.MatchString(c.Name) || reserved[c.Name] {
		return nil, fmt.Errorf("name %q: letters, digits, '.', '_' and '-', up to 64, not list or help", c.Name)
	}
	if c.BMC == "" {
		return nil, errors.New("bmc is missing (host or host:port)")
	}
	addr, err := ipmi.BMCAddress(c.BMC, 0)
	if err != nil {
		return nil, fmt.Errorf("bmc: %v", err)
	}
	s := Spec{Name: c.Name, Addr: addr, Privilege: ipmi.PrivilegeAdministrator}
	s.Username, _ = pick(c.User, d.User)
	// The password: from the console's own source if it names one, else
	// from the defaults'.
	pf, pe := c.PasswordFile, c.PasswordEnv
	if pf == nil && pe == nil {
		pf, pe = d.PasswordFile, d.PasswordEnv
	}
	switch {
	case pf != nil && pe != nil:
		return nil, errors.New("password_file and password_env: give one")
	case pf != nil:
		line, err := textfile.FirstLine(rel(*pf))
		if err != nil {
			return nil, fmt.Errorf("password_file: %v", err)
		}
		s.Password = line
	case pe != nil:
		v, ok := env(*pe)
		if !ok {
			return nil, fmt.Errorf("password_env: %s is not set", *pe)
		}
		s.Password = v
	default:
		return nil, errors.New("no password: give password_file or password_env (here or in [defaults])")
	}
	if kf, ok := pick(c.KgFile, d.KgFile); ok && kf != "" {
		line, err := textfile.FirstLine(rel(kf))
		if err != nil {
			return nil, fmt.Errorf("kg_file: %v", err)
		}
		kg, err := ipmi.ParseKg(line)
		if err != nil {
			return nil, fmt.Errorf("kg_file: %v", err)
		}
		s.Kg = string(kg)
	}
	if n, ok := pick(c.Suite, d.Suite); ok {
		if _, known := ipmi.LookupCipherSuite(uint8(n)); !known || n < 0 || n > 255 {
			return nil, fmt.Errorf("suite %d: not a cipher suite this program knows", n)
		}
		if n == 0 {
			return nil, errors.New("suite 0 (no authentication) is refused")
		}
		s.Suites = []uint8{uint8(n)}
	}
	if p, ok := pick(c.Privilege, d.Privilege); ok {
		if s.Privilege, err = ipmi.ParsePrivilege(p); err != nil {
			return nil, fmt.Errorf("privilege: %v", err)
		}
	}
	tmpl, ok := pick(c.Log, d.Log)
	if !ok || tmpl == "" {
		return nil, errors.New("log is missing: every console is logged (a path, or a template such as \"/var/log/ghmicons/%s.log\" in [defaults])")
	}
	if strings.Count(tmpl, "%s") > 1 || strings.Contains(strings.ReplaceAll(tmpl, "%s", ""), "%") {
		return nil, fmt.Errorf("log %q: the one %%s is the console's name, no other %%", tmpl)
	}
	s.Log = rel(strings.ReplaceAll(tmpl, "%s", c.Name))
	s.Timestamps, _ = pick(c.Timestamps, d.Timestamps)
	s.NoSteal, _ = pick(c.NoSteal, d.NoSteal)
	if k, ok := pick(c.Keepalive, d.Keepalive); ok {
		s.Keepalive = k.Duration
		if s.Keepalive == 0 {
			s.Keepalive = -1
		}
	}
	if t, ok := pick(c.Timeout, d.Timeout); ok {
		s.Timeout = t.Duration
	}
	s.Replay, s.History = DefaultReplay, DefaultHistory
	if v, ok := pick(c.History, d.History); ok {
		s.History = int(v)
	}
	if v, ok := pick(c.Replay, d.Replay); ok {
		s.Replay = int(v)
	}
	if s.History > MaxHistory {
		return nil, fmt.Errorf("history %d: at most %d (16MiB)", s.History, MaxHistory)
	}
	if s.Replay > s.History {
		s.History = s.Replay
		if s.History > MaxHistory {
			return nil, fmt.Errorf("replay %d: at most %d (16MiB)", s.Replay, MaxHistory)
		}
	}
	if v, ok := pick(c.LogMaxSize, d.LogMaxSize); ok {
		if v != 0 && v < 4096 {
			return nil, fmt.Errorf("log_max_size %d: at least 4096 (or 0: no cap)", v)
		}
		s.LogMaxSize = int64(v)
	}
	groups := append([]string(nil), c.Groups...)
	for _, g := range groups {
		if !nameRE.MatchString(g) {
			return nil, fmt.Errorf("group %q: letters, digits, '.', '_' and '-'", g)
		}
	}
	return &Console{Spec: s, Groups: groups}, nil
}

// ParseEscape reads the session escape: "^E" style control character
// followed by one character ("^Ec", conserver's), or "none".
func ParseEscape(s string) (lead, second byte, err error) {
	if s == "none" {
		return 0, 0, nil
	}
	if len(s) != 3 || s[0] != '^' || s[1] < '@' || s[1] > '_' || s[2] < '!' || s[2] > '~' {
		return 0, 0, fmt.Errorf("%q: a control character and a character, as \"^Ec\", or \"none\"", s)
	}
	return s[1] - '@', s[2], nil
}
