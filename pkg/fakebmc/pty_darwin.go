package fakebmc

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// openPTY opens a pseudo-terminal master and returns it with the path of
// its slave. macOS has /dev/ptmx with the grant and unlock steps of
// grantpt(3) and unlockpt(3) as ioctls, and TIOCPTYGNAME, which fills a
// 128-byte buffer with the slave's path (ptsname(3)).
func openPTY() (*os.File, string, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, "", err
	}
	fd := m.Fd()
	if err := ioctl(fd, unix.TIOCPTYGRANT, 0); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("grant: %w", err)
	}
	if err := ioctl(fd, unix.TIOCPTYUNLK, 0); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("unlock: %w", err)
	}
	var name [128]byte
	if err := ioctl(fd, unix.TIOCPTYGNAME, uintptr(unsafe.Pointer(&name[0]))); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("name: %w", err)
	}
	path, _, _ := bytes.Cut(name[:], []byte{0})
	return m, string(path), nil
}

func ioctl(fd, req, arg uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg); e != 0 {
		return e
	}
	return nil
}
