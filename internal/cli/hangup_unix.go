//go:build unix

package cli

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// watchHangup reports on the returned channel when f's reader goes away,
// found without writing: poll(2) reports POLLERR on a pipe with no reader
// and POLLHUP on a socket or pty whose other side is closed, whatever the
// events asked for. A program that writes learns this from EPIPE; one that
// has nothing to write (--keep-open under a console server whose BMC is
// gone) learns it here. Files and devices that poll(2) has nothing to say
// about are never reported. stop ends the watch; the channel is then never
// written.
func watchHangup(f *os.File) (gone <-chan struct{}, stop func()) {
	c := make(chan struct{}, 1)
	none := func() {}
	rc, err := f.SyscallConn()
	if err != nil {
		return c, none
	}
	// A duplicate: polling it for as long as the program runs must not hold
	// (or change the mode of) f's own descriptor.
	fd := -1
	if cerr := rc.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); cerr != nil || err != nil {
		return c, none
	}
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		unix.Close(fd)
		return c, none
	}
	go func() {
		defer unix.Close(fd)
		defer wakeR.Close()
		fds := []unix.PollFd{{Fd: int32(fd)}, {Fd: int32(wakeR.Fd()), Events: unix.POLLIN}}
		for {
			fds[0].Revents, fds[1].Revents = 0, 0
			_, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if err == nil && fds[1].Revents == 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				c <- struct{}{}
			}
			// Anything else (stop, an error, a descriptor poll(2) cannot
			// watch) ends the watch: it never spins.
			return
		}
	}()
	var once sync.Once
	return c, func() { once.Do(func() { wakeW.Close() }) }
}
