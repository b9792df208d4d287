package ipmi

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Transport carries whole datagrams between the console and one BMC: each
// Read returns one datagram, each Write sends one. A connected UDP socket is
// one; tests use an in-memory pipe (package memnet) carrying the same bytes.
// Close must make a blocked Read return.
type Transport interface {
	io.ReadWriteCloser
	RemoteAddr() net.Addr
}

// HostPort turns "host", "host:port", "[v6]:port" or a bare IPv6 literal
// (zone included: "fe80::1%eth0") into a host:port string, adding port 623
// where none is given. A bare IPv6 literal is always an address, never
// "address:port": ports go with brackets.
func HostPort(addr string) (string, error) { return BMCAddress(addr, 0) }

// BMCAddress combines a BMC address as HostPort takes it with a port given
// separately (ipmitool's -p), into a host:port string. port 0 means none
// given: the address's own port, else 623. A port in both must be the same
// one; a different one is an error, as is a port outside 1–65535. The
// errors say what to write instead.
func BMCAddress(addr string, port int) (string, error) {
	host, own, err := splitBMCAddress(addr)
	if err != nil {
		return "", fmt.Errorf("ipmi: BMC address %q: %w", addr, err)
	}
	switch {
	case port < 0 || port > 65535:
		return "", fmt.Errorf("ipmi: port %d: want 1-65535", port)
	case port != 0 && own != 0 && own != port:
		return "", fmt.Errorf("ipmi: BMC address %q says port %d but port %d is given too: give the port once", addr, own, port)
	case port != 0:
		own = port
	case own == 0:
		own = DefaultPort
	}
	return net.JoinHostPort(host, strconv.Itoa(own)), nil
}

// splitBMCAddress takes addr apart; port is 0 when it has none.
func splitBMCAddress(s string) (host string, port int, err error) {
	ipv6 := func(h string) bool {
		ip, err := netip.ParseAddr(h)
		return err == nil && ip.Is6()
	}
	switch {
	case s == "":
		return "", 0, fmt.Errorf("empty")
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("no closing ]")
		}
		host, rest := s[1:end], s[end+1:]
		if !ipv6(host) {
			return "", 0, fmt.Errorf("brackets are for IPv6 addresses, and %q is not one", host)
		}
		if rest == "" {
			return host, 0, nil
		}
		if rest[0] != ':' {
			return "", 0, fmt.Errorf("want [IPv6]:PORT")
		}
		port, err := parsePort(rest[1:])
		return host, port, err
	case ipv6(s):
		// A bare IPv6 address cannot carry a port: its last group would
		// be taken for one, or a zone would swallow it.
		if _, zone, _ := strings.Cut(s, "%"); strings.Contains(zone, ":") {
			return "", 0, fmt.Errorf("an IPv6 address with a port goes in brackets: [ADDRESS%%ZONE]:PORT")
		}
		return s, 0, nil
	case strings.Count(s, ":") == 1:
		host, p, _ := strings.Cut(s, ":")
		if host == "" {
			return "", 0, fmt.Errorf("no host before the port")
		}
		port, err := parsePort(p)
		return host, port, err
	case strings.Contains(s, ":"):
		return "", 0, fmt.Errorf("not an address; an IPv6 address with a port goes in brackets: [ADDRESS]:PORT")
	}
	return s, 0, nil
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q: want 1-65535", p)
	}
	return n, nil
}

// DialUDP opens a UDP socket for talking to the BMC. network is "udp",
// "udp4" or "udp6". The socket is not connected, so that SOL can continue
// on another port when the BMC asks for it (Activate Payload's port field);
// datagrams from any other address are ignored.
func DialUDP(network, addr string) (Transport, error) {
	hp, err := HostPort(addr)
	if err != nil {
		return nil, err
	}
	ra, err := net.ResolveUDPAddr(network, hp)
	if err != nil {
		return nil, fmt.Errorf("ipmi: %w", err)
	}
	laddr := &net.UDPAddr{}
	if ra.IP.To4() != nil && network != "udp6" {
		network, laddr.IP = "udp4", net.IPv4zero
	}
	c, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, fmt.Errorf("ipmi: %w", err)
	}
	// Bulk console output arrives as one datagram per ACK; a larger buffer
	// only matters under bursts, but costs nothing.
	_ = c.SetReadBuffer(1 << 20)
	return &udpTransport{c: c, peer: ra.AddrPort(), raddr: ra}, nil
}

// udpTransport is an unconnected UDP socket bound to one BMC address.
type udpTransport struct {
	c     *net.UDPConn
	peer  netip.AddrPort
	raddr *net.UDPAddr
}

func (t *udpTransport) Read(b []byte) (int, error) {
	for {
		n, from, err := t.c.ReadFromUDPAddrPort(b)
		if err != nil {
			return n, err
		}
		if sameHost(from.Addr(), t.peer.Addr()) {
			return n, nil
		}
	}
}

// sameHost reports whether a datagram from a comes from the BMC at peer. The
// port is not compared (SOL may come from another port, Activate Payload's
// answer says which). IPv4-mapped IPv6 addresses equal their IPv4 form. The
// zone is compared only when both have one: the kernel reports none for
// replies from addresses that need none (::1 asked as [::1%lo]), and names
// and numbers of one interface are the same zone.
func sameHost(a, peer netip.Addr) bool {
	a, peer = a.Unmap(), peer.Unmap()
	if a.WithZone("") != peer.WithZone("") {
		return false
	}
	za, zp := a.Zone(), peer.Zone()
	return za == "" || zp == "" || za == zp || zoneIndex(za) == zoneIndex(zp) && zoneIndex(za) != 0
}

// zoneIndex is an IPv6 zone's interface index, 0 if unknown.
func zoneIndex(z string) int {
	if n, err := strconv.Atoi(z); err == nil {
		return n
	}
	if ifi, err := net.InterfaceByName(z); err == nil {
		return ifi.Index
	}
	return 0
}

func (t *udpTransport) Write(b []byte) (int, error) { return t.c.WriteToUDPAddrPort(b, t.peer) }

// WriteToPort sends to the BMC's address on another port.
func (t *udpTransport) WriteToPort(b []byte, port uint16) (int, error) {
	return t.c.WriteToUDPAddrPort(b, netip.AddrPortFrom(t.peer.Addr(), port))
}

func (t *udpTransport) Close() error         { return t.c.Close() }
func (t *udpTransport) RemoteAddr() net.Addr { return t.raddr }

// PortTransport is a Transport that can also reach the BMC on another port.
type PortTransport interface {
	Transport
	WriteToPort(b []byte, port uint16) (int, error)
}
