package serve

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// OpenSSH user certificates: principals name consoles and groups, with an
// optional :ro; an expired certificate, one from another CA, or one with a
// critical option is refused.
func TestCertificates(t *testing.T) {
	ca := newKey(t)
	r := newRig(t, 3, "")
	writeFile(t, filepath.Join(r.dir, "ca.keys"), authLine(ca, ""))
	text := strings.Replace(readFile(t, r.config), "[ssh]\n", "[ssh]\nuser_ca_keys = [\"ca.keys\"]\n", 1)
	r.reload(text)

	user := newKey(t)
	cert := func(principals []string, validFor time.Duration, signer ssh.Signer, crit map[string]string) ssh.Signer {
		c := &ssh.Certificate{Key: user.PublicKey(), CertType: ssh.UserCert, KeyId: "alice", Serial: 7,
			ValidPrincipals: principals, ValidAfter: uint64(time.Now().Add(-time.Minute).Unix()),
			ValidBefore: uint64(time.Now().Add(validFor).Unix()),
			Permissions: ssh.Permissions{CriticalOptions: crit}}
		if err := c.SignCert(rand.Reader, signer); err != nil {
			t.Fatal(err)
		}
		s, err := ssh.NewCertSigner(c, user)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	dial := func(s ssh.Signer) (*ssh.Client, error) {
		return ssh.Dial("tcp", r.addr, &ssh.ClientConfig{User: "x", Auth: []ssh.AuthMethod{ssh.PublicKeys(s)},
			HostKeyCallback: ssh.FixedHostKey(r.srv.HostKey.PublicKey())})
	}
	c, err := dial(cert([]string{"rack1:ro", "node03"}, time.Hour, ca, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, _, _ := run(t, c, "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "node01               spy") ||
		!strings.HasPrefix(lines[2], "node02               spy") || !strings.HasPrefix(lines[3], "node03               rw") {
		t.Fatalf("list with the certificate:\n%s", out)
	}
	_, errOut, code := run(t, c, "node01:rw")
	if code != ExitRefused || !strings.Contains(errOut, "role too low") {
		t.Fatalf("rw on a :ro principal: %d %q", code, errOut)
	}
	for name, s := range map[string]ssh.Signer{
		"expired":         cert([]string{"node03"}, -time.Second, ca, nil),
		"another CA":      cert([]string{"node03"}, time.Hour, newKey(t), nil),
		"critical option": cert([]string{"node03"}, time.Hour, ca, map[string]string{"force-command": "true"}),
		"plain user key":  user,
	} {
		if c, err := dial(s); err == nil {
			c.Close()
			t.Errorf("%s: got in", name)
		}
	}
}

// Attach replays only the configured last bytes; ^Ecr replays the whole
// history; the ^Ec: command line runs the table's commands.
func TestReplayAndCommandLine(t *testing.T) {
	r := newRig(t, 1, "")
	text := strings.Replace(readFile(t, r.config), "timeout = \"250ms\"\n", "timeout = \"250ms\"\nreplay = 64\nhistory = \"8KiB\"\n", 1)
	r.reload(text)
	r.connected("node01")
	host := r.bmcs["node01"].Host
	r.hostLines("node01", 0, 40)
	r.waitLogLine("node01", strings.TrimSpace(lineN(39)))
	v := open(t, r.mustClient("admin", "node01"), true, "")
	v.out.waitFor(t, "attached read-write")
	v.out.waitFor(t, lineN(39))
	if strings.Contains(v.out.String(), lineN(30)) {
		t.Fatalf("attach replayed more than 64 bytes:\n%q", v.out.String())
	}
	v.typeKeys("\x05cr")
	v.out.waitFor(t, "end of replay")
	if got := v.out.String(); !strings.Contains(got, lineN(0)) || !strings.Contains(got, "replay of the last") {
		t.Fatalf("^Ecr did not replay the history:\n%q", tail(got))
	}
	v.typeKeys("\x05c:power status\r")
	v.out.waitFor(t, "ghmicons> power status")
	v.out.waitFor(t, "Power is on")
	v.typeKeys("\x05c:power off\r")
	v.out.waitFor(t, "[y/N]")
	v.typeKeys("n")
	v.out.waitFor(t, "power off cancelled")
	v.typeKeys("\x05c?")
	v.out.waitFor(t, "^Ecf  force")
	// ^E followed by something else is sent as typed.
	v.typeKeys("\x05x\r")
	host.Await(wait, func(in []byte) bool { return strings.Contains(string(in), "\x05x\r") })
}

// A pipe (no pty) is binary-clean: no escapes, our notes on stderr only,
// every byte value through both ways.
func TestPipeBinaryClean(t *testing.T) {
	r := newRig(t, 1, "")
	r.connected("node01")
	p := open(t, r.mustClient("admin", "x"), false, "node01")
	p.errOut.waitFor(t, "attached read-write")
	var all []byte
	for i := 0; i < 256; i++ {
		if i != 0x05 { // no escape would fire anyway; kept out of the stdout check only for clarity
			all = append(all, byte(i))
		}
	}
	all = append(all, "\x05c.\x05c?end"...)
	if _, err := p.in.Write(all); err != nil {
		t.Fatal(err)
	}
	host := r.bmcs["node01"].Host
	got := host.WaitInput(t, wait, len(all))
	if string(got) != string(all) {
		t.Fatalf("the host got %q", got)
	}
	p.out.waitFor(t, "\x05c?end")
	if strings.Contains(p.out.String(), "ghmicons") || !strings.HasSuffix(p.out.String(), string(all)) {
		t.Fatalf("stdout is not the console's bytes: %q", tail(p.out.String()))
	}
	p.in.Close()
	if code := p.exit(); code != 0 {
		t.Fatalf("end of input: exit %d", code)
	}
}

// Configuration errors name the file and, for unknown keys, the line.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "pw"), "secret\n")
	env := func(k string) (string, bool) { return map[string]string{"PW": "x"}[k], k == "PW" }
	base := "[defaults]\npassword_file = \"pw\"\nlog = \"/tmp/%s.log\"\n"
	for _, c := range []struct{ text, want string }{
		{base + "[[console]]\nname = \"a\"\nbmc = \"h\"\nbogus = 1\n", "c.toml:7: unknown key \"console.bogus\""},
		{base + "[[console]]\nname = \"a\"\n", "bmc is missing"},
		{base + "[[console]]\nname = \"a b\"\nbmc = \"h\"\n", "name \"a b\""},
		{base + "[[console]]\nname = \"list\"\nbmc = \"h\"\n", "not list or help"},
		{base + "[[console]]\nname = \"a\"\nbmc = \"h\"\n[[console]]\nname = \"a\"\nbmc = \"g\"\n", "console \"a\" twice"},
		{base + "[[console]]\nname = \"a\"\nbmc = \"h\"\nsuite = 0\n", "suite 0"},
		{base + "[[console]]\nname = \"a\"\nbmc = \"h\"\npassword_env = \"PW\"\npassword_file = \"pw\"\n", "password_file and password_env"},
		{"[defaults]\npassword_env = \"NOPE\"\nlog = \"/tmp/%s\"\n[[console]]\nname = \"a\"\nbmc = \"h\"\n", "NOPE is not set"},
		{"[defaults]\npassword_env = \"PW\"\n[[console]]\nname = \"a\"\nbmc = \"h\"\n", "log is missing"},
		{base + "[[console]]\nname = \"a\"\nbmc = \"h\"\nreplay = \"lots\"\n", "not a size"},
		{base + "[[console]]\nname = \"a\"\nbmc = \"h\"\nlog = \"/x/%s/%d\"\n", "no other %"},
		{base + "[ssh]\nescape = \"~\"\n", "escape"},
		{base + "[[group]]\nname = \"a\"\n[[console]]\nname = \"a\"\nbmc = \"h\"\n", "a group has that name"},
		{"[defaults\n", "c.toml:2:"},
	} {
		_, err := Parse(filepath.Join(dir, "c.toml"), []byte(c.text), env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
	cfg, err := Parse(filepath.Join(dir, "c.toml"), []byte(base+"replay = \"1KiB\"\nhistory = 65536\n[[console]]\nname = \"n1\"\nbmc = \"10.0.0.1\"\ngroups = [\"r1\"]\nsuite = 3\nprivilege = \"operator\"\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Console("n1")
	if c.Addr != "10.0.0.1:623" || c.Log != "/tmp/n1.log" || c.Replay != 1024 || c.History != 65536 || c.Password != "secret" ||
		len(c.Suites) != 1 || c.Suites[0] != 3 || c.Privilege.String() != "operator" || c.Groups[0] != "r1" {
		t.Fatalf("resolved: %+v", c)
	}
}

// authorized_keys lines: options understood, others refused with file:line.
func TestAuthorizedKeysOptions(t *testing.T) {
	k := newKey(t)
	for _, c := range []struct {
		opts string
		ok   bool
	}{
		{"", true},
		{`role="ro"`, true},
		{`from="127.0.0.1,10.0.0.0/8,!10.1.2.3",no-pty,restrict`, true},
		{`command="/bin/sh"`, false},
		{`expiry-time="20300101"`, false},
		{`role="admin"`, false},
		{`role=ro`, false},
		{`from="10.0.0.0/33"`, false},
	} {
		_, _, _, err := parseKeyLine([]byte(authLine(k, c.opts)))
		if (err == nil) != c.ok {
			t.Errorf("%q: %v", c.opts, err)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	writeFile(t, p, "# comment\n\n"+authLine(k, `command="x"`))
	a := &Authz{keys: map[string][]keyGrant{}}
	if err := a.addFile(p, scope{all: true}, false); err == nil || !strings.Contains(err.Error(), p+":3:") {
		t.Fatalf("error %v, want %s:3", err, p)
	}
	_ = os.Remove(p)
}

func TestFromPatterns(t *testing.T) {
	addr := func(s string) *fakeAddr { return &fakeAddr{s} }
	for _, c := range []struct {
		pats []string
		addr string
		ok   bool
	}{
		{nil, "1.2.3.4:5", true},
		{[]string{"127.0.0.1"}, "127.0.0.1:4000", true},
		{[]string{"127.0.0.*"}, "127.0.0.9:4000", true},
		{[]string{"10.0.0.0/8", "!10.1.2.3"}, "10.1.2.3:1", false},
		{[]string{"10.0.0.0/8", "!10.1.2.3"}, "10.1.2.4:1", true},
		{[]string{"192.168.0.0/16"}, "[::1]:22", false},
	} {
		if got := fromOK(c.pats, addr(c.addr)); got != c.ok {
			t.Errorf("%v %s: %v", c.pats, c.addr, got)
		}
	}
}

type fakeAddr struct{ s string }

func (a *fakeAddr) Network() string { return "tcp" }
func (a *fakeAddr) String() string  { return a.s }

func TestGrantRoundTrip(t *testing.T) {
	g := &Grant{All: RoleSpy, Consoles: map[string]Role{"n1": RoleRW}, Groups: map[string]Role{"r1": RoleSpy}, NoPTY: true, Who: "cert \"a|b\" serial 1"}
	h, err := decodeGrant(g.encode())
	if err != nil {
		t.Fatal(err)
	}
	if h.For("n1", nil) != RoleRW || h.For("n2", []string{"r1"}) != RoleSpy || !h.NoPTY || h.Who != "cert \"a/b\" serial 1" {
		t.Fatalf("%+v", h)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"0": 0, "512": 512, "4KiB": 4096, "4K": 4096, "10MiB": 10 << 20, "1GB": 1 << 30, "7 B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "1TiB", "x", "99999999999999999999"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// The example configuration in examples/ loads (with its files made here).
func TestExampleConfig(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../examples/consoles.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("/etc/ghmicons/", dir+"/", "/var/lib/ghmicons/", dir+"/", "/var/log/ghmicons/", dir+"/").Replace(string(b))
	for _, f := range []string{"bmc-password", "admins.keys", "user_ca.pub", "rack1-team.keys", "node01-owner.keys"} {
		writeFile(t, filepath.Join(dir, f), "")
	}
	writeFile(t, filepath.Join(dir, "admins.keys"), authLine(newKey(t), `role="ro",from="10.0.0.0/8"`))
	cfg, err := Parse(filepath.Join(dir, "consoles.toml"), []byte(text), func(k string) (string, bool) { return "pw", k == "DB_BMC_PASSWORD" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAuthz(cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Consoles) != 3 || cfg.Console("db01").Password != "pw" || !cfg.Console("db01").NoSteal || cfg.Console("node01").History != 64<<10 {
		t.Fatalf("%+v", cfg.Consoles)
	}
}

// list says a console whose BMC went away is reconnecting, since when, and
// the BMC's error.
func TestListReconnecting(t *testing.T) {
	r := newRig(t, 1, "")
	con := r.connected("node01")
	r.bmcs["node01"].Link.SetSilent(true)
	awaitState(t, con, console.StateWaiting)
	out, _, code := run(t, r.mustClient("admin", "x"), "list")
	line := strings.Split(strings.TrimSpace(out), "\n")[1]
	if code != 0 || !strings.Contains(line, "reconnecting") || len(strings.Fields(line)) < 7 {
		t.Fatalf("list: %q", out)
	}
	r.bmcs["node01"].Link.SetSilent(false)
	awaitState(t, con, console.StateAttached)
	r.waitLogLine("node01", "[ghmicons] reconnected")
}

func TestEscFilter(t *testing.T) {
	e := escFilter{lead: 0x05, second: 'c'}
	var out []byte
	var cmds []byte
	for _, b := range []byte("a\x05c.b\x05xc\x05\x05cw\x05") {
		send, cmd, isCmd := e.Feed(b)
		out = append(out, send...)
		if isCmd {
			cmds = append(cmds, cmd)
		}
	}
	if string(out) != "ab\x05xc\x05" || string(cmds) != ".w" || e.st != 1 {
		t.Fatalf("out %q cmds %q state %d", out, cmds, e.st)
	}
	off := escFilter{}
	if send, _, isCmd := off.Feed(0x05); isCmd || string(send) != "\x05" {
		t.Fatal("a filter without a lead held the byte")
	}
}

// A no-pty key gets no terminal: its session is the pipe (no escapes, notes
// on stderr).
func TestNoPTYKey(t *testing.T) {
	r := newRig(t, 1, "")
	writeFile(t, filepath.Join(r.dir, "n1.keys"), authLine(r.keys["n1"], "no-pty"))
	r.reload(readFile(t, r.config))
	r.connected("node01")
	c := r.mustClient("n1", "node01")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err == nil {
		t.Fatal("a no-pty key got a pty")
	}
	errOut := newScreen()
	s.Stderr = errOut
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	errOut.waitFor(t, "ghmicons: node01: attached read-write")
}

// A console whose BMC refuses the password ends (no retry loop); list says
// so and why, the other consoles run on.
func TestListPermanentError(t *testing.T) {
	r := newRig(t, 2, "")
	text := strings.Replace(readFile(t, r.config), "name = \"node02\"\n", "name = \"node02\"\npassword_env = \"WRONG\"\n", 1)
	writeFile(t, r.config, text)
	cfg, err := Load(r.config, func(k string) (string, bool) { return "not-the-password", k == "WRONG" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.fleet.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	r.cfg = cfg
	awaitState(t, r.fleet.Console("node02"), console.StateClosed)
	out, _, _ := run(t, r.mustClient("admin", "x"), "list")
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "node02") {
			line = l
		}
	}
	if !strings.Contains(line, "closed") || !strings.Contains(strings.ToLower(line), "password") {
		t.Fatalf("list: %q", out)
	}
	r.connected("node01")
	// A reload tries an ended console again, here with the right password.
	r.reload(strings.Replace(text, "password_env = \"WRONG\"\n", "", 1))
	r.connected("node02")
}

// BREAK: ^Ecb, and the SSH break request (RFC 4335, OpenSSH's ~B), from a
// rw viewer; a spy's is refused.
func TestBreak(t *testing.T) {
	r := newRig(t, 1, "")
	r.connected("node01")
	host := r.bmcs["node01"].Host
	v := open(t, r.mustClient("admin", "node01"), true, "")
	v.out.waitFor(t, "attached read-write")
	v.typeKeys("\x05cb")
	host.WaitBreaks(t, wait, 1)
	if ok, err := v.s.SendRequest("break", true, ssh.Marshal(struct{ Ms uint32 }{500})); err != nil || !ok {
		t.Fatalf("break request: %v %v", ok, err)
	}
	host.WaitBreaks(t, wait, 2)
	spy := open(t, r.mustClient("spy", "node01"), true, "")
	spy.out.waitFor(t, "attached read-only")
	spy.typeKeys("\x05cb")
	spy.out.waitFor(t, "read-only: no BREAK")
	if n := host.Breaks(); n != 2 {
		t.Fatalf("%d BREAKs", n)
	}
}

// timestamps = true: every log line, host output and markers alike, starts
// with an RFC 3339 timestamp.
func TestLogTimestamps(t *testing.T) {
	r := newRig(t, 1, "")
	r.reload(strings.Replace(readFile(t, r.config), "keepalive = \"2s\"", "keepalive = \"2s\"\ntimestamps = true", 1))
	r.connected("node01")
	r.hostLines("node01", 0, 3)
	r.waitLogLine("node01", strings.TrimSpace(lineN(2)))
	log := readFile(t, r.cfg.Console("node01").Log)
	// The lines after the restart the reload made (the same file).
	log = log[strings.LastIndex(log, "[ghmicons] ended\n")+len("[ghmicons] ended\n"):]
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		stamp, rest, _ := strings.Cut(line, " ")
		if _, err := time.Parse(console.LogTimeFormat, stamp); err != nil || rest == "" {
			t.Fatalf("line %q: %v", line, err)
		}
	}
}

// Serve after Close refuses, and closes the listener it was given, as
// Close would have.
func TestServeAfterClose(t *testing.T) {
	r := newRig(t, 1, "")
	r.srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.srv.Serve(ln); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve after Close: %v, want net.ErrClosed", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the listener still accepts after Serve refused it: %v", err)
	}
}
