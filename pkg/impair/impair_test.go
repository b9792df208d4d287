package impair

import (
	"bytes"
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
			out = append(out, c.chance(0.5))
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
