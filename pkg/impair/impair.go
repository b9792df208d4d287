// Package impair makes a datagram socket behave like a bad network: it
// wraps a net.PacketConn to drop, duplicate, reorder, delay and corrupt the
// datagrams that pass through it, or to go silent. It is how ghmicons is
// tried against lossy links: in tests (around a pkg/memnet endpoint or a
// UDP socket, usually through package fakebmctest), in the simulated BMC's
// fault flags (cmd/fakebmc --drop, --duplicate, ...) and in the benchmark's
// impairment proxy.
//
// Guarantees:
//
//   - Faults are drawn from a generator seeded with Config.Seed, so a run
//     can be repeated: the same seed and the same sequence of datagrams give
//     the same faults. Wrap draws for both directions from one generator, so
//     the sequence also depends on how reads and writes interleave; WrapEach
//     gives each direction a generator of its own, so that the faults on
//     one direction depend only on the datagrams of that direction.
//   - A probability of 0 draws nothing: a Conn without faults passes every
//     datagram unchanged and in order, and the generator moves only while
//     some fault is on.
//   - A fault never reports an error: a dropped write reports success, as a
//     lossy network would; errors are those of the wrapped conn.
//   - Datagrams written are copied: the caller may reuse its buffer at once,
//     even for a datagram held back (Reorder) or delayed (Delay).
//   - A Conn is safe for concurrent use, like the conn it wraps. Timers
//     (Delay, ReorderHold) are ordinary time timers, so under
//     testing/synctest they run on the bubble's fake clock.
package impair

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Config gives the probability of each fault per datagram (0–1) and a fixed
// delay. Drop, Duplicate and Corrupt apply to datagrams read and written;
// Reorder, ReorderHold and Delay to datagrams written only.
type Config struct {
	Drop      float64
	Duplicate float64
	Reorder   float64 // hold a written datagram back until the next one is written (or ReorderHold passes)
	Corrupt   float64 // flip one random bit
	Delay     time.Duration
	// ReorderHold bounds how long a held datagram waits; 0 means 20 ms.
	ReorderHold time.Duration
	// Seed seeds the fault generator (Wrap, WrapEach); SetConfig ignores it.
	Seed uint64
}

// Stats counts faults applied.
type Stats struct {
	Dropped, Duplicated, Reordered, Corrupted uint64
}

// Conn is an impaired net.PacketConn.
type Conn struct {
	net.PacketConn

	mu     sync.Mutex // guards everything below
	read   direction  // datagrams read from the wrapped conn
	write  direction  // datagrams written to it
	silent bool
	dup    []byte // a datagram to read again
	dupAt  net.Addr
	held   *heldPacket
	stats  Stats
}

// direction is the faults of one direction and the generator they are drawn
// from (shared by both directions after Wrap).
type direction struct {
	cfg Config
	rng *rand.Rand
}

func (d *direction) chance(p float64) bool { return p > 0 && d.rng.Float64() < p }

type heldPacket struct {
	b     []byte
	addr  net.Addr
	timer *time.Timer
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15)) }

// Wrap impairs pc with cfg both ways, drawing from one generator seeded with
// cfg.Seed.
func Wrap(pc net.PacketConn, cfg Config) *Conn {
	rng := newRand(cfg.Seed)
	return &Conn{PacketConn: pc, read: direction{cfg, rng}, write: direction{cfg, rng}}
}

// WrapEach impairs the datagrams read from pc with read and those written to
// it with write, each direction drawing from a generator of its own (seeded
// with read.Seed and write.Seed): a lossy uplink and a clean downlink, say.
// read's Reorder, ReorderHold and Delay are not used.
func WrapEach(pc net.PacketConn, read, write Config) *Conn {
	return &Conn{PacketConn: pc, read: direction{read, newRand(read.Seed)}, write: direction{write, newRand(write.Seed)}}
}

// SetConfig changes the faults of both directions from now on (the
// generators keep their state; cfg.Seed is not used).
func (c *Conn) SetConfig(cfg Config) {
	c.mu.Lock()
	c.read.cfg, c.write.cfg = cfg, cfg
	c.mu.Unlock()
}

// SetReadConfig changes the faults of datagrams read from now on.
func (c *Conn) SetReadConfig(cfg Config) {
	c.mu.Lock()
	c.read.cfg = cfg
	c.mu.Unlock()
}

// SetWriteConfig changes the faults of datagrams written from now on.
func (c *Conn) SetWriteConfig(cfg Config) {
	c.mu.Lock()
	c.write.cfg = cfg
	c.mu.Unlock()
}

// SetSilent drops every datagram both ways while on.
func (c *Conn) SetSilent(on bool) {
	c.mu.Lock()
	c.silent = on
	c.mu.Unlock()
}

// Stats returns the faults applied so far.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Conn) corrupt(d *direction, b []byte) {
	if len(b) > 0 {
		i := d.rng.IntN(len(b) * 8)
		b[i/8] ^= 1 << (i % 8)
		c.stats.Corrupted++
	}
}

// ReadFrom reads the next datagram that survives the faults.
func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		if c.dup != nil {
			n := copy(p, c.dup)
			addr := c.dupAt
			c.dup = nil
			c.mu.Unlock()
			return n, addr, nil
		}
		c.mu.Unlock()
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		c.mu.Lock()
		switch {
		case c.silent:
			c.mu.Unlock()
			continue
		case c.read.chance(c.read.cfg.Drop):
			c.stats.Dropped++
			c.mu.Unlock()
			continue
		}
		if c.read.chance(c.read.cfg.Corrupt) {
			c.corrupt(&c.read, p[:n])
		}
		if c.read.chance(c.read.cfg.Duplicate) {
			c.dup = append([]byte(nil), p[:n]...)
			c.dupAt = addr
			c.stats.Duplicated++
		}
		c.mu.Unlock()
		return n, addr, nil
	}
}

// WriteTo writes b subject to the faults; a dropped datagram still reports
// success, as a lossy network would.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.silent {
		return len(b), nil
	}
	w := &c.write
	if w.chance(w.cfg.Drop) {
		c.stats.Dropped++
		return len(b), nil
	}
	// The caller's buffer goes on as it is unless it is to be changed or
	// kept (corrupted, held back, delayed): a clean Conn costs no copy.
	pkt, owned := b, false
	own := func() {
		if !owned {
			pkt, owned = append([]byte(nil), b...), true
		}
	}
	if w.chance(w.cfg.Corrupt) {
		own()
		c.corrupt(w, pkt)
	}
	copies := 1
	if w.chance(w.cfg.Duplicate) {
		copies = 2
		c.stats.Duplicated++
	}
	if c.held == nil && w.chance(w.cfg.Reorder) {
		hold := w.cfg.ReorderHold
		if hold <= 0 {
			hold = 20 * time.Millisecond
		}
		own()
		h := &heldPacket{b: pkt, addr: addr}
		h.timer = time.AfterFunc(hold, func() { c.flushHeld(h) })
		c.held = h
		c.stats.Reordered++
		return len(b), nil
	}
	if w.cfg.Delay > 0 {
		own()
	}
	for range copies {
		c.send(pkt, addr)
	}
	if h := c.held; h != nil {
		c.held = nil
		h.timer.Stop()
		c.send(h.b, h.addr)
	}
	return len(b), nil
}

func (c *Conn) flushHeld(h *heldPacket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == h {
		c.held = nil
		c.send(h.b, h.addr)
	}
}

// send writes now or after the configured delay; c.mu is held.
func (c *Conn) send(b []byte, addr net.Addr) {
	if d := c.write.cfg.Delay; d > 0 {
		time.AfterFunc(d, func() { _, _ = c.PacketConn.WriteTo(b, addr) })
		return
	}
	_, _ = c.PacketConn.WriteTo(b, addr)
}
