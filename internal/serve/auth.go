package serve

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Who may reach which console. Keys come from authorized_keys files
// (OpenSSH format) given for every console ([ssh] / [defaults]), for a
// group, or for one console; certificates from the CAs of [ssh]
// user_ca_keys, whose principals name consoles or groups. The grant is
// decided in PublicKeyCallback for the key it is given and carried in the
// ssh.Permissions it returns: after the handshake only
// ServerConn.Permissions, the grant of the key that authenticated, is read
// (CVE-2024-45337: the callback also sees keys that are only offered).

// Role is what a viewer may do on a console.
type Role int

const (
	RoleNone Role = iota
	// RoleSpy reads: replay and live output, who, status.
	RoleSpy
	// RoleRW also types (shared with the other read-write viewers),
	// forces the write side, sends BREAK and runs power and boot commands.
	RoleRW
)

func (r Role) String() string {
	switch r {
	case RoleSpy:
		return "spy"
	case RoleRW:
		return "rw"
	}
	return "none"
}

func parseRole(s string) (Role, error) {
	switch s {
	case "ro", "spy":
		return RoleSpy, nil
	case "rw":
		return RoleRW, nil
	}
	return RoleNone, fmt.Errorf("role %q: ro (spy) or rw", s)
}

// scope is what a grant covers: every console, a group, or one console.
type scope struct {
	all   bool
	group string
	name  string // console; for a certificate principal, console or group
}

type keyGrant struct {
	scope   scope
	role    Role
	from    []string // from="..." patterns: the client's address must match
	noPTY   bool
	comment string // the line's comment, to name the key
}

// Authz is the keys and CAs of a configuration, ready for the handshake.
type Authz struct {
	keys map[string][]keyGrant // by the key's wire form
	cas  map[string]keyGrant   // CA key -> cap of what its certificates grant (role, from)
	// Clock checks certificates' validity; nil means time.Now.
	Clock func() time.Time
}

// LoadAuthz reads every authorized_keys file of cfg. A file that cannot
// be read or has a line it does not understand is an error naming
// file:line.
func LoadAuthz(cfg *Config) (*Authz, error) {
	a := &Authz{keys: map[string][]keyGrant{}, cas: map[string]keyGrant{}}
	var errs []error
	add := func(files []string, sc scope) {
		for _, f := range files {
			if err := a.addFile(f, sc, false); err != nil {
				errs = append(errs, err)
			}
		}
	}
	add(cfg.AllKeys, scope{all: true})
	for g, files := range cfg.GroupKeys {
		add(files, scope{group: g})
	}
	for _, c := range cfg.Consoles {
		add(c.Keys, scope{name: c.Name})
	}
	for _, f := range cfg.UserCAKeys {
		if err := a.addFile(f, scope{}, true); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return a, nil
}

func (a *Authz) addFile(file string, sc scope, ca bool) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("authorized keys: %v", err)
	}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, g, isCA, err := parseKeyLine([]byte(line))
		if err != nil {
			return fmt.Errorf("%s:%d: %v", file, n+1, err)
		}
		g.scope = sc
		if isCA || ca {
			if !ca {
				return fmt.Errorf("%s:%d: cert-authority lines belong in [ssh] user_ca_keys", file, n+1)
			}
			a.cas[string(key.Marshal())] = g
			continue
		}
		k := string(key.Marshal())
		a.keys[k] = append(a.keys[k], g)
	}
	return nil
}

// parseKeyLine reads one authorized_keys line: options, then the key.
// The options understood: role="ro|rw" (what the key may do; rw when
// absent), from="pattern,..." (addresses or CIDR, OpenSSH's * and ?
// wildcards and ! negation; no host names), no-pty, cert-authority, and
// those that are moot here because nothing is forwarded (restrict,
// no-port-forwarding, no-agent-forwarding, no-X11-forwarding, no-user-rc).
// Anything else is an error: an option that would restrict a key
// (command=, expiry-time=, ...) must not be silently ignored.
func parseKeyLine(line []byte) (ssh.PublicKey, keyGrant, bool, error) {
	key, comment, opts, rest, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		return nil, keyGrant{}, false, fmt.Errorf("not a key: %v", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, keyGrant{}, false, errors.New("one key a line")
	}
	g := keyGrant{role: RoleRW, comment: comment}
	ca := false
	for _, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		name = strings.ToLower(name)
		if hasVal {
			if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
				return nil, keyGrant{}, false, fmt.Errorf("option %s: the value goes in double quotes", name)
			}
			val = val[1 : len(val)-1]
		}
		switch {
		case name == "role" && hasVal:
			if g.role, err = parseRole(val); err != nil {
				return nil, keyGrant{}, false, err
			}
		case name == "from" && hasVal:
			g.from = strings.Split(val, ",")
			for _, p := range g.from {
				if err := checkPattern(p); err != nil {
					return nil, keyGrant{}, false, fmt.Errorf("from=%q: %v", val, err)
				}
			}
		case name == "no-pty" && !hasVal:
			g.noPTY = true
		case name == "cert-authority" && !hasVal:
			ca = true
		case !hasVal && slices.Contains([]string{"restrict", "no-port-forwarding", "no-agent-forwarding",
			"no-x11-forwarding", "no-user-rc"}, name):
		default:
			return nil, keyGrant{}, false, fmt.Errorf("option %q is not supported here", o)
		}
	}
	return key, g, ca, nil
}

func checkPattern(p string) error {
	p = strings.TrimPrefix(p, "!")
	if p == "" {
		return errors.New("an empty pattern")
	}
	if strings.Contains(p, "/") {
		_, _, err := net.ParseCIDR(p)
		return err
	}
	_, err := path.Match(p, "")
	return err
}

// fromOK applies an OpenSSH from= list to the client's address: a negated
// match refuses, else some pattern must match.
func fromOK(patterns []string, remote net.Addr) bool {
	if len(patterns) == 0 {
		return true
	}
	host := remote.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	ok := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var m bool
		if strings.Contains(p, "/") {
			_, n, err := net.ParseCIDR(p)
			m = err == nil && ip != nil && n.Contains(ip)
		} else {
			m, _ = path.Match(p, host)
		}
		if m && neg {
			return false
		}
		ok = ok || m
	}
	return ok
}

// Grant is what an authenticated key may do: a role per console, per
// group, and on every console.
type Grant struct {
	All      Role
	Consoles map[string]Role
	Groups   map[string]Role
	NoPTY    bool
	// Who names the key in who lists and the log: the certificate's key
	// ID, or the key's fingerprint.
	Who string
}

// For is the role the grant gives on a console of those groups.
func (g *Grant) For(name string, groups []string) Role {
	r := g.All
	r = max(r, g.Consoles[name])
	for _, gr := range groups {
		r = max(r, g.Groups[gr])
	}
	return r
}

func (g *Grant) add(sc scope, r Role) {
	switch {
	case sc.all:
		g.All = max(g.All, r)
	case sc.group != "":
		g.Groups[sc.group] = max(g.Groups[sc.group], r)
	default:
		g.Consoles[sc.name] = max(g.Consoles[sc.name], r)
	}
}

// The extension of ssh.Permissions that carries the grant.
const permGrant = "ghmicons-grant"

// encode and decodeGrant carry a Grant in ssh.Permissions.Extensions.
// Names never contain ',', '=' or '|' (config checks them).
func (g *Grant) encode() string {
	var b strings.Builder
	fmt.Fprintf(&b, "*=%d|pty=%v|who=%s", g.All, !g.NoPTY, strings.ReplaceAll(g.Who, "|", "/"))
	for n, r := range g.Consoles {
		fmt.Fprintf(&b, "|c=%s=%d", n, r)
	}
	for n, r := range g.Groups {
		fmt.Fprintf(&b, "|g=%s=%d", n, r)
	}
	return b.String()
}

func decodeGrant(s string) (*Grant, error) {
	g := &Grant{Consoles: map[string]Role{}, Groups: map[string]Role{}}
	for _, part := range strings.Split(s, "|") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "*":
			g.All = roleOf(v)
		case "pty":
			g.NoPTY = v != "true"
		case "who":
			g.Who = v
		case "c", "g":
			n, r, _ := strings.Cut(v, "=")
			if k == "c" {
				g.Consoles[n] = roleOf(r)
			} else {
				g.Groups[n] = roleOf(r)
			}
		default:
			return nil, fmt.Errorf("serve: bad grant %q", s)
		}
	}
	return g, nil
}

func roleOf(s string) Role {
	switch s {
	case "1":
		return RoleSpy
	case "2":
		return RoleRW
	}
	return RoleNone
}

// ErrNoAccess: the key grants nothing (the handshake refuses it).
var ErrNoAccess = errors.New("no console for this key")

// Check is the PublicKeyCallback: the grant of key, for a client at
// remote, in Permissions; an error when the key grants nothing. It must be
// called for every key offered and decides nothing beyond the key it is
// given.
func (a *Authz) Check(remote net.Addr, key ssh.PublicKey) (*ssh.Permissions, error) {
	g := &Grant{Consoles: map[string]Role{}, Groups: map[string]Role{}, NoPTY: true}
	if cert, ok := key.(*ssh.Certificate); ok {
		if err := a.checkCert(remote, cert, g); err != nil {
			return nil, err
		}
	} else {
		comment := ""
		for _, kg := range a.keys[string(key.Marshal())] {
			if !fromOK(kg.from, remote) {
				continue
			}
			g.add(kg.scope, kg.role)
			g.NoPTY = g.NoPTY && kg.noPTY
			if comment == "" {
				comment = kg.comment
			}
		}
		// The key's comment names it for people (alice@laptop), the
		// fingerprint for sure.
		g.Who = ssh.FingerprintSHA256(key)
		if comment != "" {
			g.Who = comment + " " + g.Who
		}
	}
	if g.All == RoleNone && len(g.Consoles) == 0 && len(g.Groups) == 0 {
		return nil, ErrNoAccess
	}
	return &ssh.Permissions{Extensions: map[string]string{permGrant: g.encode()}}, nil
}

func (a *Authz) checkCert(remote net.Addr, cert *ssh.Certificate, g *Grant) error {
	if cert.CertType != ssh.UserCert {
		return errors.New("not a user certificate")
	}
	ca, ok := a.cas[string(cert.SignatureKey.Marshal())]
	if !ok || len(cert.ValidPrincipals) == 0 {
		return ErrNoAccess
	}
	if !fromOK(ca.from, remote) {
		return ErrNoAccess
	}
	// CheckCert: revocation (none), critical options (none supported: a
	// force-command or source-address certificate is refused rather than
	// half-obeyed), validity period, the CA's signature.
	checker := &ssh.CertChecker{Clock: a.Clock}
	if err := checker.CheckCert(cert.ValidPrincipals[0], cert); err != nil {
		return err
	}
	for _, p := range cert.ValidPrincipals {
		name, rs, hasRole := strings.Cut(p, ":")
		r := RoleRW
		if hasRole {
			var err error
			if r, err = parseRole(rs); err != nil {
				continue
			}
		}
		r = min(r, ca.role)
		if name == "*" {
			g.add(scope{all: true}, r)
			continue
		}
		// A principal names a console or a group (config keeps the two
		// sets of names apart).
		g.add(scope{name: name}, r)
		g.add(scope{group: name}, r)
	}
	g.NoPTY = ca.noPTY
	g.Who = fmt.Sprintf("cert %q serial %d", cert.KeyId, cert.Serial)
	return nil
}
