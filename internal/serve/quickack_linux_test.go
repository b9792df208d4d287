package serve

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestQuickAckAfterRead: the server side of an SSH connection is in quick
// ACK mode after each read (the client's next small write, held back by
// Nagle's algorithm until this ACK, goes at once).
func TestQuickAckAfterRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	qc := newQuickAckConn(sc)
	if _, ok := qc.(*quickAckConn); !ok {
		t.Fatalf("a TCP connection is not wrapped: %T", qc)
	}
	quick := func() int {
		rc, err := sc.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK) }); err != nil {
			t.Fatal(err)
		}
		if gerr != nil {
			t.Fatal(gerr)
		}
		return v
	}
	buf := make([]byte, 64)
	for i := range 3 {
		// The server answers, as SSH does: that is what makes Linux
		// delay its ACKs (pingpong mode) without the flag.
		if _, err := qc.Write([]byte("banner")); err != nil {
			t.Fatal(err)
		}
		if _, err := cc.Write([]byte("kexinit")); err != nil {
			t.Fatal(err)
		}
		if _, err := qc.Read(buf); err != nil {
			t.Fatal(err)
		}
		if q := quick(); q != 1 {
			t.Fatalf("read %d: TCP_QUICKACK = %d after the read, want 1", i, q)
		}
		if _, err := cc.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if c := newQuickAckConn(&net.UnixConn{}); c == nil {
		t.Fatal("nil")
	} else if _, ok := c.(*quickAckConn); ok {
		t.Fatal("a connection that is not TCP is wrapped")
	}
}
