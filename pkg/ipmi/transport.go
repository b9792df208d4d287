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

// DialUDP opens a connected UDP socket to the BMC. network is "udp", "udp4"
// or "udp6".
func DialUDP(network, addr string) (Transport, error) {
	hp, err := HostPort(addr)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial(network, hp)
	if err != nil {
		return nil, fmt.Errorf("ipmi: %w", err)
	}
	if u, ok := c.(*net.UDPConn); ok {
		// Bulk console output arrives as one datagram per ACK; a larger buffer
		// only matters under bursts, but costs nothing.
		_ = u.SetReadBuffer(1 << 20)
	}
	return c.(Transport), nil
}
