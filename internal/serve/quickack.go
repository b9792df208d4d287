package serve

import (
	"net"
	"sync/atomic"
)

// quickAckConn acknowledges what it reads at once (TCP_QUICKACK, where
// there is one) instead of after the receiver's delayed-ACK timer.
//
// Why: the OpenSSH client leaves Nagle's algorithm on for sessions
// without a terminal and for the whole key exchange, so a small write of
// its waits for the ACK of the one before. The SSH handshake has two such
// places where the server has nothing to say back (after the client's
// KEXINIT, before its KEX_ECDH_INIT; after its NEWKEYS, before its
// SERVICE_REQUEST): with Linux's delayed ACK each cost ~40 ms, about
// 80 ms of a fresh `ssh`'s ~105 ms to the first replayed byte on
// loopback. Acknowledging at once removes both; the cost is one
// setsockopt per read, during the handshake only (handshakeDone): after it
// the SSH session's replies carry the ACKs, and a keystroke costs no extra
// system call.
type quickAckConn struct {
	net.Conn
	quickAck func() // re-arms quick ACKs: the kernel may leave the mode
	done     atomic.Bool
}

// handshakeDone ends the quick ACKs of c (a no-op on other connections).
func handshakeDone(c net.Conn) {
	if q, ok := c.(*quickAckConn); ok {
		q.done.Store(true)
	}
}

func newQuickAckConn(c net.Conn) net.Conn {
	f := quickAcker(c)
	if f == nil {
		return c
	}
	f()
	return &quickAckConn{Conn: c, quickAck: f}
}

func (c *quickAckConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.done.Load() {
		c.quickAck()
	}
	return n, err
}
