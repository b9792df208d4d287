package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The test rig: a rack of simulated BMCs (in memory), a configuration for
// them, the fleet and the SSH server on loopback TCP, and keys.

const wait = 15 * time.Second

type rig struct {
	t      testing.TB
	dir    string
	bmcs   map[string]*fakebmctest.BMC
	fleet  *Fleet
	srv    *Server
	addr   string
	keys   map[string]ssh.Signer // by name: admin (every console), rack1 (group), n1 (node01 only), spy (ro everywhere), none
	cfg    *Config
	config string
}

func newKey(t testing.TB) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authLine(s ssh.Signer, opts string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
	if opts != "" {
		line = opts + " " + line
	}
	return line + "\n"
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// consoleTOML is one [[console]] table for node name on rack BMC bmc.
func consoleTOML(name, bmc, extra string) string {
	return fmt.Sprintf("[[console]]\nname = %q\nbmc = %q\n%s\n", name, bmc, extra)
}

// newRig serves n consoles node01..nodeNN, node01 and node02 in group
// rack1. extra is appended to the configuration.
func newRig(t testing.TB, n int, extra string) *rig {
	r := newRigConfig(t, n, extra)
	r.fleet.Rand = func() float64 { return 0 }
	r.start()
	return r
}

// newRigStopped is a rig whose fleet is not started (start), with the
// fleet's own stagger.
func newRigStopped(t testing.TB, n int) *rig {
	r := newRigConfig(t, n, "")
	r.fleet.Rand = nil
	return r
}

func newRigConfig(t testing.TB, n int, extra string) *rig {
	r := &rig{t: t, dir: t.TempDir(), bmcs: map[string]*fakebmctest.BMC{}, keys: map[string]ssh.Signer{}}
	rack := fakebmctest.NewRack(t, n, fakebmc.Config{})
	for _, k := range []string{"admin", "rack1", "n1", "spy", "none"} {
		r.keys[k] = newKey(t)
	}
	writeFile(t, filepath.Join(r.dir, "password"), "password\n")
	writeFile(t, filepath.Join(r.dir, "admin.keys"), authLine(r.keys["admin"], "")+authLine(r.keys["spy"], `role="ro"`))
	writeFile(t, filepath.Join(r.dir, "rack1.keys"), authLine(r.keys["rack1"], `restrict`))
	writeFile(t, filepath.Join(r.dir, "n1.keys"), authLine(r.keys["n1"], `from="127.0.0.1,::1"`))
	var b strings.Builder
	b.WriteString(`[ssh]
authorized_keys = ["admin.keys"]

[defaults]
user = "admin"
password_file = "password"
log = "logs/%s.log"
keepalive = "2s"
timeout = "250ms"

[[group]]
name = "rack1"
authorized_keys = ["rack1.keys"]

`)
	if err := os.Mkdir(filepath.Join(r.dir, "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
	for i, bmc := range rack {
		name := fmt.Sprintf("node%02d", i+1)
		r.bmcs[name] = bmc
		ex := ""
		if i < 2 {
			ex = `groups = ["rack1"]`
		}
		if i == 0 {
			ex += "\nauthorized_keys = [\"n1.keys\"]"
		}
		b.WriteString(consoleTOML(name, bmc.Addr, ex))
	}
	b.WriteString(extra)
	r.config = filepath.Join(r.dir, "consoles.toml")
	writeFile(t, r.config, b.String())
	cfg, err := Load(r.config, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	r.cfg = cfg
	r.fleet = &Fleet{Dial: r.dial, Errorf: func(f string, a ...any) { t.Logf("fleet: "+f, a...) }}
	return r
}

// start starts the fleet and the SSH server.
func (r *rig) start() {
	t, cfg := r.t, r.cfg
	if err := r.fleet.Start(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := r.fleet.Close(ctx); err != nil {
			t.Errorf("fleet close: %v", err)
		}
	})
	hk := newKey(t)
	r.srv = &Server{Fleet: r.fleet, HostKey: hk}
	az, err := LoadAuthz(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.srv.SetConfig(az, cfg.Escape)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go func() { _ = r.srv.Serve(ln) }()
	t.Cleanup(func() { _ = r.srv.Close() })
}

// dial is the fleet's Dial: each console's BMC in the rack, by name.
func (r *rig) dial(s Spec) func(ctx context.Context) (ipmi.Transport, error) {
	for name, b := range r.bmcs {
		if strings.HasPrefix(s.Addr, b.Addr+":") || s.Addr == b.Addr {
			_ = name
			return b.DialTransport
		}
	}
	return func(context.Context) (ipmi.Transport, error) { return nil, fmt.Errorf("no BMC %s in the rack", s.Addr) }
}

// reload writes a new configuration and applies it as SIGHUP does.
func (r *rig) reload(config string) {
	r.t.Helper()
	writeFile(r.t, r.config, config)
	cfg, err := Load(r.config, func(string) (string, bool) { return "", false })
	if err != nil {
		r.t.Fatal(err)
	}
	az, err := LoadAuthz(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.fleet.Apply(ctx, cfg); err != nil {
		r.t.Fatal(err)
	}
	r.srv.SetConfig(az, cfg.Escape)
	r.cfg = cfg
}

// connected waits until the console named name has SOL up.
func (r *rig) connected(name string) *console.Console {
	r.t.Helper()
	c := r.fleet.Console(name)
	if c == nil {
		r.t.Fatalf("no console %s", name)
	}
	awaitState(r.t, c, console.StateAttached)
	return c
}

func awaitState(t testing.TB, c *console.Console, want console.State) {
	t.Helper()
	sub := c.Events(0)
	defer sub.Close()
	if c.Stats().State == want {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-sub.C:
			if c.Stats().State == want {
				return
			}
			if !ok {
				t.Fatalf("console ended in %s, waiting for %s", c.Stats().State, want)
			}
		case <-timer.C:
			t.Fatalf("console %s after %v, waiting for %s", c.Stats().State, wait, want)
		}
	}
}

func (r *rig) client(key, user string) (*ssh.Client, error) {
	return ssh.Dial("tcp", r.addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(r.keys[key])},
		HostKeyCallback: ssh.FixedHostKey(r.srv.HostKey.PublicKey()), Timeout: wait})
}

func (r *rig) mustClient(key, user string) *ssh.Client {
	r.t.Helper()
	c, err := r.client(key, user)
	if err != nil {
		r.t.Fatalf("ssh as %s with key %s: %v", user, key, err)
	}
	r.t.Cleanup(func() { c.Close() })
	return c
}

// term is a session with a screen that records what it shows.
type term struct {
	t      testing.TB
	s      *ssh.Session
	in     io.WriteCloser
	out    *screen
	errOut *screen
	done   chan error
}

type screen struct {
	mu   sync.Mutex
	b    bytes.Buffer
	wake chan struct{}
}

func newScreen() *screen { return &screen{wake: make(chan struct{}, 1)} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.b.Write(p)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the screen shows want n times.
func (s *screen) waitN(t testing.TB, want string, n int) {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for strings.Count(s.String(), want) < n {
		select {
		case <-s.wake:
		case <-timer.C:
			t.Fatalf("waited %v for %q ×%d; screen:\n%q", wait, want, n, tail(s.String()))
		}
	}
}

func (s *screen) waitFor(t testing.TB, want string) { t.Helper(); s.waitN(t, want, 1) }

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// open starts a session: pty asks for one; cmd "" is a shell.
func open(t testing.TB, c *ssh.Client, pty bool, cmd string) *term {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, s: s, out: newScreen(), errOut: newScreen(), done: make(chan error, 1)}
	s.Stdout, s.Stderr = tm.out, tm.errOut
	if tm.in, err = s.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if pty {
		if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
	}
	if cmd == "" {
		err = s.Shell()
	} else {
		err = s.Start(cmd)
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() { tm.done <- s.Wait() }()
	t.Cleanup(func() { s.Close() })
	return tm
}

func (tm *term) typeKeys(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.in, s); err != nil {
		tm.t.Fatal(err)
	}
}

// exit waits for the session's end and returns its exit status.
func (tm *term) exit() int {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*ssh.ExitError); ok {
			return ee.ExitStatus()
		}
		tm.t.Fatalf("session: %v", err)
	case <-time.After(wait):
		tm.t.Fatalf("session still running after %v; stdout %q stderr %q", wait, tail(tm.out.String()), tm.errOut.String())
	}
	return -1
}

// run runs an exec request to its end: stdout, stderr, exit status.
func run(t testing.TB, c *ssh.Client, cmd string) (string, string, int) {
	t.Helper()
	tm := open(t, c, false, cmd)
	tm.in.Close()
	code := tm.exit()
	return tm.out.String(), tm.errOut.String(), code
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitLogLine waits until the console's log file has want. The log is
// written by a goroutine of its own with nothing to wait on outside the
// package console, so this looks at the file every 10 ms, within a bound.
func (r *rig) waitLogLine(name, want string) {
	r.t.Helper()
	r.waitFileLine(r.cfg.Console(name).Log, want, "")
}

// waitFileLine waits until path, or other if given, has want.
func (r *rig) waitFileLine(path, want, other string) {
	r.t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for {
		b, _ := os.ReadFile(path)
		if other != "" {
			o, _ := os.ReadFile(other)
			b = append(o, b...)
		}
		if strings.Contains(string(b), want) {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			r.t.Fatalf("log %s has no %q after %v:\n%s", path, want, wait, tail(string(b)))
		}
	}
}
