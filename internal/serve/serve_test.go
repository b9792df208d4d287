package serve

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// Two rw viewers and a spy see the same bytes, after the replay of what
// the host wrote before; the spy cannot type; force moves the write side,
// and leaving gives it back.
func TestRolesReplayForce(t *testing.T) {
	r := newRig(t, 2, "")
	r.connected("node01")
	host := r.bmcs["node01"].Host
	if _, err := host.Write([]byte("boot line one\r\nboot line two\r\n")); err != nil {
		t.Fatal(err)
	}
	// The log has it: the console received it.
	r.waitLogLine("node01", "boot line two")

	a := open(t, r.mustClient("admin", "node01"), true, "")
	b := open(t, r.mustClient("rack1", "node01"), true, "")
	spy := open(t, r.mustClient("admin", "node01:ro"), true, "")
	for _, v := range []*term{a, b, spy} {
		v.out.waitFor(t, "boot line two")
	}
	a.out.waitFor(t, "attached read-write")
	spy.out.waitFor(t, "attached read-only (spy)")

	a.typeKeys("from-a\r")
	host.WaitInput(t, wait, len("from-a\r"))
	for _, v := range []*term{a, b, spy} {
		v.out.waitFor(t, "from-a")
	}
	b.typeKeys("from-b\r")
	host.Await(wait, func(in []byte) bool { return strings.Contains(string(in), "from-b") })

	spy.typeKeys("from-spy\r")
	spy.out.waitFor(t, "read-only: your input is not sent")
	// Force: b takes the write side; a's input no longer goes.
	b.typeKeys("\x05cf")
	b.out.waitFor(t, "the write side is yours alone")
	a.out.waitFor(t, "forced the write side")
	a.typeKeys("a-after-force\r")
	a.out.waitFor(t, "read-only: your input is not sent")
	b.typeKeys("b-after-force\r")
	in := string(host.WaitInput(t, wait, len("from-a\rfrom-b\rb-after-force\r")))
	if strings.Contains(in, "from-spy") || strings.Contains(in, "a-after-force") {
		t.Fatalf("the host got input it should not have: %q", in)
	}
	// Who, then b leaves: the write side is shared again.
	spy.typeKeys("\x05cw")
	spy.out.waitFor(t, "(rw, forced)")
	b.typeKeys("\x05c.")
	if code := b.exit(); code != 0 {
		t.Fatalf("leaving: exit status %d", code)
	}
	a.out.waitFor(t, "the write side is shared again")
	a.typeKeys("a-again\r")
	host.Await(wait, func(in []byte) bool { return strings.Contains(string(in), "a-again") })
	// The three saw the same console bytes (the notes differ).
	for _, v := range []*term{a, spy} {
		v.out.waitFor(t, "a-again")
	}
}

// Refusals: one line on stderr, a non-zero exit status, and nothing about
// consoles the key may not see.
func TestRefusals(t *testing.T) {
	r := newRig(t, 3, "")
	// A key nobody granted: the handshake fails.
	if c, err := r.client("none", "node01"); err == nil {
		c.Close()
		t.Fatal("a key not in any authorized_keys got in")
	}
	n1 := r.mustClient("n1", "node02")
	// node02 exists but is not n1's: the same words as for no console at all.
	out, errOut, code := run(t, n1, "")
	if code != ExitRefused || errOut != "ghmicons: node02: no such console for this key (try: list)\n" || out != "" {
		t.Fatalf("node02 with n1's key: status %d stderr %q stdout %q", code, errOut, out)
	}
	_, errOut2, code := run(t, r.mustClient("n1", "nosuch"), "")
	if code != ExitRefused || strings.Replace(errOut2, "nosuch", "node02", 1) != errOut {
		t.Fatalf("unknown console: status %d stderr %q", code, errOut2)
	}
	// list shows only node01 to n1; the rack key sees its group.
	out, _, code = run(t, n1, "list")
	if code != 0 || !strings.Contains(out, "node01") || strings.Contains(out, "node02") || strings.Contains(out, "node03") {
		t.Fatalf("list for n1: %d %q", code, out)
	}
	out, _, _ = run(t, r.mustClient("rack1", "x"), "list")
	if !strings.Contains(out, "node01") || !strings.Contains(out, "node02") || strings.Contains(out, "node03") {
		t.Fatalf("list for rack1: %q", out)
	}
	// The spy key: attaching read-write or force is refused, plain attach spies.
	spy := r.mustClient("spy", "x")
	for _, target := range []string{"node01:rw", "node01:force"} {
		_, errOut, code := run(t, spy, target)
		if code != ExitRefused || !strings.Contains(errOut, "role too low") {
			t.Fatalf("%s with the spy key: %d %q", target, code, errOut)
		}
	}
	_, errOut, code = run(t, spy, "node01 power off")
	if code != ExitRefused || !strings.Contains(errOut, "role too low") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("power off with the spy key: %d %q", code, errOut)
	}
	if n := len(r.bmcs["node01"].Events.Of(fakebmc.EventChassisControl)); n != 0 {
		t.Fatalf("the BMC got %d chassis controls", n)
	}
	_, errOut, code = run(t, spy, "node01 frobnicate")
	if code != ExitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
}

// Commands from exec: one command, its output, its exit status; a power
// change is in the log with who asked.
func TestExecCommands(t *testing.T) {
	r := newRig(t, 2, "")
	r.connected("node01")
	c := r.mustClient("admin", "anyone")
	out, errOut, code := run(t, c, "node01 power status")
	if code != 0 || !strings.Contains(strings.ToLower(out), "power is on") {
		t.Fatalf("power status: %d %q %q", code, out, errOut)
	}
	out, errOut, code = run(t, r.mustClient("admin", "node01"), "power cycle")
	if code != 0 {
		t.Fatalf("power cycle by user name: %d %q %q", code, out, errOut)
	}
	r.bmcs["node01"].Events.WaitFor(t, wait, fakebmc.EventChassisControl)
	r.waitLogLine("node01", "power cycle by SHA256:")
	out, _, code = run(t, c, "list")
	if code != 0 || !strings.Contains(out, "node01") || !strings.Contains(out, "connected") {
		t.Fatalf("list: %q", out)
	}
}

// CVE-2024-45337: a client offers key A (the victim's, which it cannot
// sign with) first, then authenticates with its own key B. The callback
// saw A, which grants node01; the connection must have B's grant only.
func TestGrantIsTheKeyThatSigned(t *testing.T) {
	r := newRig(t, 2, "")
	victim, attacker := r.keys["n1"], r.keys["rack1"] // n1: node01 only; rack1: node01, node02
	// Make the attacker's key grant node02 only: reload with rack1.keys on node02.
	cfgText := readFile(t, r.config)
	cfgText = strings.Replace(cfgText, "[[group]]\nname = \"rack1\"\nauthorized_keys = [\"rack1.keys\"]\n", "", 1)
	cfgText = strings.Replace(cfgText, `name = "node02"`, "name = \"node02\"\nauthorized_keys = [\"rack1.keys\"]", 1)
	r.reload(cfgText)
	offered := &offerOnly{pub: victim.PublicKey()}
	usedOwn := false
	c, err := ssh.Dial("tcp", r.addr, &ssh.ClientConfig{User: "node01",
		// First the victim's key: the server answers that it would accept
		// it (the callback ran for it), the client cannot sign. Then the
		// attacker's own key, which signs.
		Auth: []ssh.AuthMethod{ssh.PublicKeys(offered)},
		AuthCallback: func(ctx *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
			if slices.Contains(ctx.TriedMethods, "publickey") && !usedOwn {
				usedOwn = true
				return ssh.PublicKeys(attacker), nil
			}
			return nil, nil
		},
		HostKeyCallback: ssh.FixedHostKey(r.srv.HostKey.PublicKey())})
	if err != nil {
		t.Fatalf("the attacker's own key should get in: %v", err)
	}
	defer c.Close()
	if !offered.signAsked || !usedOwn {
		t.Fatal("the server never accepted the victim's offered key, or the attacker's was not used: the test proves nothing")
	}
	_, errOut, code := run(t, c, "")
	if code != ExitRefused || !strings.Contains(errOut, "no such console") {
		t.Fatalf("node01 through the victim's offered key: status %d %q", code, errOut)
	}
	out, _, _ := run(t, c, "list")
	if strings.Contains(out, "node01") || !strings.Contains(out, "node02") {
		t.Fatalf("list: %q", out)
	}
}

// offerOnly offers pub, which it holds no private key for: the client
// asks it to sign only once the server said it would accept pub.
type offerOnly struct {
	pub       ssh.PublicKey
	signAsked bool
}

func (o *offerOnly) PublicKey() ssh.PublicKey { return o.pub }
func (o *offerOnly) Sign(io.Reader, []byte) (*ssh.Signature, error) {
	o.signAsked = true
	return nil, errors.New("no private key")
}

// A reload adds and removes consoles; a viewer of a console left as it was
// keeps its session.
func TestReloadKeepsSessions(t *testing.T) {
	r := newRig(t, 3, "")
	r.connected("node01")
	v := open(t, r.mustClient("admin", "node01"), true, "")
	v.out.waitFor(t, "attached read-write")
	gone := open(t, r.mustClient("admin", "node03"), true, "")
	gone.out.waitFor(t, "attached read-write")
	before := r.bmcs["node01"].Events.Count(fakebmc.EventActivate)

	text := readFile(t, r.config)
	i := strings.Index(text, "[[console]]\nname = \"node03\"")
	r.reload(text[:i] + consoleTOML("node04", r.bmcs["node03"].Addr, ""))
	if code := gone.exit(); code != ExitGone || !strings.Contains(gone.out.String(), "removed from the configuration") {
		t.Fatalf("node03's viewer: status %d, %q", code, tail(gone.out.String()))
	}
	r.connected("node04")
	if r.fleet.Console("node03") != nil {
		t.Fatal("node03 still runs")
	}
	host := r.bmcs["node01"].Host
	if _, err := host.Write([]byte("still here\r\n")); err != nil {
		t.Fatal(err)
	}
	v.out.waitFor(t, "still here")
	if after := r.bmcs["node01"].Events.Count(fakebmc.EventActivate); after != before {
		t.Fatalf("node01 was activated again by the reload (%d -> %d)", before, after)
	}
}

// A BMC that reboots under a session: the console reconnects, the log
// says so, the viewer stays.
func TestBMCRestartReconnects(t *testing.T) {
	r := newRig(t, 1, "")
	r.connected("node01")
	v := open(t, r.mustClient("admin", "node01"), true, "")
	v.out.waitFor(t, "attached read-write")
	r.bmcs["node01"].Restart(t)
	v.out.waitFor(t, "reconnected")
	r.connected("node01")
	if _, err := r.bmcs["node01"].Host.Write([]byte("after reboot\r\n")); err != nil {
		t.Fatal(err)
	}
	v.out.waitFor(t, "after reboot")
	r.waitLogLine("node01", "after reboot")
	log := readFile(t, r.cfg.Console("node01").Log)
	for _, want := range []string{"[ghmicons] connected to", "[ghmicons] ", "[ghmicons] reconnected to"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
}

// logrotate: the log is moved, SIGHUP reopens it; every line is in one of
// the two files, once.
func TestLogRotateLosesNothing(t *testing.T) {
	r := newRig(t, 1, "")
	r.connected("node01")
	path := r.cfg.Console("node01").Log
	write := func(from, to int) { r.hostLines("node01", from, to) }
	write(0, 50)
	r.waitLogLine("node01", strings.TrimSpace(lineN(49)))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(50, 100) // some may go to the moved file, before the reopen
	if err := r.fleet.ReopenLogs(); err != nil {
		t.Fatal(err)
	}
	write(100, 150)
	r.waitLogLine("node01", strings.TrimSpace(lineN(149)))
	all := readFile(t, path+".1") + readFile(t, path)
	for i := 0; i < 150; i++ {
		if n := strings.Count(all, lineN(i)); n != 1 {
			t.Fatalf("line %d is in the logs %d times", i, n)
		}
	}
}

func lineN(i int) string { return "host line " + strings.Repeat("x", i%7) + strconv.Itoa(i) + "\r\n" }

// hostLines has the host of console name write lineN(from) to lineN(to-1).
func (r *rig) hostLines(name string, from, to int) {
	r.t.Helper()
	for i := from; i < to; i++ {
		if _, err := r.bmcs[name].Host.Write([]byte(lineN(i))); err != nil {
			r.t.Fatal(err)
		}
	}
}

// A size cap rotates the log to .1.
func TestLogSizeCap(t *testing.T) {
	r := newRig(t, 1, "")
	text := strings.Replace(readFile(t, r.config), "keepalive = \"2s\"", "keepalive = \"2s\"\nlog_max_size = \"4KiB\"", 1)
	r.reload(text)
	r.connected("node01")
	r.hostLines("node01", 0, 400)
	path := r.cfg.Console("node01").Log
	r.waitFileLine(path, strings.TrimSpace(lineN(399)), path+".1")
	st, err := os.Stat(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() < 4096 || st.Size() > 8192 {
		t.Fatalf("rotated log is %d bytes", st.Size())
	}
	if cur, _ := os.Stat(path); cur.Size() >= 4096+512 {
		t.Fatalf("current log is %d bytes, past the cap", cur.Size())
	}
}

// The host key is made on first start (0600) and kept.
func TestHostKeyKept(t *testing.T) {
	p := filepath.Join(t.TempDir(), "host_key")
	k1, made, err := LoadHostKey(p)
	if err != nil || !made {
		t.Fatalf("first: %v %v", made, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	k2, made, err := LoadHostKey(p)
	if err != nil || made {
		t.Fatalf("second: %v %v", made, err)
	}
	if string(k1.PublicKey().Marshal()) != string(k2.PublicKey().Marshal()) {
		t.Fatal("a new host key on the second start")
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadHostKey(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("a readable host key: %v", err)
		}
	}
}

var _ = context.Background
