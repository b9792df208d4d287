package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// usageCase is a command line that must be refused with exit status 2 and
// exactly one line on stderr that names what is wrong.
type usageCase struct {
	name string
	env  map[string]string
	args []string
	want string // in the one line
}

func checkUsage(t *testing.T, tt usageCase) {
	t.Helper()
	code, stdout, stderr := runInProcess(t, tt.env, tt.args...)
	if code != ExitUsage {
		t.Errorf("%q: exit status %d, want %d (stderr %q)", tt.args, code, ExitUsage, stderr)
	}
	if stdout != "" {
		t.Errorf("%q: stdout %q, want nothing", tt.args, stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "ghmicons: ") ||
		!strings.Contains(stderr, tt.want) {
		t.Errorf("%q: stderr %q, want one ghmicons: line naming %q", tt.args, stderr, tt.want)
	}
}

// TestFlagValidation: every flag's bounds and every forbidden combination
// is a usage error, before any password is read or datagram sent. The
// BMC address is a port that never answers, so a case wrongly accepted
// shows as a timeout, not as a success.
func TestFlagValidation(t *testing.T) {
	addr, heard := deafBMC(t)
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	if err := os.WriteFile(passFile, []byte("password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(dir, "long")
	if err := os.WriteFile(long, []byte(strings.Repeat("p", 21)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bmc := func(extra ...string) []string {
		return append([]string{"-H", addr, "-U", "admin", "-E", "--timeout", "100ms", "--retries", "0"}, extra...)
	}
	// As bmc, without the password source (for the password-source cases).
	bare := func(extra ...string) []string {
		return append([]string{"-H", addr, "-U", "admin", "--timeout", "100ms", "--retries", "0"}, extra...)
	}
	pw := withPassword
	tests := []usageCase{
		// cipher suite
		{"-C negative", pw, bmc("-C", "-7"), "-C -7"},
		{"-C 256", pw, bmc("-C", "256"), "0-255"},
		{"-C unsupported", pw, bmc("-C", "5"), "not supported"},
		{"-C 0 alone", pw, bmc("-C", "0"), "--insecure-cipher-suite-0"},
		// timeout: 100ms to 60s
		{"--timeout 0", pw, bmc("--timeout", "0"), "--timeout 0s"},
		{"--timeout negative", pw, bmc("--timeout", "-1s"), "100ms to 1m0s"},
		{"--timeout 1ns", pw, bmc("--timeout", "1ns"), "100ms"},
		{"--timeout 99ms", pw, bmc("--timeout", "99ms"), "100ms"},
		{"--timeout 61s", pw, bmc("--timeout", "61s"), "1m0s"},
		{"--timeout not a duration", pw, bmc("--timeout", "soon"), "timeout"},
		// retries: 0 to 20
		{"--retries negative", pw, bmc("--retries", "-1"), "0 to 20"},
		{"--retries 21", pw, bmc("--retries", "21"), "0 to 20"},
		{"--retries max int64", pw, bmc("--retries", "9223372036854775807"), "0 to 20"},
		{"--retries beyond int64", pw, bmc("--retries", "9223372036854775808"), "retries"},
		// keepalive: 0 or 1s to 5m
		{"--keepalive 1ns", pw, bmc("--keepalive", "1ns"), "1s to 5m0s, or 0"},
		{"--keepalive 999ms", pw, bmc("--keepalive", "999ms"), "1s to 5m0s"},
		{"--keepalive negative", pw, bmc("--keepalive", "-15s"), "1s to 5m0s"},
		{"--keepalive 6m", pw, bmc("--keepalive", "6m"), "1s to 5m0s"},
		// instance: 1 to 15
		{"--instance 0", pw, bmc("--instance", "0"), "1-15"},
		{"--instance 16", pw, bmc("--instance", "16"), "1-15"},
		{"--instance negative", pw, bmc("--instance", "-1"), "1-15"},
		{"--instance with a command", pw, bmc("--instance", "16", "power", "status"), "1-15"},
		// port
		{"-p 0", pw, bmc("-p", "0"), "1-65535"},
		{"-p negative", pw, bmc("-p", "-1"), "1-65535"},
		{"-p 65536", pw, bmc("-p", "65536"), "1-65535"},
		{"-H host:port with another -p", pw, bmc("-p", "1"), "give the port once"},
		// address families
		{"-4 -6", pw, bmc("-4", "-6"), "-4 and -6"},
		// user name and password
		{"user name of 17 bytes", pw, []string{"-H", addr, "-U", strings.Repeat("u", 17), "-E", "power", "status"}, "at most 16"},
		{"password of 21 bytes (-E)", map[string]string{"IPMI_PASSWORD": strings.Repeat("p", 21)}, bmc("power", "status"), "20"},
		{"password of 21 bytes (-f)", nil, bare("-f", long, "power", "status"), "20"},
		{"password of 21 bytes (-P)", nil, bare("-P", strings.Repeat("p", 21), "power", "status"), "20"},
		{"-P with -E", pw, bare("-P", "x", "-E"), "-P and -E both give the password"},
		{"-P with -f", nil, bare("-P", "x", "-f", passFile), "-P and -f"},
		{"-E with -f", pw, bare("-E", "-f", passFile), "-E and -f"},
		{"all three", pw, bare("-E", "-f", passFile, "-P", "x"), "-P, -E and -f all give the password"},
		{"-f missing", nil, bare("-f", filepath.Join(dir, "absent")), "-f"},
		{"-E unset", nil, bare("-E"), "IPMI_PASSWORD"},
		// K_g
		{"-k with -y", pw, bmc("-k", "key", "-y", "00"), "-k and -y"},
		{"-K with -Y", pw, bmc("-K", "-Y"), "-K and -Y"},
		{"-K with --kg-file", pw, bmc("-K", "--kg-file", passFile), "-K and --kg-file"},
		{"-k with -K", pw, bmc("-k", "key", "-K"), "-k and -K"},
		{"-k too long", pw, bmc("-k", strings.Repeat("k", 21)), "20 bytes"},
		{"-y not hex", pw, bmc("-y", "zz"), "-y"},
		{"-y too long", pw, bmc("-y", strings.Repeat("ab", 21)), "1 to 20 bytes"},
		{"-K unset", pw, bmc("-K"), "IPMI_KGKEY"},
		{"-K too long", map[string]string{"IPMI_PASSWORD": "password", "IPMI_KGKEY": strings.Repeat("k", 21)}, bmc("-K"), "20"},
		{"-K bad hex", map[string]string{"IPMI_PASSWORD": "password", "IPMI_KGKEY": "0xzz"}, bmc("-K"), "hex"},
		{"-K empty", map[string]string{"IPMI_PASSWORD": "password", "IPMI_KGKEY": ""}, bmc("-K"), "empty"},
		{"--kg-file missing", pw, bmc("--kg-file", filepath.Join(dir, "absent")), "--kg-file"},
		{"--kg-file empty", pw, bmc("--kg-file", empty), "empty"},
		{"--kg-file too long", pw, bmc("--kg-file", long), "20"},
		{"-Y without a terminal", pw, bmc("-Y", "power", "status"), "terminal"},
		// --demo
		{"--demo with -H", nil, []string{"--demo", "-H", "10.0.0.5"}, "drop -H"},
		{"--demo with -p", nil, []string{"--demo", "-p", "623"}, "drop -p"},
		{"--demo with -U and -E", pw, []string{"--demo", "-U", "x", "-E"}, "drop -U, -E"},
		{"--demo with a command", nil, []string{"--demo", "power", "status"}, "needs a real BMC"},
		// other flags
		{"bad privilege", pw, bmc("-L", "root"), "root"},
		{"not lanplus", pw, bmc("-I", "lan"), "lanplus"},
		{"bad escape character", pw, bmc("-e", "xy"), "escape character"},
		{"--log-timestamps without --log", pw, bmc("--log-timestamps"), "--log"},
		{"--bootdev bogus", pw, bmc("--bootdev", "zip-drive"), "zip-drive"},
		{"--power bogus", pw, bmc("--power", "sideways"), "sideways"},
		{"--power with a command", pw, bmc("--power", "cycle", "power", "status"), "--power"},
		{"--bootdev with a command", pw, bmc("--bootdev", "pxe", "info"), "--bootdev"},
		// command words
		{"bootdev status extra", pw, bmc("bootdev", "status", "extra"), "extra"},
		{"BOOTDEV STATUS EXTRA", pw, bmc("BOOTDEV", "STATUS", "EXTRA"), "EXTRA"},
		{"info extra", pw, bmc("info", "extra"), "extra"},
		{"power on off", pw, bmc("power", "on", "off"), "one word"},
		{"power", pw, bmc("power"), "one word"},
		{"POWER FLY", pw, bmc("POWER", "FLY"), `"FLY"`},
		{"bootdev alone", pw, bmc("bootdev"), "which device"},
		{"bootdev pxe sideways", pw, bmc("bootdev", "pxe", "sideways"), "sideways"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkUsage(t, tt) })
	}
	select {
	case <-heard:
		t.Errorf("a refused command line sent a datagram to the BMC")
	default:
	}
}

// TestFlagBoundsAccepted: the ends of every range are accepted.
func TestFlagBoundsAccepted(t *testing.T) {
	for _, args := range [][]string{
		{"--timeout", "100ms"}, {"--timeout", "60s"}, {"--retries", "0"}, {"--retries", "20"},
		{"--keepalive", "0"}, {"--keepalive", "1s"}, {"--keepalive", "5m"}, {"--instance", "1"}, {"--instance", "15"},
		{"-p", "1"}, {"-p", "65535"}, {"-C", "17"}, {"-C", "0", "--insecure-cipher-suite-0"}, {"-4"}, {"-6"},
		{"-U", strings.Repeat("u", 16)}, {"--log", "x", "--log-timestamps"}, {"--bootdev", "pxe,persistent", "--power", "cycle"},
		{"--demo"}, {"--demo", "-C", "3", "--log", "x", "-e", "^]"},
	} {
		if _, err := parseOptions(args, &strings.Builder{}); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// TestHelpShowsBounds: --help documents the bounds and the K_g sources.
func TestHelpShowsBounds(t *testing.T) {
	_, _, stderr := runInProcess(t, nil, "--help")
	for _, want := range []string{"100ms-60s", "0-20", "1s-5m, or 0", "1-15", "1-65535", "--kg-env", "IPMI_KGKEY",
		"--kg-prompt", "--kg-file", "case-insensitive", "0x83"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	type want struct {
		name   string
		status bool
		action ipmi.ChassisAction
		boot   ipmi.BootFlags
	}
	tests := []struct {
		words []string
		want  want
		bad   bool
	}{
		{[]string{"power", "status"}, want{name: "power", status: true}, false},
		{[]string{"POWER", "STATUS"}, want{name: "power", status: true}, false},
		{[]string{"Power", "On"}, want{name: "power", action: ipmi.PowerOn}, false},
		{[]string{"power", "CYCLE"}, want{name: "power", action: ipmi.PowerCycle}, false},
		{[]string{"BOOTDEV", "STATUS"}, want{name: "bootdev", status: true}, false},
		{[]string{"bootdev", "PXE", "Persistent", "EFI"}, want{name: "bootdev", boot: ipmi.BootFlags{Device: ipmi.BootPXE, Persistent: true, EFI: true}}, false},
		{[]string{"INFO"}, want{name: "info"}, false},
		{[]string{"Info"}, want{name: "info"}, false},
		{[]string{"info", "extra"}, want{}, true},
		{[]string{"bootdev", "status", "extra"}, want{}, true},
		{[]string{"power", "status", "extra"}, want{}, true},
		{[]string{"power", "sideways"}, want{}, true},
		{[]string{"reboot"}, want{}, true},
		// Console commands are not one-shot commands.
		{[]string{"break"}, want{}, true},
	}
	for _, tt := range tests {
		c, err := parseCommand(tt.words)
		if tt.bad {
			if ExitCode(err) != ExitUsage {
				t.Errorf("%q: %+v, %v; want a usage error", tt.words, c, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.words, err)
			continue
		}
		if got := (want{c.Command.Name, c.Status, c.Action, c.Boot}); got != tt.want {
			t.Errorf("%q: %+v; want %+v", tt.words, got, tt.want)
		}
	}
}

// TestKgSources: each K_g source gives the same bytes; -k and -y warn.
func TestKgSources(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(kg string) map[string]string { return map[string]string{"IPMI_PASSWORD": "pw", "IPMI_KGKEY": kg} }
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
		warn bool
	}{
		{"none", env("ignored"), nil, "", false},
		{"-k text", nil, []string{"-k", "0x41"}, "0x41", true}, // -k is always text, as in ipmitool
		{"-y hex", nil, []string{"-y", "414243"}, "ABC", true},
		{"-y 0x hex", nil, []string{"-y", "0x414243"}, "ABC", true},
		{"-K text", env("secret-key"), []string{"-K"}, "secret-key", false},
		{"-K hex", env("0x0102ff"), []string{"-K"}, "\x01\x02\xff", false},
		{"-K 20 bytes", env(strings.Repeat("k", 20)), []string{"-K"}, strings.Repeat("k", 20), false},
		{"--kg-file text", nil, []string{"--kg-file", file("text", "file key\nsecond line\n")}, "file key", false},
		{"--kg-file CRLF", nil, []string{"--kg-file", file("crlf", "file key\r\n")}, "file key", false},
		{"--kg-file hex", nil, []string{"--kg-file", file("hex", "0X"+strings.Repeat("ab", 20)+"\n")}, strings.Repeat("\xab", 20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warn, err := configFor(t, tt.env, append([]string{"-E"}, tt.args...)...)
			if tt.env == nil {
				cfg, warn, err = configFor(t, map[string]string{"IPMI_PASSWORD": "pw"}, append([]string{"-E"}, tt.args...)...)
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(cfg.Kg) != tt.want {
				t.Errorf("K_g %q, want %q", cfg.Kg, tt.want)
			}
			if got := strings.Contains(warn, "warning: a K_g"); got != tt.warn {
				t.Errorf("warning %v, want %v (stderr %q)", got, tt.warn, warn)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	activate := func(cc ipmi.CompletionCode) error {
		return fmt.Errorf("sol: activating: %w", &ipmi.CompletionError{NetFn: ipmi.NetFnApp, Cmd: ipmi.CmdActivatePayload, Code: cc})
	}
	opErr := func(op string, err error) error {
		return fmt.Errorf("ipmi: %w", &net.OpError{Op: op, Net: "udp", Err: err})
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"usage", usagef("bad"), ExitUsage},
		{"signal", &signalError{sig: "SIGTERM"}, ExitSignal},
		{"wrapped signal", fmt.Errorf("x: %w", &signalError{sig: "SIGHUP"}), ExitSignal},
		{"auth", fmt.Errorf("ipmi: RAKP 2: %w", ipmi.ErrAuth), ExitAuth},
		{"K_g", ipmi.ErrKg, ExitAuth},
		{"privilege", ipmi.ErrPrivilege, ExitAuth},
		{"insufficient privilege for a command", &ipmi.CompletionError{NetFn: ipmi.NetFnChassis, Cmd: ipmi.CmdChassisControl, Code: ipmi.CCInsufficientPriv}, ExitAuth},
		{"in use", sol.ErrInUse, ExitInUse},
		{"taken over", sol.ErrTakenOver, ExitInUse},
		{"no cipher suite", ipmi.ErrNoCipherSuite, ExitIncompat},
		{"not IPMI 2.0", ipmi.ErrNotIPMI2, ExitIncompat},
		{"SOL disabled", sol.ErrDisabled, ExitIncompat},
		{"Activate 0x83", activate(ipmi.CCCannotActivateEncrypt), ExitIncompat},
		{"Activate 0x84", activate(ipmi.CCCannotActivateNoEncrypt), ExitIncompat},
		{"0x83 of another command", &ipmi.CompletionError{NetFn: ipmi.NetFnChassis, Cmd: ipmi.CmdSetBootOptions, Code: 0x83}, ExitError},
		{"Activate 0x82 (limit)", fmt.Errorf("sol: %w: %w", sol.ErrInUse, &ipmi.CompletionError{NetFn: ipmi.NetFnApp, Cmd: ipmi.CmdActivatePayload, Code: 0x82}), ExitInUse},
		{"session lost", ipmi.ErrSessionLost, ExitLost},
		{"no answer", &ipmi.TimeoutError{Op: "open session", Addr: "x", Tries: 4}, ExitUnreachable},
		{"no answer in an established session", &ipmi.TimeoutError{Op: "Get Device ID", Addr: "x", Tries: 4, InSession: true}, ExitLost},
		{"name does not resolve", fmt.Errorf("ipmi: %w", &net.DNSError{Err: "no such host", Name: "bmc9", IsNotFound: true}), ExitUnreachable},
		{"network unreachable", opErr("write", syscall.ENETUNREACH), ExitUnreachable},
		{"host unreachable", opErr("write", syscall.EHOSTUNREACH), ExitUnreachable},
		{"connection refused", opErr("read", syscall.ECONNREFUSED), ExitUnreachable},
		{"socket: too many open files", opErr("listen", os.NewSyscallError("socket", syscall.EMFILE)), ExitError},
		{"no IPv6 on this host", opErr("listen", os.NewSyscallError("socket", syscall.EAFNOSUPPORT)), ExitError},
		{"no suitable address", fmt.Errorf("ipmi: %w", &net.AddrError{Err: "no suitable address found", Addr: "::1"}), ExitError},
		{"BMC refused a command", &ipmi.CompletionError{NetFn: ipmi.NetFnChassis, Cmd: ipmi.CmdChassisControl, Code: ipmi.CCInvalidDataField}, ExitError},
		{"local I/O", fmt.Errorf("writing the answer: %w", syscall.EPIPE), ExitError},
		{"context canceled without a signal", context.Canceled, ExitError},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
		// --reconnect (the console engine) gives up on exactly the errors
		// that exit 3 or 7: another attempt would meet them again.
		if perm, want := console.Permanent(tt.err), tt.want == ExitAuth || tt.want == ExitIncompat; perm != want && tt.want != ExitUsage {
			t.Errorf("%s: console.Permanent(%v) = %v, want %v (exit %d)", tt.name, tt.err, perm, want, tt.want)
		}
	}
}

// TestReport: the final error is one line, and a stderr that takes nothing
// holds up the exit messageFlushBound at most.
func TestReport(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("sol: console taken over"), "ghmicons: sol: console taken over\n"},
		{errors.New("ghmicons: already prefixed"), "ghmicons: already prefixed\n"},
		{errors.New("two\nlines"), "ghmicons: two; lines\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		report(&b, tt.err)
		if b.String() != tt.want {
			t.Errorf("report(%v) printed %q, want %q", tt.err, b.String(), tt.want)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		w := &stuckWriter{release: make(chan struct{}), entered: make(chan struct{}, 1)}
		start := time.Now()
		report(w, errors.New("lost"))
		if d := time.Since(start); d != messageFlushBound {
			t.Errorf("report to a stuck stderr returned after %v, want %v", d, messageFlushBound)
		}
		close(w.release)
		synctest.Wait()
		if got := w.String(); got != "ghmicons: lost\n" {
			t.Errorf("once stderr flows: %q", got)
		}
	})
}

// deafBMC is a UDP port that never answers; the returned channel is closed
// when the first datagram arrives, i.e. once the program is talking to it.
func deafBMC(t *testing.T) (addr string, heard <-chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		first := true
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			if first {
				first = false
				close(ch)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return pc.LocalAddr().String(), ch
}
