package impair

import (
	"bytes"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/memnet"
)

func pair(t *testing.T, cfg Config) (*Conn, *memnet.Conn) {
	t.Helper()
	var n memnet.Network
	a, err := n.Listen("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Dial("a")
	if err != nil {
		t.Fatal(err)
	}
	return Wrap(a, cfg), b
}

func TestFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := pair(t, Config{Drop: 1})
		c.WriteTo([]byte("x"), peer.LocalAddr())
		peer.Write([]byte("y"))
		peer.Write([]byte("z"))
		got := make(chan string)
		go func() {
			b := make([]byte, 8)
			n, _, _ := c.ReadFrom(b)
			got <- string(b[:n])
		}()
		synctest.Wait()
		c.SetConfig(Config{})
		peer.Write([]byte("w"))
		if s := <-got; s != "w" {
			t.Errorf("read %q through a dropping conn", s)
		}
		if got := c.Stats().Dropped; got != 3 {
			t.Errorf("dropped %d, want 3 (one sent, two received)", got)
		}

		c.SetConfig(Config{Duplicate: 1})
		c.WriteTo([]byte("dup"), peer.LocalAddr())
		buf := make([]byte, 16)
		for range 2 {
			n, err := peer.Read(buf)
			if err != nil || string(buf[:n]) != "dup" {
				t.Fatalf("duplicate: %q %v", buf[:n], err)
			}
		}

		c.SetConfig(Config{Corrupt: 1})
		c.WriteTo([]byte("clean"), peer.LocalAddr())
		n, _ := peer.Read(buf)
		if bytes.Equal(buf[:n], []byte("clean")) || n != 5 {
			t.Errorf("corrupt: %q unchanged", buf[:n])
		}

		c.SetConfig(Config{Reorder: 1, ReorderHold: time.Second})
		c.WriteTo([]byte("first"), peer.LocalAddr())
		c.SetConfig(Config{})
		c.WriteTo([]byte("second"), peer.LocalAddr())
		for _, want := range []string{"second", "first"} {
			n, _ := peer.Read(buf)
			if string(buf[:n]) != want {
				t.Errorf("reorder: got %q, want %q", buf[:n], want)
			}
		}

		c.SetConfig(Config{Delay: time.Second})
		start := time.Now()
		c.WriteTo([]byte("late"), peer.LocalAddr())
		peer.Read(buf)
		if d := time.Since(start); d != time.Second {
			t.Errorf("delay %v", d)
		}

		c.SetConfig(Config{})
		c.SetSilent(true)
		c.WriteTo([]byte("silent"), peer.LocalAddr())
		c.SetSilent(false)
		c.WriteTo([]byte("heard"), peer.LocalAddr())
		n, _ = peer.Read(buf)
		if string(buf[:n]) != "heard" {
			t.Errorf("silent: got %q", buf[:n])
		}
		c.Close()
		peer.Close()
	})
}

func TestSeedRepeats(t *testing.T) {
	run := func() []bool {
		c := Wrap(nil, Config{Drop: 0.5, Seed: 42})
		var out []bool
		for range 64 {
			out = append(out, c.write.chance(0.5))
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed gave different faults")
		}
	}
}

// WrapEach impairs each direction with its own faults: here every datagram
// read is dropped and none written, then the other way round.
func TestWrapEachDirections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n memnet.Network
		a, _ := n.Listen("a")
		peer, _ := n.Dial("a")
		c := WrapEach(a, Config{Drop: 1}, Config{})
		defer c.Close()
		defer peer.Close()
		buf := make([]byte, 16)
		c.WriteTo([]byte("out"), peer.LocalAddr())
		if k, err := peer.Read(buf); err != nil || string(buf[:k]) != "out" {
			t.Fatalf("written with a clean write direction: %q %v", buf[:k], err)
		}
		got := make(chan string, 1)
		go func() {
			k, _, _ := c.ReadFrom(buf)
			got <- string(buf[:k])
		}()
		peer.Write([]byte("lost"))
		synctest.Wait()
		if c.Stats().Dropped != 1 {
			t.Fatalf("dropped %d datagrams read, want 1", c.Stats().Dropped)
		}
		c.SetReadConfig(Config{})
		c.SetWriteConfig(Config{Drop: 1})
		peer.Write([]byte("heard"))
		if s := <-got; s != "heard" {
			t.Errorf("read %q once reads are clean, want %q", s, "heard")
		}
		c.WriteTo([]byte("dropped"), peer.LocalAddr())
		c.SetWriteConfig(Config{})
		c.WriteTo([]byte("after"), peer.LocalAddr())
		if k, _ := peer.Read(buf); string(buf[:k]) != "after" {
			t.Errorf("peer read %q, want the write after the dropping one", buf[:k])
		}
		if c.Stats().Dropped != 2 {
			t.Errorf("dropped %d, want 2", c.Stats().Dropped)
		}
	})
}

// With WrapEach, the faults of one direction depend only on its own
// datagrams: traffic the other way does not change which are dropped.
func TestWrapEachDirectionsAreIndependent(t *testing.T) {
	writes := func(reads int) []bool {
		c := WrapEach(nil, Config{Drop: 0.5, Seed: 1}, Config{Drop: 0.5, Seed: 2})
		var out []bool
		for i := range 64 {
			if i < reads {
				c.read.chance(c.read.cfg.Drop)
			}
			out = append(out, c.write.chance(c.write.cfg.Drop))
		}
		return out
	}
	a, b := writes(0), writes(64)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("write %d: reads changed the faults of writes", i)
		}
	}
	// Wrap shares one generator: there, reads do change them.
	c := Wrap(nil, Config{Drop: 0.5, Seed: 2})
	if c.read.rng != c.write.rng {
		t.Error("Wrap gave the directions generators of their own")
	}
}

// discardConn takes datagrams and keeps nothing.
type discardConn struct{ net.PacketConn }

func (discardConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }

// Without faults a Conn passes the caller's buffer on: no copy per datagram
// (a fakebmctest BMC always has one, and benchmarks count allocations).
func TestCleanWriteDoesNotCopy(t *testing.T) {
	c := Wrap(discardConn{}, Config{Seed: 1})
	b := make([]byte, 300)
	if n := testing.AllocsPerRun(100, func() { c.WriteTo(b, nil) }); n != 0 {
		t.Errorf("%v allocations per clean write, want 0", n)
	}
}

// A datagram held back or delayed is a copy: the caller reuses its buffer
// at once.
func TestHeldDatagramsAreCopies(t *testing.T) {
	for _, cfg := range []Config{{Reorder: 1, ReorderHold: time.Second}, {Delay: time.Second}} {
		synctest.Test(t, func(t *testing.T) {
			c, peer := pair(t, cfg)
			defer c.Close()
			defer peer.Close()
			b := []byte("first")
			c.WriteTo(b, peer.LocalAddr())
			copy(b, "XXXXX")
			buf := make([]byte, 16)
			if n, _ := peer.Read(buf); string(buf[:n]) != "first" {
				t.Errorf("%+v: got %q, want what was written", cfg, buf[:n])
			}
		})
	}
}
