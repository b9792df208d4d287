// Package memnet is an in-memory datagram network: the same bytes a UDP
// socket would carry, delivered through channels, so tests can run under
// testing/synctest with fake time. Like UDP, a datagram sent to a full or
// missing receiver is lost.
package memnet

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// Addr is a memnet address.
type Addr string

// Network implements net.Addr.
func (a Addr) Network() string { return "memnet" }
func (a Addr) String() string  { return string(a) }

// Network is one in-memory network; the zero value is ready to use.
type Network struct {
	mu    sync.Mutex
	conns map[Addr]*Conn
	next  int
}

type datagram struct {
	b    []byte
	from Addr
}

// Conn is an endpoint. It implements net.PacketConn, and, when made by Dial,
// Read, Write and RemoteAddr for its peer.
type Conn struct {
	net   *Network
	local Addr
	peer  Addr
	in    chan datagram
	done  chan struct{}
	once  sync.Once
}

// ErrClosed is returned by operations on a closed Conn.
var ErrClosed = net.ErrClosed

const queueLen = 1024

func (n *Network) add(addr Addr, peer Addr) (*Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conns == nil {
		n.conns = map[Addr]*Conn{}
	}
	if addr == "" {
		n.next++
		addr = Addr(fmt.Sprintf("client-%d", n.next))
	}
	if _, ok := n.conns[addr]; ok {
		return nil, fmt.Errorf("memnet: %s: address in use", addr)
	}
	c := &Conn{net: n, local: addr, peer: peer, in: make(chan datagram, queueLen), done: make(chan struct{})}
	n.conns[addr] = c
	return c, nil
}

// Listen returns an endpoint at addr.
func (n *Network) Listen(addr string) (*Conn, error) { return n.add(Addr(addr), "") }

// Dial returns a new endpoint connected to addr.
func (n *Network) Dial(addr string) (*Conn, error) { return n.add("", Addr(addr)) }

func (n *Network) deliver(to Addr, d datagram) {
	n.mu.Lock()
	c := n.conns[to]
	n.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case c.in <- d:
	case <-c.done:
	default: // receiver's queue full: lost
	}
}

// ReadFrom implements net.PacketConn.
func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(p, d.b), d.from, nil
	case <-c.done:
		return 0, nil, ErrClosed
	}
}

// WriteTo implements net.PacketConn.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.done:
		return 0, ErrClosed
	default:
	}
	c.net.deliver(Addr(addr.String()), datagram{b: append([]byte(nil), b...), from: c.local})
	return len(b), nil
}

// Read reads the next datagram from the peer.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		n, from, err := c.ReadFrom(p)
		if err != nil || from.String() == string(c.peer) {
			return n, err
		}
	}
}

// Write sends a datagram to the peer.
func (c *Conn) Write(b []byte) (int, error) {
	if c.peer == "" {
		return 0, errors.New("memnet: not connected")
	}
	return c.WriteTo(b, c.peer)
}

// Close implements net.PacketConn.
func (c *Conn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.net.mu.Lock()
		delete(c.net.conns, c.local)
		c.net.mu.Unlock()
	})
	return nil
}

// LocalAddr implements net.PacketConn.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.peer }

// SetDeadline is not supported: tests use synctest and Close instead.
func (c *Conn) SetDeadline(time.Time) error { return os.ErrNoDeadline }

// SetReadDeadline is not supported.
func (c *Conn) SetReadDeadline(time.Time) error { return os.ErrNoDeadline }

// SetWriteDeadline is not supported.
func (c *Conn) SetWriteDeadline(time.Time) error { return os.ErrNoDeadline }
