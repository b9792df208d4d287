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
