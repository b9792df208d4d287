package memnet

import (
	"errors"
	"net"
	"testing"
)

func TestDatagrams(t *testing.T) {
	var n Network
	srv, err := n.Listen("srv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen("srv"); err == nil {
		t.Error("second Listen on the same address succeeded")
	}
	c1, _ := n.Dial("srv")
	c2, _ := n.Dial("srv")
	c1.Write([]byte("one"))
	c2.Write([]byte("two"))
	buf := make([]byte, 8)
	for _, want := range []struct {
		data string
		from net.Addr
	}{{"one", c1.LocalAddr()}, {"two", c2.LocalAddr()}} {
		k, from, err := srv.ReadFrom(buf)
		if err != nil || string(buf[:k]) != want.data || from != want.from {
			t.Fatalf("got %q from %v (%v), want %q from %v", buf[:k], from, err, want.data, want.from)
		}
	}
	srv.WriteTo([]byte("back"), c2.LocalAddr())
	if k, err := c2.Read(buf); err != nil || string(buf[:k]) != "back" {
		t.Fatalf("reply %q %v", buf[:k], err)
	}
	// A connected endpoint ignores datagrams from others.
	c3, _ := n.Dial("srv")
	c3.WriteTo([]byte("stray"), c1.LocalAddr())
	srv.WriteTo([]byte("mine"), c1.LocalAddr())
	if k, _ := c1.Read(buf); string(buf[:k]) != "mine" {
		t.Errorf("connected read got %q", buf[:k])
	}
	srv.Close()
	if _, _, err := srv.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if _, err := c1.Write([]byte("lost")); err != nil {
		t.Errorf("write to a departed peer should be lost silently, got %v", err)
	}
}

// The package's guarantees: copies, order, truncation, loss only at a full
// queue or a missing receiver, and an address free again once closed.
func TestGuarantees(t *testing.T) {
	var n Network
	srv, _ := n.Listen("srv")
	c, _ := n.Dial("srv")
	b := []byte("abc")
	c.Write(b)
	b[0] = 'X' // the datagram is a copy
	buf := make([]byte, 2)
	if k, _, _ := srv.ReadFrom(buf); string(buf[:k]) != "ab" {
		t.Errorf("short read got %q, want the datagram's first bytes %q", buf[:k], "ab")
	}
	for i := range queueLen + 10 {
		c.Write([]byte{byte(i), byte(i >> 8)})
	}
	for i := range queueLen {
		if k, _, _ := srv.ReadFrom(buf); k != 2 || int(buf[0])|int(buf[1])<<8 != i {
			t.Fatalf("datagram %d: got % x", i, buf[:k])
		}
	}
	srv.Close()
	again, err := n.Listen("srv")
	if err != nil {
		t.Fatalf("the address of a closed endpoint: %v", err)
	}
	c.Write([]byte("new"))
	buf = make([]byte, 8)
	// Nothing of what overflowed the old queue: the first is the new one.
	if k, _, _ := again.ReadFrom(buf); string(buf[:k]) != "new" {
		t.Errorf("got %q, want %q", buf[:k], "new")
	}
}
