// Package impair wraps a net.PacketConn to drop, duplicate, reorder, delay
// and corrupt datagrams, or to go silent, for tests, benchmarks and the
// impairment proxy. Faults are drawn from a seeded generator, so a run can be
// repeated.
package impair

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Config gives the probability of each fault per datagram (0–1) and a fixed
// delay. Faults apply independently to datagrams read and written.
type Config struct {
	Drop      float64
	Duplicate float64
	Reorder   float64 // hold a written datagram back until the next one is written (or ReorderHold passes)
	Corrupt   float64 // flip one random bit
	Delay     time.Duration
	// ReorderHold bounds how long a held datagram waits; 0 means 20 ms.
	ReorderHold time.Duration
	Seed        uint64
}

// Stats counts faults applied.
type Stats struct {
	Dropped, Duplicated, Reordered, Corrupted uint64
}

// Conn is an impaired net.PacketConn.
type Conn struct {
	net.PacketConn

	mu     sync.Mutex // guards everything below
	cfg    Config
	rng    *rand.Rand
	silent bool
	dup    []byte // a datagram to read again
	dupAt  net.Addr
	held   *heldPacket
	stats  Stats
}

type heldPacket struct {
	b     []byte
	addr  net.Addr
	timer *time.Timer
}

// Wrap impairs pc with cfg.
func Wrap(pc net.PacketConn, cfg Config) *Conn {
	return &Conn{PacketConn: pc, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9E3779B97F4A7C15))}
}

// SetConfig changes the faults from now on (the generator keeps its state).
func (c *Conn) SetConfig(cfg Config) {
	c.mu.Lock()
	c.cfg = cfg
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

func (c *Conn) chance(p float64) bool { return p > 0 && c.rng.Float64() < p }

func (c *Conn) corrupt(b []byte) {
	if len(b) > 0 {
		i := c.rng.IntN(len(b) * 8)
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
		case c.chance(c.cfg.Drop):
			c.stats.Dropped++
			c.mu.Unlock()
			continue
		}
		if c.chance(c.cfg.Corrupt) {
			c.corrupt(p[:n])
		}
		if c.chance(c.cfg.Duplicate) {
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
	if c.chance(c.cfg.Drop) {
		c.stats.Dropped++
		return len(b), nil
	}
	pkt := append([]byte(nil), b...)
	if c.chance(c.cfg.Corrupt) {
		c.corrupt(pkt)
	}
	copies := 1
	if c.chance(c.cfg.Duplicate) {
		copies = 2
		c.stats.Duplicated++
	}
	if c.held == nil && c.chance(c.cfg.Reorder) {
		hold := c.cfg.ReorderHold
		if hold <= 0 {
			hold = 20 * time.Millisecond
		}
		h := &heldPacket{b: pkt, addr: addr}
		h.timer = time.AfterFunc(hold, func() { c.flushHeld(h) })
		c.held = h
		c.stats.Reordered++
		return len(b), nil
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
	if c.cfg.Delay > 0 {
		time.AfterFunc(c.cfg.Delay, func() { _, _ = c.PacketConn.WriteTo(b, addr) })
		return
	}
	_, _ = c.PacketConn.WriteTo(b, addr)
}
