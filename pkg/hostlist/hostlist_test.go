package hostlist_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/hostlist"
)

func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // hosts joined by spaces
	}{
		{"node1", "node1"},
		{"node[1-3]", "node1 node2 node3"},
		{"node[01-03]-bmc", "node01-bmc node02-bmc node03-bmc"},
		{"node[08-10]", "node08 node09 node10"},
		{"node[8-10]", "node8 node9 node10"},
		{"n[1,3,5-7]", "n1 n3 n5 n6 n7"},
		{"node[01-02]-bmc,node[100-101]", "node01-bmc node02-bmc node100 node101"},
		{"r[1-2]n[1-2]", "r1n1 r1n2 r2n1 r2n2"},
		{"a, b\tc", "a b c"},
		{"a,a,b", "a b"},
		{"bmc1:623,bmc2:624", "bmc1:623 bmc2:624"},
		{"10.0.0.1:[28000-28002]", "10.0.0.1:28000 10.0.0.1:28001 10.0.0.1:28002"},
		{"[::1]:623", "[::1]:623"},
		{"[::1]:[623-624],[fe80::1%eth0]:623", "[::1]:623 [::1]:624 [fe80::1%eth0]:623"},
		{"fe80::1", "fe80::1"},
		{"host[0]", "host0"},
		{"[10.0.0.5]:623,b", "[10.0.0.5]:623 b"},
	} {
		got, err := hostlist.Expand(tc.in)
		if err != nil {
			t.Errorf("Expand(%q): %v", tc.in, err)
			continue
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, g, tc.want)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "no hosts"},
		{" , ", "empty host"},
		{"a,,b", "empty host before the comma at 3"},
		{"a,", "empty host after the last comma"},
		{"n[1-3", "[ at 2 without ]"},
		{"n1-3]", "] at 5 without ["},
		{"n[1-[2]]", "[ at 2 without ]"},
		{"n[]", "empty range"},
		{"n[3-1]", "3-1 counts down: write 1-3"},
		{"n[a-b]", `"a" is not a number`},
		{"n[1-]", "numbers on both sides"},
		{"n[1,,2]", "numbers on both sides"},
		{"n[1-1000000]", "more than 65536 hosts"},
		{"a[1-1000]b[1-1000]", "more than 65536 hosts"},
		{"n[1-9999999999999999999]", "at most 18 digits"},
		{"a\x00b", "control character"},
	} {
		_, err := hostlist.Expand(tc.in)
		var he *hostlist.Error
		if !errors.As(err, &he) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Expand(%q) = %v, want a *hostlist.Error saying %q", tc.in, err, tc.msg)
		}
	}
}

func TestExpandLimit(t *testing.T) {
	if _, err := hostlist.ExpandLimit("n[1-10]", 10); err != nil {
		t.Errorf("10 hosts, limit 10: %v", err)
	}
	if _, err := hostlist.ExpandLimit("n[1-10],m", 10); err == nil {
		t.Error("11 hosts, limit 10: no error")
	}
}

func TestIsList(t *testing.T) {
	for in, want := range map[string]bool{
		"bmc1": false, "bmc1:623": false, "[10.0.0.5]:623": false, "n[1-2": false, "[bmc1]": false, "n[a-b]": false, "[::1]:623": false, "[fe80::1%eth0]:623": false, "::1": false,
		"bmc[1-2]": true, "a,b": true, "a b": true, "[::1]:[623-624]": true, "n[1]": true,
	} {
		if got := hostlist.IsList(in); got != want {
			t.Errorf("IsList(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCompress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"node1", "node1"},
		{"node1 node2 node3", "node[1-3]"},
		{"node01 node02 node03 node07", "node[01-03,07]"},
		{"node08 node09 node10", "node[08-10]"},
		{"node9 node10", "node[9-10]"},
		{"node9 node010", "node[9,010]"},
		{"node3 node1 node2 node1", "node[1-3]"},
		{"n1-bmc n2-bmc login", "n[1-2]-bmc,login"},
		{"a b", "a,b"},
		{"r1n1 r1n2 r2n1", "r1n[1-2],r2n1"},
		{"10.0.0.1:28000 10.0.0.1:28001 10.0.0.1:28002", "10.0.0.1:[28000-28002]"},
		{"[::1]:623 [::1]:624", "[::1]:[623-624]"},
		{"[fe80::1] [fe80::2]", "[fe80::1],[fe80::2]"},
		{"n1 n01", "n[01,1]"},
	} {
		if got := hostlist.Compress(strings.Fields(tc.in)); got != tc.want {
			t.Errorf("Compress(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRead(t *testing.T) {
	in := "# the rack\nnode[1-2]\n\n  node3   # spare\nnode1\n"
	got, err := hostlist.Read(strings.NewReader(in), "hosts", hostlist.DefaultLimit)
	if err != nil || strings.Join(got, " ") != "node1 node2 node3" {
		t.Errorf("Read = %q, %v", got, err)
	}
	_, err = hostlist.Read(strings.NewReader("a\nn[2-1]\n"), "hosts", 10)
	if err == nil || !strings.HasPrefix(err.Error(), "hosts:2: ") {
		t.Errorf("bad line 2: %v", err)
	}
	_, err = hostlist.Read(strings.NewReader("n[1-6]\nm[1-6]\n"), "hosts", 10)
	if err == nil || !strings.Contains(err.Error(), "hosts:2: more than 10 hosts") {
		t.Errorf("too many: %v", err)
	}
	_, err = hostlist.Read(strings.NewReader("# nothing\n"), "hosts", 10)
	if err == nil || err.Error() != "hosts: no hosts" {
		t.Errorf("empty: %v", err)
	}
}

// FuzzExpand: Expand never panics, stays within its limit, and what it
// accepts compresses into a hostlist of the same hosts.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"node[01-64]-bmc,node[100-110]", "n[1,3,5-7]", "[::1]:[623-624]", "a,b c",
		"r[1-2]n[08-10]", "n[3-1]", "n[", "]", "10.0.0.1:[28000-28255]", "[fe80::1%eth0]:623", "n1,n01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := hostlist.ExpandLimit(s, 1000)
		if err != nil {
			var he *hostlist.Error
			if !errors.As(err, &he) {
				t.Fatalf("%q: %v is not a *hostlist.Error", s, err)
			}
			return
		}
		if len(hosts) == 0 || len(hosts) > 1000 {
			t.Fatalf("%q: %d hosts", s, len(hosts))
		}
		c := hostlist.Compress(hosts)
		again, err := hostlist.ExpandLimit(c, 1000)
		if err != nil {
			t.Fatalf("%q: Compress = %q, which does not expand: %v", s, c, err)
		}
		slices.Sort(hosts)
		slices.Sort(again)
		if !slices.Equal(hosts, again) {
			t.Fatalf("%q: Compress = %q expands to %q, want %q", s, c, again, hosts)
		}
	})
}
