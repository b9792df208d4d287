package fakebmc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// openPTY opens a pseudo-terminal master with posix_openpt(2), a system
// call on FreeBSD (grantpt and unlockpt have nothing to do there, see
// pts(4)), and names its slave from TIOCGPTN.
func openPTY() (*os.File, string, error) {
	fd, _, e := unix.Syscall(unix.SYS_POSIX_OPENPT, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC), 0, 0)
	if e != 0 {
		return nil, "", fmt.Errorf("posix_openpt: %w", e)
	}
	// Non-blocking, so that os.NewFile hands it to the poller and Close
	// ends a Read in progress (PTYHost.Run relies on that).
	if err := unix.SetNonblock(int(fd), true); err != nil {
		unix.Close(int(fd))
		return nil, "", fmt.Errorf("posix_openpt: %w", err)
	}
	m := os.NewFile(fd, "/dev/ptmx")
	n, err := unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("number: %w", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n), nil
}
