package ipmi_test

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/ghmicons/ghmicons/internal/testenv"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// loopbackName is the loopback interface's name ("lo", "lo0"), or "".
func loopbackName() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 && ifi.Flags&net.FlagUp != 0 {
			return ifi.Name
		}
	}
	return ""
}

// TestIPv6ZoneOverUDP dials the BMC on ::1 over real UDP, with and without
// a zone: the replies carry none, and must not be dropped for it.
// (TestEverySuiteOverUDP covers IPv4.)
func TestIPv6ZoneOverUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		testenv.Missing(t, "no IPv6 loopback on this machine (listening on [::1]: %v); IPv4 is covered by TestEverySuiteOverUDP", err)
	}
	fakebmctest.New(t, fakebmc.Config{}, fakebmctest.PacketConn(pc))
	port := pc.LocalAddr().(*net.UDPAddr).Port
	addrs := []string{net.JoinHostPort("::1", strconv.Itoa(port))}
	if lo := loopbackName(); lo != "" {
		addrs = append(addrs, "[::1%"+lo+"]:"+strconv.Itoa(port))
		if ifi, err := net.InterfaceByName(lo); err == nil {
			addrs = append(addrs, "[::1%"+strconv.Itoa(ifi.Index)+"]:"+strconv.Itoa(port))
		}
	}
	cfg := admin
	cfg.Retries = -1 // an answer is there at once or never
	for _, addr := range addrs {
		for _, network := range []string{"udp", "udp6"} {
			s, err := ipmi.Dial(context.Background(), network, addr, cfg)
			if err != nil {
				t.Errorf("Dial(%s, %s): %v", network, addr, err)
				continue
			}
			if _, err := s.GetDeviceID(context.Background()); err != nil {
				t.Errorf("%s: %v", addr, err)
			}
			s.Close()
		}
	}
}
