package fakebmccli

import (
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
