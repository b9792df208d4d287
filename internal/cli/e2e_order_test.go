//go:build unix

package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
)

// Under a console server (conserver's "type exec"), ghmicons's stdout and
// stderr are one pipe. The notes on the stream must be where they happened
// in the output, each on a line of its own: "connected" and "reconnected"
// before the output the BMC had kept for the console (it once raced that
// output and, now and then, split a host line: "n067" / note / "2 27"),
// "connection lost" after the output that came before the loss, however
// far behind the pipe's reader is. So: several consoles, each attached,
// then reconnected twice after its BMC restarts, with host output waiting
// every time; the console server does not read the pipe during the first
// two connections (its log, a FIFO, says when ghmicons has had all their
// output), then reads it all.
func TestE2ENotesInPlaceOnOnePipe(t *testing.T) {
	const consoles, connections, lines, paused = 3, 3, 1500, 2
	bmcs := make([]*fakebmctest.BMC, consoles)
	hosts := make([]lineHost, consoles)
	for c := range bmcs {
		hosts[c] = lineHost{lines: make(chan *fakebmc.Line, 1)}
		bmcs[c] = fakebmctest.New(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: hosts[c], OutputBuffer: 1 << 20}},
			fakebmctest.UDP(""))
	}
	hostLine := func(c, conn, i int) string {
		return fmt.Sprintf("n%03d connection %d line %04d: 2 27 the host's boot output\r\n", c, conn, i)
	}
	lastLine := func(c, conn int) string { return strings.TrimSuffix(hostLine(c, conn, lines-1), "\r\n") }
	// queue writes a connection's host output while no console is attached:
	// the BMC keeps it and sends it at activation.
	queue := func(c, conn int) {
		var b strings.Builder
		for i := range lines {
			b.WriteString(hostLine(c, conn, i))
		}
		line := <-hosts[c].lines // the serial line of the BMC now serving
		if _, err := line.Write([]byte(b.String())); err != nil {
			t.Fatalf("console %d: host output: %v", c, err)
		}
	}
	type console struct {
		p    *proc
		out  *watchBuf // stdout and stderr, as the console server reads them
		read func()    // starts reading them
		log  *watchBuf
	}
	cons := make([]console, consoles)
	for c := range consoles {
		queue(c, 0)
		cn := &cons[c]
		logPath := filepath.Join(t.TempDir(), "log")
		cn.log = readFIFO(t, logPath)
		cn.p, cn.out, cn.read = startOnOnePipe(t, attachArgs(bmcs[c].Addr, "-e", "none", "--reconnect", "--keep-open",
			"--keepalive", "1s", "--timeout", "200ms", "--retries", "1", "--log", logPath)...)
	}
	for conn := range connections {
		if conn == paused {
			for _, cn := range cons {
				cn.read()
			}
		}
		for c, cn := range cons {
			what := fmt.Sprintf("console %d, connection %d", c, conn)
			if conn < paused {
				cn.log.waitFor(t, what+" (log)", lastLine(c, conn), long)
			} else {
				cn.out.waitFor(t, what, lastLine(c, conn), long)
			}
		}
		if conn == connections-1 {
			break
		}
		for c := range cons {
			bmcs[c].Restart(t) // every session gone; the host goes on writing
			queue(c, conn+1)
		}
	}
	for c, cn := range cons {
		cn.p.signal(t, syscall.SIGTERM)
		if code := cn.p.wait(t, short); code != ExitSignal {
			t.Errorf("console %d: exit status %d after SIGTERM, want %d\n%s", c, code, ExitSignal, quoteTail(cn.out.Bytes()))
		}
		checkNotesInPlace(t, c, cn.out.String(), connections, lines, hostLine)
	}
}

// readFIFO makes a FIFO at path and collects what is written to it.
func readFIFO(t *testing.T, path string) *watchBuf {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read and write: the open does not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := newWatchBuf()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(b, f)
		close(done)
	}()
	t.Cleanup(func() {
		f.Close()
		<-done
	})
	return b
}

// lineHost is a host that hands its serial line to the test each time a
// BMC starts it (again after a restart) and writes what the test writes.
type lineHost struct{ lines chan *fakebmc.Line }

func (h lineHost) Run(line *fakebmc.Line, done <-chan struct{}) {
	select {
	case h.lines <- line:
	case <-done:
	}
	<-done
}

// checkNotesInPlace checks one console's output: only whole lines, each a
// host line or a note; each connection's note before all its host lines,
// which come in order.
func checkNotesInPlace(t *testing.T, c int, out string, connections, lines int, hostLine func(c, conn, i int) string) {
	t.Helper()
	conn, next := -1, 0 // the connection whose note came last, its next host line
	for _, l := range strings.SplitAfter(out, "\n") {
		switch {
		case l == "":
		case strings.HasPrefix(l, "ghmicons: connected to "), strings.HasPrefix(l, "ghmicons: reconnected to "):
			if conn >= 0 && next != lines {
				t.Errorf("console %d: a connection note after %d of %d lines of connection %d:\n%s", c, next, lines, conn, out)
				return
			}
			conn, next = conn+1, 0
		case strings.HasPrefix(l, "ghmicons: "):
			// connection lost, reconnecting, disconnected
			if !strings.HasSuffix(l, "\n") || strings.Count(l, "ghmicons: ") != 1 {
				t.Errorf("console %d: note %q is not a line of its own:\n%s", c, l, out)
				return
			}
		case conn < 0:
			t.Errorf("console %d: host output %q before the connected note:\n%s", c, l, out)
			return
		case next < lines && l == hostLine(c, conn, next):
			next++
		default:
			t.Errorf("console %d: line %q is neither a whole host line (want %q) nor a note:\n%s", c, l,
				hostLine(c, conn, min(next, lines-1)), out)
			return
		}
	}
	if conn != connections-1 || next != lines {
		t.Errorf("console %d: %d connections with their notes, %d lines of the last, want %d and %d:\n%s",
			c, conn+1, next, connections, lines, out)
	}
}

// startOnOnePipe runs ghmicons as a console server does: stdout and stderr
// are the same pipe, read into out once read is called; stdin is a pipe
// left open.
func startOnOnePipe(t *testing.T, args ...string) (p *proc, out *watchBuf, read func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ghmiconsBin, args...)
	cmd.Env = ghmiconsEnv("password")
	cmd.Stdout, cmd.Stderr = w, w
	p = &proc{cmd: cmd, done: make(chan struct{})}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out = newWatchBuf()
	start, copied := make(chan struct{}), make(chan struct{})
	var once sync.Once
	read = func() { once.Do(func() { close(start) }) }
	go func() {
		<-start
		_, _ = io.Copy(out, r)
		r.Close()
		close(copied)
	}()
	// After the process has gone (p.start's cleanup runs first).
	t.Cleanup(func() {
		w.Close()
		read()
		<-copied
	})
	p.start(t)
	w.Close() // the child has it
	return p, out, read
}
