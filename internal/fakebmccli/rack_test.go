package fakebmccli

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// --count N --list: N BMCs on consecutive ports, named by the pattern,
// the serial host's {name} and %(name)s substituted.
func TestCountList(t *testing.T) {
	var out, log strings.Builder
	err := RunWith([]string{"--count", "3", "--listen", "127.0.0.1:20100", "--name-pattern", "node%03d",
		"--serial", "exec:virsh console %(name)s --force {name}", "--list"}, &out, &log)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"NAME     ADDRESS    PORT   PROVIDER  POWER  SERIAL",
		"node001  127.0.0.1  20100  builtin   on     exec:virsh console node001 --force node001",
		"node002  127.0.0.1  20101  builtin   on     exec:virsh console node002 --force node002",
		"node003  127.0.0.1  20102  builtin   on     exec:virsh console node003 --force node003",
	}
	if got := strings.TrimSpace(out.String()); got != strings.Join(want, "\n") {
		t.Errorf("--list:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestCountErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--count", "2", "--name-pattern", "same"}, "integer verb"},
		{[]string{"--count", "2", "--name-pattern", "n%s"}, "integer verb"},
		{[]string{"--count", "10", "--listen", "127.0.0.1:65530"}, "past port 65535"},
		{[]string{"--count", "-1"}, "--count must be positive"},
		{[]string{"--count", "2", "--listen", "nohost"}, `--listen "nohost"`},
	} {
		var out, log strings.Builder
		err := RunWith(append(tc.args, "--list"), &out, &log)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

// --config takes the BMCs from the file: the flags that describe a BMC
// are an error beside it; --list lists the file's rack.
func TestConfigFlag(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/rack.toml"
	writeFile(t, path, "[[range]]\ncount = 2\nname = \"r%d\"\nlisten = \"127.0.0.1:20120\"\n[[bmc]]\nname = \"one\"\nlisten = \"127.0.0.1:20130\"\nserial = \"echo\"\n", 0o644)
	var out, log strings.Builder
	if err := RunWith([]string{"--config", path, "--list"}, &out, &log); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"NAME  ADDRESS    PORT   PROVIDER  POWER  SERIAL",
		"one   127.0.0.1  20130  builtin   on     echo",
		"r1    127.0.0.1  20120  builtin   on     demo",
		"r2    127.0.0.1  20121  builtin   on     demo",
	}
	if got := strings.TrimSpace(out.String()); got != strings.Join(want, "\n") {
		t.Errorf("--config --list:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	err := RunWith([]string{"--config", path, "--user", "x", "--count", "2", "--list"}, &out, &log)
	if err == nil || !strings.Contains(err.Error(), "--user, --count set the BMCs of the flags") {
		t.Errorf("--config with --user and --count: %v", err)
	}
	if err := RunWith([]string{"--config", dir + "/none.toml", "--list"}, &out, &log); err == nil {
		t.Error("a missing file: no error")
	}
}

// --provider with a shipmi file: its [CONSOLE] is the serial host unless
// --serial is given, and --list runs its status command.
func TestProviderFlagShipmi(t *testing.T) {
	dir := t.TempDir()
	copyShipmi(t, dir)
	conf := dir + "/vm.conf"
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, conf, string(b)+"[CONSOLE]\nexec = virsh console %(name)s\n", 0o644)
	writeFile(t, dir+"/node1.state", "stopped\n", 0o644)
	var out, log strings.Builder
	if err := RunWith([]string{"--count", "2", "--name-pattern", "node%d", "--listen", "127.0.0.1:20140", "--provider", conf, "--list"}, &out, &log); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(strings.ReplaceAll(out.String(), "\n", " | "))
	want := strings.Fields(fmt.Sprintf("NAME ADDRESS PORT PROVIDER POWER SERIAL | node1 127.0.0.1 20140 %s off exec:virsh console node1 | node2 127.0.0.1 20141 %s ?(no output) exec:virsh console node2 |", conf, conf))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("--list:\n%s\nwant:\n%s", strings.Join(got, " "), strings.Join(want, " "))
	}
	out.Reset()
	if err := RunWith([]string{"--provider", conf, "--serial", "echo", "--list"}, &out, &log); err != nil || !strings.Contains(out.String(), " echo") {
		t.Errorf("--serial beside a [CONSOLE]: %v\n%s", err, out.String())
	}
	if err := RunWith([]string{"--provider", conf, "--power-on-cmd", "x", "--list"}, &out, &log); err == nil {
		t.Error("--power-on-cmd beside a shipmi provider: no error")
	}
}
