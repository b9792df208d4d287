package cli

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/ghmicons/ghmicons/pkg/sol"
)

// The goroutines at the console's edges. Each does one kind of blocking I/O
// and reports to the owner (console.run) on a channel; none of them holds a
// lock the owner needs, so a stdin, stdout, log or BMC that stops moving
// stops only its own goroutine.

// inputChunk is one read from stdin; err is set (io.EOF or other) at the end.
type inputChunk struct {
	b   []byte
	err error
}

// readInput reads stdin into chunks until EOF or an error. The channel is
// unbuffered: in pipe mode the owner stops receiving when the BMC does not
// take input, and then this goroutine stops reading (backpressure).
func readInput(f *os.File, out chan<- inputChunk) {
	for {
		buf := make([]byte, 16<<10)
		n, err := f.Read(buf)
		if n > 0 {
			out <- inputChunk{b: buf[:n]}
		}
		if err != nil {
			out <- inputChunk{err: err}
			return
		}
	}
}

// inputItem is queued input: bytes, or a BREAK in its place among them.
type inputItem struct {
	b   []byte
	brk bool
}

type sendItem struct {
	st *sol.Stream
	inputItem
}

type sendResult struct {
	st  *sol.Stream
	n   int
	brk bool
	err error
}

// sender hands queued input to the stream. Stream.Write blocks while the
// stream's buffer is full (a BMC that accepts nothing): here, and only here.
// Closing the stream ends a blocked Write. The owner gives it one item at a
// time, so both channels have room for what is sent on them.
func sender(in <-chan sendItem, out chan<- sendResult) {
	for it := range in {
		r := sendResult{st: it.st, brk: it.brk}
		if it.brk {
			r.err = it.st.SendBreak()
		} else {
			r.n, r.err = it.st.Write(it.b)
		}
		out <- r
	}
}

// outEnd says that the copier is done with a stream: err is the stream's
// end (io.EOF after Close), or a *localIOError when stdout failed.
type outEnd struct {
	st  *sol.Stream
	err error
}

// copyOutput moves host output to stdout and the log, one stream after the
// other (output of a stream that ended goes out before the next one's).
func (c *console) copyOutput(streams <-chan *sol.Stream, ends chan<- outEnd) {
	buf := make([]byte, 32<<10)
	for st := range streams {
		ends <- outEnd{st: st, err: c.copyStream(st, buf)}
	}
}

func (c *console) copyStream(st *sol.Stream, buf []byte) error {
	for {
		n, err := st.Read(buf)
		if n > 0 {
			if _, werr := c.env.Stdout.Write(buf[:n]); werr != nil {
				return &localIOError{what: "writing console output", err: werr}
			}
			c.copied.Add(uint64(n))
			if c.log != nil {
				_, _ = c.log.Write(buf[:n]) // a failed log is reported on its Failed channel
			}
		}
		if err != nil {
			return err
		}
	}
}

// localIOError is a failure of the local side: stdout, the log. It is not a
// session loss, so --reconnect does not retry it, and it exits 1. It does
// not unwrap: the errno inside would pass for a net.Error and be mapped to
// "unreachable" (syscall.Errno has Timeout and Temporary methods).
type localIOError struct {
	what string
	err  error
}

func (e *localIOError) Error() string { return fmt.Sprintf("%s: %v", e.what, e.err) }

// terminal is raw mode and its restoration; only the owner touches it.
type terminal struct {
	f     *os.File
	on    bool // stdin and stdout are a terminal
	raw   bool
	done  bool // restored for good: a late SIGCONT must not make it raw again
	saved *term.State
}

// enterRaw puts the terminal in raw mode. The modes found the first time
// are what every way out restores. After SIGCONT it is called again and
// re-applies raw mode whatever the shell did to the terminal meanwhile.
func (t *terminal) enterRaw() error {
	if !t.on || t.done {
		return nil
	}
	st, err := term.MakeRaw(int(t.f.Fd()))
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	if t.saved == nil {
		t.saved = st
	}
	t.raw = true
	return nil
}

// leaveRaw restores the modes the terminal had at the start.
func (t *terminal) leaveRaw() {
	if t.raw {
		_ = term.Restore(int(t.f.Fd()), t.saved)
		t.raw = false
	}
}

func (t *terminal) finish() {
	t.leaveRaw()
	t.done = true
}
