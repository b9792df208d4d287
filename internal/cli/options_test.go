package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// runInProcess runs the program's Run with files for its output and env as
// its environment; none of these cases reaches the network.
func runInProcess(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	files := make([]*os.File, 2)
	for i, name := range []string{"stdout", "stderr"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = Run(args, Env{Stdin: stdin, Stdout: files[0], Stderr: files[1], Getenv: getenv})
	out, _ := os.ReadFile(files[0].Name())
	errOut, _ := os.ReadFile(files[1].Name())
	return code, string(out), string(errOut)
}

var withPassword = map[string]string{"IPMI_PASSWORD": "password"}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string // in the one line on stderr
	}{
		{"suite 0 needs the insecure flag", withPassword, []string{"-H", "127.0.0.1", "-U", "admin", "-E", "-C", "0"}, "--insecure-cipher-suite-0"},
		{"-E without the variables", nil, []string{"-H", "127.0.0.1", "-U", "admin", "-E"}, "IPMI_PASSWORD"},
		{"bad escape character", withPassword, []string{"-H", "127.0.0.1", "-U", "admin", "-E", "-e", "xy"}, "escape"},
		{"power bogus", withPassword, []string{"-H", "127.0.0.1", "-U", "admin", "-E", "power", "bogus"}, "bogus"},
		{"power without an action", withPassword, []string{"-H", "127.0.0.1", "-U", "admin", "-E", "power"}, "power"},
		{"bootdev bogus", withPassword, []string{"-H", "127.0.0.1", "-U", "admin", "-E", "bootdev", "floppy-disk"}, "floppy-disk"},
		{"unknown command", withPassword, []string{"-H", "127.0.0.1", "-U", "admin", "-E", "reboot"}, "reboot"},
		{"unknown flag", withPassword, []string{"-H", "127.0.0.1", "--frobnicate"}, "frobnicate"},
		{"no host", withPassword, []string{"-U", "admin", "-E"}, "-H"},
		{"instance out of range", withPassword, []string{"-H", "127.0.0.1", "-U", "admin", "-E", "--instance", "16"}, "instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(t, tt.env, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit status %d, want %d (stderr %q)", code, ExitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			last := stderr[strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n")+1:]
			if !strings.HasPrefix(last, "ghmicons: ") || !strings.Contains(last, tt.wantErr) {
				t.Errorf("last stderr line %q, want a ghmicons: message naming %q", last, tt.wantErr)
			}
		})
	}
}

func TestRunVersion(t *testing.T) {
	code, stdout, stderr := runInProcess(t, nil, "--version")
	if code != ExitOK {
		t.Errorf("--version: exit status %d, want 0 (stderr %q)", code, stderr)
	}
	if stdout != "ghmicons "+Version+"\n" {
		t.Errorf("--version printed %q", stdout)
	}
}

func TestRunHelp(t *testing.T) {
	code, _, stderr := runInProcess(t, nil, "--help")
	if code != ExitOK {
		t.Errorf("--help: exit status %d, want 0", code)
	}
	for _, want := range []string{"Usage:", "--insecure-cipher-suite-0", "Exit codes:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// sessionConfigFor parses args and builds the session configuration.
func sessionConfigFor(t *testing.T, env map[string]string, args ...string) (cfgPassword []byte, warn string, err error) {
	t.Helper()
	cfg, warn, err := configFor(t, env, args...)
	return cfg.Password, warn, err
}

// configFor parses args (an error there is returned as is) and builds the
// session configuration, with stdin not a terminal.
func configFor(t *testing.T, env map[string]string, args ...string) (cfg ipmi.Config, warn string, err error) {
	t.Helper()
	var stderr bytes.Buffer
	o, err := parseOptions(args, &stderr)
	if err != nil {
		return cfg, stderr.String(), err
	}
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	cfg, err = o.sessionConfig(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, stdin, &stderr)
	return cfg, stderr.String(), err
}

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
		warn bool
	}{
		{"-P warns", nil, []string{"-P", "hunter2"}, "hunter2", true},
		{"-E IPMI_PASSWORD", map[string]string{"IPMI_PASSWORD": "a", "IPMITOOL_PASSWORD": "b"}, []string{"-E"}, "a", false},
		{"-E IPMITOOL_PASSWORD", map[string]string{"IPMITOOL_PASSWORD": "b"}, []string{"-E"}, "b", false},
		{"-f first line", nil, []string{"-f", file("lf", "secret\nsecond line\n")}, "secret", false},
		{"-f CRLF", nil, []string{"-f", file("crlf", "secret\r\nsecond\r\n")}, "secret", false},
		{"-f no newline", nil, []string{"-f", file("bare", "secret")}, "secret", false},
		{"-f keeps spaces", nil, []string{"-f", file("spaces", " pass word \n")}, " pass word ", false},
		{"no source, not a terminal", nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw, warn, err := sessionConfigFor(t, tt.env, tt.args...)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if string(pw) != tt.want {
				t.Errorf("password %q, want %q", pw, tt.want)
			}
			if got := strings.Contains(warn, "warning"); got != tt.warn {
				t.Errorf("warning on stderr %v, want %v (stderr %q)", got, tt.warn, warn)
			}
		})
	}
}

func TestSessionConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"-C 0 alone", nil, []string{"-P", "x", "-C", "0"}},
		{"-C unknown", nil, []string{"-P", "x", "-C", "5"}},
		{"-C 256", nil, []string{"-P", "x", "-C", "256"}},
		{"-E no env", nil, []string{"-E"}},
		{"-f missing", nil, []string{"-f", filepath.Join(t.TempDir(), "absent")}},
		{"password too long", nil, []string{"-P", strings.Repeat("x", 21)}},
		{"bad privilege", nil, []string{"-P", "x", "-L", "root"}},
		{"not lanplus", nil, []string{"-P", "x", "-I", "lan"}},
		{"bad K_g hex", nil, []string{"-P", "x", "-y", "zz"}},
		{"K_g too long", nil, []string{"-P", "x", "-k", strings.Repeat("k", 21)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := sessionConfigFor(t, tt.env, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if code := ExitCode(err); code != ExitUsage {
				t.Errorf("%v: exit code %d, want %d", err, code, ExitUsage)
			}
		})
	}
	// With the flag, suite 0 is allowed.
	if _, _, err := sessionConfigFor(t, nil, "-P", "x", "-C", "0", "--insecure-cipher-suite-0"); err != nil {
		t.Errorf("-C 0 --insecure-cipher-suite-0: %v", err)
	}
}

func TestEscapeOption(t *testing.T) {
	tests := []struct {
		args    []string
		tty     bool
		enabled bool
		char    byte
		bad     bool
	}{
		{nil, true, true, '~', false},
		{nil, false, false, 0, false}, // pipes: off unless asked for
		{[]string{"-e", "~"}, false, true, '~', false},
		{[]string{"-e", "^]"}, true, true, 0x1D, false},
		{[]string{"-e", "&"}, true, true, '&', false},
		{[]string{"-e", "none"}, true, false, 0, false},
		{[]string{"-e", "xy"}, true, false, 0, true},
		{[]string{"-e", ""}, true, false, 0, true},
		{[]string{"-e", "^1"}, true, false, 0, true},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args, &bytes.Buffer{})
		if err != nil && !tt.bad {
			t.Fatalf("%q: %v", tt.args, err)
		}
		var f *escape.Filter
		if err == nil {
			f, err = o.escapeFilter(tt.tty)
		}
		if tt.bad {
			if err == nil || ExitCode(err) != ExitUsage {
				t.Errorf("%q: error %v, want a usage error", tt.args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if f.Enabled() != tt.enabled || f.Char() != tt.char {
			t.Errorf("%q tty=%v: enabled %v char %q, want %v %q", tt.args, tt.tty, f.Enabled(), f.Char(), tt.enabled, tt.char)
		}
	}
}

// TestAddress: the rules for -H and -p (options.address).
func TestAddress(t *testing.T) {
	tests := []struct {
		args []string
		want string // "" for a usage error
		why  string // in the error
	}{
		{[]string{"-H", "10.0.0.5"}, "10.0.0.5:623", ""},
		{[]string{"-H", "10.0.0.5:9623"}, "10.0.0.5:9623", ""},
		{[]string{"-H", "10.0.0.5", "-p", "9623"}, "10.0.0.5:9623", ""},
		{[]string{"-H", "10.0.0.5:9623", "-p", "9623"}, "10.0.0.5:9623", ""},
		{[]string{"-H", "10.0.0.5:9623", "-p", "623"}, "", "give the port once"},
		{[]string{"-H", "127.0.0.1:24098", "-p", "24099"}, "", "give the port once"},
		{[]string{"-H", "bmc1.example.net"}, "bmc1.example.net:623", ""},
		{[]string{"-H", "bmc1.example.net:1623"}, "bmc1.example.net:1623", ""},
		{[]string{"-H", "bmc1", "-p", "1623"}, "bmc1:1623", ""},
		{[]string{"-H", "::1"}, "[::1]:623", ""},
		{[]string{"-H", "::1", "-p", "9623"}, "[::1]:9623", ""},
		{[]string{"-H", "[::1]"}, "[::1]:623", ""},
		{[]string{"-H", "[::1]", "-p", "9623"}, "[::1]:9623", ""},
		{[]string{"-H", "[::1]:9623"}, "[::1]:9623", ""},
		{[]string{"-H", "[::1]:9623", "-p", "9623"}, "[::1]:9623", ""},
		{[]string{"-H", "[::1]:9623", "-p", "623"}, "", "give the port once"},
		{[]string{"-H", "2001:db8::5"}, "[2001:db8::5]:623", ""},
		{[]string{"-H", "fe80::1%eth0"}, "[fe80::1%eth0]:623", ""},
		{[]string{"-H", "fe80::1%eth0", "-p", "1623"}, "[fe80::1%eth0]:1623", ""},
		{[]string{"-H", "[fe80::1%eth0]:623"}, "[fe80::1%eth0]:623", ""},
		{[]string{"-H", "[fe80::1%eth0]:1623", "-p", "1623"}, "[fe80::1%eth0]:1623", ""},
		{[]string{"-H", "fe80::1%eth0:623"}, "", "brackets"},
		{[]string{"-H", "[10.0.0.5]:623"}, "", "brackets are for IPv6"},
		{[]string{"-H", "[bmc1]"}, "", "brackets are for IPv6"},
		{[]string{"-H", "[::1"}, "", "no closing ]"},
		{[]string{"-H", "[::1]623"}, "", "[IPv6]:PORT"},
		{[]string{"-H", "[::1]:"}, "", "1-65535"},
		{[]string{"-H", ":623"}, "", "no host"},
		{[]string{"-H", "bmc1:ipmi"}, "", "1-65535"},
		{[]string{"-H", "bmc1:0"}, "", "1-65535"},
		{[]string{"-H", "bmc1:65536"}, "", "1-65535"},
		{[]string{"-H", "bmc1:623:1"}, "", "brackets"},
		{[]string{"-H", "::1", "-4"}, "", "-4 with the IPv6 address"},
		{[]string{"-H", "10.0.0.5", "-6"}, "", "-6 with the IPv4 address"},
		{[]string{"-H", "10.0.0.5", "-4"}, "10.0.0.5:623", ""},
		{[]string{"-H", "::1", "-6"}, "[::1]:623", ""},
		{[]string{"-H", "bmc1", "-6"}, "bmc1:623", ""},
		{[]string{"-p", "623"}, "", "-H"},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		got, err := o.address()
		if tt.want == "" {
			if ExitCode(err) != ExitUsage || !strings.Contains(fmt.Sprint(err), tt.why) {
				t.Errorf("%q: address %q, error %v; want a usage error saying %q", tt.args, got, err, tt.why)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: address %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}
