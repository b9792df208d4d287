package serve

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// quickAcker returns what sets TCP_QUICKACK on c (tcp(7): the flag is
// not permanent, so it is set again after each read; setting it also
// sends an ACK that is pending), or nil for a connection that is not TCP.
func quickAcker(c net.Conn) func() {
	tc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	if _, ok := c.(*net.TCPConn); !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	set := func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1) }
	return func() { _ = rc.Control(set) }
}
