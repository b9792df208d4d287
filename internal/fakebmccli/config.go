package fakebmccli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/internal/tomlfile"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The rack's configuration file (--config) is TOML: [defaults] holds
// what every BMC has unless it says otherwise, each [[bmc]] is one BMC,
// each [[range]] is count identical ones on consecutive ports. TOML
// because it is the configuration format Go programs use most, has
// arrays of tables for exactly this shape, comments, and a decoder that
// reports the keys it did not use (so a misspelt key is an error, not a
// silent default). docs/fakebmc-rack.md has an example.

// fileConfig is the file's shape.
type fileConfig struct {
	Defaults bmcFields    `toml:"defaults"`
	BMC      []bmcEntry   `toml:"bmc"`
	Range    []rangeEntry `toml:"range"`
}

type bmcEntry struct {
	Name string `toml:"name"`
	bmcFields
}

type rangeEntry struct {
	Count int    `toml:"count"`
	Name  string `toml:"name"`  // printf pattern, default "bmc%d"
	First *int   `toml:"first"` // the first number, default 1
	bmcFields
}

// bmcFields are the settings of a BMC; nil (or an absent table) means
// "as in [defaults]", then the flags' defaults.
type bmcFields struct {
	Listen            *string           `toml:"listen"`
	Users             []userEntry       `toml:"users"`
	Kg                *string           `toml:"kg"`
	KgHex             *string           `toml:"kg_hex"`
	CipherSuites      []int             `toml:"cipher_suites"`
	Provider          *string           `toml:"provider"`
	Serial            *string           `toml:"serial"`
	History           *int              `toml:"history"`
	SOLInbound        *int              `toml:"sol_inbound"`
	SessionTimeout    *time.Duration    `toml:"session_timeout"`
	HookTimeout       *time.Duration    `toml:"hook_timeout"`
	NoCipherSuiteList *bool             `toml:"no_cipher_suite_list"`
	RejectBootParam0  *bool             `toml:"reject_boot_param0"`
	Hooks             map[string]string `toml:"hooks"`
	Faults            *faultsEntry      `toml:"faults"`

	// serialDefault: Serial came from [defaults], so a provider's
	// [CONSOLE] goes before it.
	serialDefault bool `toml:"-"`
}

type userEntry struct {
	Name         string  `toml:"name"`
	Password     *string `toml:"password"`
	PasswordFile *string `toml:"password_file"`
	Privilege    string  `toml:"privilege"`
}

type faultsEntry struct {
	Drop         float64       `toml:"drop"`
	Duplicate    float64       `toml:"duplicate"`
	Reorder      float64       `toml:"reorder"`
	Corrupt      float64       `toml:"corrupt"`
	Delay        time.Duration `toml:"delay"`
	Seed         uint64        `toml:"seed"`
	ChassisDelay time.Duration `toml:"chassis_delay"`
}

// configEnv is what decoding a file may use besides its text: how to read
// the files it names (password files, providers), relative to its folder,
// and the password of the default user.
type configEnv struct {
	readFile        func(string) ([]byte, error)
	defaultPassword string
}

func osConfigEnv() configEnv {
	env := configEnv{readFile: os.ReadFile, defaultPassword: "password"}
	if v, ok := os.LookupEnv("FAKEBMC_PASSWORD"); ok {
		env.defaultPassword = v
	}
	return env
}

// loadConfig reads and decodes the file at path.
func loadConfig(path string, env configEnv) ([]*bmcSpec, error) {
	data, err := env.readFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, data, env)
}

// parseConfig decodes a rack configuration; path names it in errors and
// is where relative paths in it start from.
func parseConfig(path string, data []byte, env configEnv) ([]*bmcSpec, error) {
	var fc fileConfig
	if err := tomlfile.Decode(data, &fc); err != nil {
		var te *tomlfile.Error
		switch {
		case errors.As(err, &te) && te.Key != nil:
			return nil, fmt.Errorf("%s:%d: unknown key %s", path, te.Line, te.Key)
		case errors.As(err, &te) && te.Line > 0:
			return nil, fmt.Errorf("%s:%d: %s", path, te.Line, te.Msg)
		}
		return nil, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	dir := filepath.Dir(path)
	var out []*bmcSpec
	for i, b := range fc.BMC {
		where := fmt.Sprintf("%s: bmc %d", path, i+1)
		if b.Name == "" {
			return nil, fmt.Errorf("%s: needs a name", where)
		}
		sp, err := fc.Defaults.merge(b.bmcFields).spec(b.Name, dir, env)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", where, b.Name, err)
		}
		if sp.Listen == "" {
			return nil, fmt.Errorf("%s (%s): needs listen = \"HOST:PORT\"", where, b.Name)
		}
		out = append(out, sp)
	}
	for i, r := range fc.Range {
		where := fmt.Sprintf("%s: range %d", path, i+1)
		if r.Count <= 0 || r.Count > 65535 {
			return nil, fmt.Errorf("%s: count must be 1 to 65535", where)
		}
		pattern := r.Name
		if pattern == "" {
			pattern = "bmc%d"
		}
		first := 1
		if r.First != nil {
			first = *r.First
		}
		names, err := rackNames(pattern, r.Count, first)
		if err != nil {
			return nil, fmt.Errorf("%s: name %w", where, err)
		}
		f := fc.Defaults.merge(r.bmcFields)
		if f.Listen == nil {
			return nil, fmt.Errorf("%s: needs listen = \"HOST:FIRSTPORT\"", where)
		}
		addrs, err := rackAddrs(*f.Listen, r.Count)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for j, name := range names {
			sp, err := f.spec(name, dir, env)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, name, err)
			}
			sp.Listen = addrs[j]
			out = append(out, sp)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no [[bmc]] or [[range]]", path)
	}
	names, addrs := map[string]bool{}, map[string]string{}
	for _, sp := range out {
		if names[sp.Name] {
			return nil, fmt.Errorf("%s: two BMCs are called %q", path, sp.Name)
		}
		names[sp.Name] = true
		if _, port, _ := net.SplitHostPort(sp.Listen); port != "0" {
			if other, ok := addrs[sp.Listen]; ok {
				return nil, fmt.Errorf("%s: BMCs %q and %q both listen on %s", path, other, sp.Name, sp.Listen)
			}
			addrs[sp.Listen] = sp.Name
		}
	}
	return out, nil
}

// merge returns d overridden by what e sets: every field e has (a non-nil
// pointer, slice, map) replaces d's, and K_g is one key whichever way the
// entry spells it.
func (d bmcFields) merge(e bmcFields) bmcFields {
	m := d
	m.serialDefault = e.Serial == nil && d.Serial != nil
	mv, ev := reflect.ValueOf(&m).Elem(), reflect.ValueOf(e)
	for i := range ev.NumField() {
		if f := ev.Field(i); mv.Field(i).CanSet() && !f.IsNil() {
			mv.Field(i).Set(f)
		}
	}
	if e.Kg != nil || e.KgHex != nil {
		m.Kg, m.KgHex = e.Kg, e.KgHex
	}
	return m
}

// spec makes the BMC called name from f.
func (f bmcFields) spec(name, dir string, env configEnv) (*bmcSpec, error) {
	sp := &bmcSpec{Name: name, SessionTimeout: 60 * time.Second, HookTimeout: fakebmc.DefaultHookTimeout,
		Serial: "demo", Hooks: map[string]string{}, Suites: []uint8{1, 2, 3, 15, 16, 17}, ReceiveBuffer: 4096}
	if f.Listen != nil {
		sp.Listen = *f.Listen
	}
	if len(f.Users) == 0 {
		sp.Users = []fakebmc.User{{Name: "admin", Password: []byte(env.defaultPassword)}}
	}
	for i, u := range f.Users {
		if u.Name == "" {
			return nil, fmt.Errorf("user %d needs a name", i+1)
		}
		nu := fakebmc.User{Name: u.Name}
		switch {
		case u.Password != nil && u.PasswordFile != nil:
			return nil, fmt.Errorf("user %s: password or password_file, not both", u.Name)
		case u.Password != nil:
			nu.Password = []byte(*u.Password)
		case u.PasswordFile != nil:
			b, err := env.readFile(resolve(dir, *u.PasswordFile))
			if err != nil {
				return nil, fmt.Errorf("user %s: %w", u.Name, err)
			}
			nu.Password = []byte(strings.TrimRight(string(b), "\r\n"))
		default:
			return nil, fmt.Errorf("user %s needs password or password_file", u.Name)
		}
		if len(nu.Password) > 20 {
			return nil, fmt.Errorf("user %s: password longer than 20 bytes (IPMI v2.0 §13.31)", u.Name)
		}
		if u.Privilege != "" {
			p, err := ipmi.ParsePrivilege(u.Privilege)
			if err != nil {
				return nil, fmt.Errorf("user %s: %w", u.Name, err)
			}
			nu.MaxPrivilege = p
		}
		sp.Users = append(sp.Users, nu)
	}
	switch {
	case f.KgHex != nil:
		b, err := decodeHex(*f.KgHex)
		if err != nil {
			return nil, fmt.Errorf("kg_hex: %w", err)
		}
		sp.Kg = b
	case f.Kg != nil:
		sp.Kg = []byte(*f.Kg)
	}
	if len(sp.Kg) > 20 {
		return nil, fmt.Errorf("kg longer than 20 bytes")
	}
	if f.CipherSuites != nil {
		var parts []string
		for _, n := range f.CipherSuites {
			parts = append(parts, fmt.Sprint(n))
		}
		s, err := parseSuites(strings.Join(parts, ","))
		if err != nil {
			return nil, fmt.Errorf("cipher_suites: %w", err)
		}
		sp.Suites = s
	}
	if f.Serial != nil {
		sp.Serial = expandName(*f.Serial, name)
	}
	if err := fakebmc.CheckSerial(sp.Serial); err != nil {
		return nil, err
	}
	if f.History != nil {
		if *f.History < 0 || *f.History > 64<<20 {
			return nil, fmt.Errorf("history must be 0 to 64 MiB")
		}
		sp.History = *f.History
	}
	if f.SOLInbound != nil {
		if *f.SOLInbound < 5 || *f.SOLInbound > 65535 {
			return nil, fmt.Errorf("sol_inbound must be 5 to 65535")
		}
		sp.SOLInbound = *f.SOLInbound
	}
	if f.SessionTimeout != nil {
		if *f.SessionTimeout <= 0 {
			return nil, fmt.Errorf("session_timeout must be positive")
		}
		sp.SessionTimeout = *f.SessionTimeout
	}
	if f.HookTimeout != nil {
		if *f.HookTimeout <= 0 {
			return nil, fmt.Errorf("hook_timeout must be positive")
		}
		sp.HookTimeout = *f.HookTimeout
	}
	if f.NoCipherSuiteList != nil {
		sp.NoCipherSuiteList = *f.NoCipherSuiteList
	}
	if f.RejectBootParam0 != nil {
		sp.RejectBootParam0 = *f.RejectBootParam0
	}
	for k, v := range f.Hooks {
		if !isHookKey(k) {
			return nil, fmt.Errorf("hooks: unknown hook %q (want one of %s)", k, strings.Join(hookKeys, ", "))
		}
		if v != "" {
			sp.Hooks[k] = v
		}
	}
	if f.Provider != nil {
		if len(sp.Hooks) > 0 {
			return nil, fmt.Errorf("provider or hooks, not both")
		}
		p, err := loadProviderFile(resolve(dir, *f.Provider), env.readFile)
		if err != nil {
			return nil, err
		}
		switch {
		case p.ini != nil:
			p.ini.Timeout = sp.HookTimeout
			sp.Provider = p.ini
			if (f.Serial == nil || f.serialDefault) && p.ini.Console != "" {
				sp.Serial = expandName(p.ini.Console, name)
			}
		default:
			sp.Hooks = p.hooks
		}
	}
	if x := f.Faults; x != nil {
		for _, p := range []float64{x.Drop, x.Duplicate, x.Reorder, x.Corrupt} {
			if p < 0 || p > 1 {
				return nil, fmt.Errorf("faults: probabilities are 0 to 1")
			}
		}
		if x.Delay < 0 || x.ChassisDelay < 0 {
			return nil, fmt.Errorf("faults: delays must not be negative")
		}
		sp.Faults = impair.Config{Drop: x.Drop, Duplicate: x.Duplicate, Reorder: x.Reorder, Corrupt: x.Corrupt, Delay: x.Delay, Seed: x.Seed}
		if sp.Faults.Seed == 0 {
			sp.Faults.Seed = 1
		}
		sp.ChassisDelay = x.ChassisDelay
	}
	return sp, nil
}

// resolve makes a relative path relative to dir (the configuration's or
// the provider's folder).
func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
