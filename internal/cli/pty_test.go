//go:build linux

package cli

import (
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/internal/testenv"

	"golang.org/x/sys/unix"
)

// pty is a pseudo-terminal: the test plays the user on the master, the
// program runs on the slave.
type pty struct {
	master *os.File // non-blocking, in the runtime poller: Close ends a Read
	slave  *os.File
	screen *watchBuf // everything the program wrote to the terminal
	rdone  chan struct{}
}

// openPTY allocates a pseudo-terminal and starts copying what appears on
// it into screen. Cleanup closes both ends.
func openPTY(t *testing.T) *pty {
	t.Helper()
	// Opened non-blocking and wrapped with os.NewFile so reads go through the
	// poller (calling Fd() on an *os.File would make it blocking, and Close
	// would then not interrupt the reader).
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("ptsname: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open slave: %v", err)
	}
	p := &pty{master: master, slave: slave, screen: newWatchBuf(), rdone: make(chan struct{})}
	go func() {
		defer close(p.rdone)
		_, _ = io.Copy(p.screen, p.master)
	}()
	t.Cleanup(func() {
		p.slave.Close()
		p.master.Close()
		select {
		case <-p.rdone:
		case <-time.After(5 * time.Second):
			t.Errorf("pty reader did not stop")
		}
	})
	return p
}

// termios returns the slave's terminal modes.
func (p *pty) termios(t *testing.T) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("TCGETS: %v", err)
	}
	return tio
}

// typeKeys writes to the terminal as the user.
func (p *pty) typeKeys(t *testing.T, s string) {
	t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		t.Fatalf("typing %q: %v", s, err)
	}
}

// sameModes fails unless the terminal modes are exactly as before.
func sameModes(t *testing.T, before, after *unix.Termios) {
	t.Helper()
	if before.Iflag != after.Iflag || before.Oflag != after.Oflag || before.Cflag != after.Cflag ||
		before.Lflag != after.Lflag || before.Cc != after.Cc {
		t.Errorf("terminal modes not restored:\nbefore iflag %#o oflag %#o cflag %#o lflag %#o cc %v\nafter  iflag %#o oflag %#o cflag %#o lflag %#o cc %v",
			before.Iflag, before.Oflag, before.Cflag, before.Lflag, before.Cc,
			after.Iflag, after.Oflag, after.Cflag, after.Lflag, after.Cc)
	}
}
