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

// HostPort turns "host", "host:port", "[v6]:port" or a bare IPv6 literal into
// a host:port string, adding port 623 where none is given.
func HostPort(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("ipmi: no BMC address")
	}
	literal := addr
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		literal = addr[1 : len(addr)-1]
	}
	if ip, err := netip.ParseAddr(literal); err == nil && !strings.ContainsAny(literal, "[]") {
		// A bare or bracketed IP literal, IPv6 zones included.
		return net.JoinHostPort(ip.String(), strconv.Itoa(DefaultPort)), nil
	}
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		return "", fmt.Errorf("ipmi: bad BMC address %q: brackets are for IPv6 literals", addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// No port: plain host name.
		if strings.Contains(addr, ":") {
			return "", fmt.Errorf("ipmi: bad BMC address %q", addr)
		}
		return net.JoinHostPort(addr, strconv.Itoa(DefaultPort)), nil
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("ipmi: bad port in BMC address %q", addr)
	}
	return net.JoinHostPort(host, port), nil
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
		if from.Addr().Unmap() == t.peer.Addr().Unmap() {
			return n, nil
		}
	}
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
