//go:build linux || darwin || freebsd

package fakebmc

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// PTYHost creates a pseudo-terminal whose other end is the host side of the
// serial line: a program that opens Path() (a getty, `cat`, a script) is the
// host.
type PTYHost struct {
	master *os.File
	slave  *os.File
	path   string
}

// NewPTYHost allocates the pseudo-terminal. The slave is kept open (so the
// line survives programs that come and go) and in raw mode (binary-clean).
func NewPTYHost() (*PTYHost, error) {
	m, path, err := openPTY()
	if err != nil {
		return nil, fmt.Errorf("fakebmc: pty host: %w", err)
	}
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("fakebmc: pty host: %w", err)
	}
	if t, err := unix.IoctlGetTermios(int(s.Fd()), ioctlGetTermios); err == nil {
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		_ = unix.IoctlSetTermios(int(s.Fd()), ioctlSetTermios, t)
	}
	return &PTYHost{master: m, slave: s, path: path}, nil
}

// Path is the slave device the host program opens.
func (h *PTYHost) Path() string { return h.path }

// Run implements Host.
func (h *PTYHost) Run(line *Line, done <-chan struct{}) {
	go func() {
		<-done
		h.master.Close()
		h.slave.Close()
	}()
	go func() { _, _ = io.Copy(h.master, readerFunc(line.Read)) }()
	_, _ = io.Copy(line, h.master)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }
