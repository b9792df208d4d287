// Package memnet is an in-memory datagram network: the same bytes a UDP
// socket would carry, delivered through channels, so that a console and a
// simulated BMC (or a thousand of them) can talk real RMCP+ in one process,
// inside testing/synctest with fake time. A Conn is a net.PacketConn, and an
// endpoint made by Dial is also an ipmi.Transport, so ipmi.NewSession runs
// over it unchanged. Package fakebmctest serves simulated BMCs on it.
//
// Guarantees:
//
//   - Each Write or WriteTo sends one datagram, a copy of the bytes (the
//     caller may reuse its buffer), and each ReadFrom or Read returns one
//     whole datagram. A buffer too short for it gets its first bytes and the
//     rest is discarded, as with UDP.
//   - Datagrams from one endpoint to another arrive in the order they were
//     written (by one goroutine) and are never duplicated or changed.
//     Package impair adds loss, duplication, reordering and corruption.
//   - A datagram is lost, silently and with success reported to the writer,
//     as on UDP, only when nothing is at its address (never bound, or
//     closed) or the receiver already holds 1024 datagrams it has not read.
//   - memnet uses channels and mutexes only, no goroutines and no timers:
//     an endpoint made inside a testing/synctest bubble blocks durably in
//     ReadFrom, so the bubble's clock moves on while everyone waits for a
//     datagram. Such an endpoint belongs to its bubble and must not be used
//     from outside it.
//   - Deadlines are not supported (os.ErrNoDeadline); Close ends a blocked
//     ReadFrom with net.ErrClosed. A closed endpoint's address can be bound
//     again, as a rebooted BMC binds its port again.
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

// Network is one in-memory network: a namespace of addresses. The zero
// value is ready to use; it is safe for concurrent use.
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

// Listen returns an endpoint at addr, any string not in use on n (a BMC's
// name, "10.0.0.1:623": memnet gives it no meaning).
func (n *Network) Listen(addr string) (*Conn, error) { return n.add(Addr(addr), "") }

// Dial returns a new endpoint, at an address of its own ("client-N"),
// connected to addr: Write sends there and Read returns only what comes from
// there. Nothing need listen at addr yet; what is written to it until then
// is lost.
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
