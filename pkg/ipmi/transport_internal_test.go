package ipmi

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
)

func TestBMCAddress(t *testing.T) {
	for _, tt := range []struct {
		host string
		port int
		want string
	}{
		{"10.0.0.1", 0, "10.0.0.1:623"},
		{"10.0.0.1", 24098, "10.0.0.1:24098"},
		{"127.0.0.1:24098", 0, "127.0.0.1:24098"},
		{"127.0.0.1:24098", 24098, "127.0.0.1:24098"}, // the same port twice is no conflict
		{"bmc", 700, "bmc:700"},
		{"bmc:700", 700, "bmc:700"},
		{"::1", 24098, "[::1]:24098"},
		{"[::1]", 24098, "[::1]:24098"},
		{"[::1]:24098", 24098, "[::1]:24098"},
		{"fe80::1%eth0", 700, "[fe80::1%eth0]:700"},
		{"[fe80::1%eth0]", 700, "[fe80::1%eth0]:700"},
		{"[fe80::1%eth0]:700", 0, "[fe80::1%eth0]:700"},
		{"2001:db8::1", 65535, "[2001:db8::1]:65535"},
		// A bare IPv6 literal is an address: its last group is no port.
		{"2001:db8::623", 0, "[2001:db8::623]:623"},
	} {
		if got, err := BMCAddress(tt.host, tt.port); err != nil || got != tt.want {
			t.Errorf("BMCAddress(%q, %d) = %q, %v; want %q", tt.host, tt.port, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		host string
		port int
	}{
		{"127.0.0.1:24098", 623},
		{"[::1]:700", 701},
		{"bmc", -1},
		{"bmc", 65536},
		{"", 623},
		{"[bmc]", 623},
		{":623", 0},
		{"[127.0.0.1:24098]", 24098},
	} {
		if got, err := BMCAddress(tt.host, tt.port); err == nil {
			t.Errorf("BMCAddress(%q, %d) = %q, want an error", tt.host, tt.port, got)
		}
	}
}

func TestSameHost(t *testing.T) {
	lo := ""
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifi := range ifs {
			if ifi.Flags&net.FlagLoopback != 0 {
				lo = ifi.Name
				break
			}
		}
	}
	a := netip.MustParseAddr
	tests := []struct {
		from, peer string
		want       bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"::ffff:127.0.0.1", "127.0.0.1", true},
		{"127.0.0.2", "127.0.0.1", false},
		{"::1", "::1", true},
		{"::1", "::2", false},
		// The kernel reports no zone for a reply to [::1%lo].
		{"::1", "::1%lo", true},
		{"fe80::1%eth0", "fe80::1", true},
		{"fe80::1%eth0", "fe80::1%eth0", true},
		{"fe80::1%eth0", "fe80::1%eth1", false},
		{"fe80::1%eth0", "fe80::2%eth0", false},
	}
	if lo != "" {
		// A zone by name and by number is the same zone.
		ifi, _ := net.InterfaceByName(lo)
		tests = append(tests, struct {
			from, peer string
			want       bool
		}{"fe80::1%" + lo, "fe80::1%" + strconv.Itoa(ifi.Index), true})
	}
	for _, tt := range tests {
		if got := sameHost(a(tt.from), a(tt.peer)); got != tt.want {
			t.Errorf("sameHost(%s, %s) = %v, want %v", tt.from, tt.peer, got, tt.want)
		}
	}
}
