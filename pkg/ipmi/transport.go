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
// one; a different one is an error, as is a port outside 1–65535.
func BMCAddress(addr string, port int) (string, error) {
	host, own, err := splitBMCAddress(addr)
	if err != nil {
		return "", err
	}
	switch {
	case port < 0 || port > 65535:
		return "", fmt.Errorf("ipmi: port %d out of range 1-65535", port)
	case port == 0 && own == "":
		own = strconv.Itoa(DefaultPort)
	case port != 0 && own != "" && own != strconv.Itoa(port):
		return "", fmt.Errorf("ipmi: BMC address %q has port %s and port %d is given too: give the port once", addr, own, port)
	case port != 0:
		own = strconv.Itoa(port)
	}
	return net.JoinHostPort(host, own), nil
}

// splitBMCAddress splits addr into host and port ("" when it has none).
func splitBMCAddress(addr string) (host, port string, err error) {
	if addr == "" {
		return "", "", fmt.Errorf("ipmi: no BMC address")
	}
	literal := addr
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		literal = addr[1 : len(addr)-1]
	}
	if ip, err := netip.ParseAddr(literal); err == nil && !strings.ContainsAny(literal, "[]") {
		// A bare or bracketed IP literal, IPv6 zones included.
		return ip.String(), "", nil
	}
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		return "", "", fmt.Errorf("ipmi: bad BMC address %q: brackets are for IPv6 literals", addr)
	}
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		// No port: plain host name.
		if strings.Contains(addr, ":") {
			return "", "", fmt.Errorf("ipmi: bad BMC address %q", addr)
		}
		return addr, "", nil
	}
	if host == "" {
		return "", "", fmt.Errorf("ipmi: bad BMC address %q: no host", addr)
	}
	if strings.Contains(host, ":") {
		if _, err := netip.ParseAddr(host); err != nil {
			return "", "", fmt.Errorf("ipmi: bad BMC address %q: brackets are for IPv6 literals", addr)
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return "", "", fmt.Errorf("ipmi: bad port in BMC address %q", addr)
	}
	return host, strconv.Itoa(p), nil
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
