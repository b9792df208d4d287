package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/escape"
)

// Input: stdin through the escape filter (or the ~C prompt) into the
// console's writer. On a terminal the writer is lossy: it never waits, so
// the terminal is always read and ~. always seen; what the BMC cannot take
// is counted and said (console.InputDiscarded). In pipe mode it is
// lossless: when the console's queue is full, the rest waits here and stdin
// is not read (backpressure, as for any slow pipe reader).

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

// pendingItem is input the console's queue had no room for yet: bytes, or a
// local command (~B, break at the prompt) that must go after them.
type pendingItem struct {
	b    []byte
	call *command.Call
}

// wantInput says whether the owner takes the next stdin chunk now.
func (f *frontend) wantInput() bool {
	switch {
	case f.stdinEOF:
		return false
	case f.ttyIn:
		// Always: ~. must be seen whatever the BMC does.
		return true
	}
	// Pipe mode: backpressure.
	return len(f.pending) == 0
}

func (f *frontend) onInput(in inputChunk) {
	if len(in.b) > 0 {
		f.handleInput(in.b)
	}
	if in.err == nil || f.end != nil {
		return
	}
	f.stdinEOF = true
	if in.err != io.EOF {
		f.debugf("stdin: %v", in.err)
	}
	if f.readerGone {
		f.endAfterHangup()
		return
	}
	if f.o.keepOpen {
		return
	}
	// Nothing more to deliver: a loss or a failed attempt from here on ends
	// the console with its error (never 0 without a session), and waiting
	// to reconnect ends now with the error it waits on.
	_ = f.con.SetReconnect(false)
	if f.attached {
		f.beginEnd(time.Now())
	}
	// Connecting: the attempt's result decides (Connected, or the console
	// ends).
}

// handleInput runs typed bytes through the escape filter (or the ~C prompt)
// and queues the rest.
func (f *frontend) handleInput(b []byte) {
	if f.prompting {
		f.promptKeys(b)
		return
	}
	acts := f.esc.Process(b)
	for i, a := range acts {
		if f.end != nil {
			return
		}
		if a.Command == 0 {
			f.queue(pendingItem{b: a.Data})
			continue
		}
		switch a.Command {
		case escape.Quit:
			f.stop(nil, endQuit)
		case escape.Break:
			f.queueCommand("break")
		case escape.Help:
			f.say("%s", escape.HelpText(f.esc.Char(), promptSummary()))
		case escape.Suspend:
			f.suspend()
		case escape.Status:
			f.queueCommand("status")
		case escape.Reconnect:
			f.reconnectNow()
		case escape.Prompt:
			if !f.attached {
				f.say("not connected: the prompt needs a session")
				continue
			}
			f.startPrompt()
			// The rest of this read belongs to the prompt.
			var rest []byte
			for _, r := range acts[i+1:] {
				rest = append(rest, r.Data...)
			}
			if len(rest) > 0 {
				f.promptKeys(rest)
			}
			return
		}
	}
}

// queueCommand runs the table's command name for an escape.
func (f *frontend) queueCommand(name string) {
	call, err := command.Parse(command.Prompt, []string{name})
	if err != nil {
		f.say("%v", err)
		return
	}
	f.runCall(call)
}

// queue hands input to the console's writer, after what waits already.
func (f *frontend) queue(it pendingItem) {
	f.pending = append(f.pending, it)
	f.pump()
}

// pump offers what waits to the console's writer, until its queue is full.
func (f *frontend) pump() {
	for len(f.pending) > 0 && f.room == nil {
		it := &f.pending[0]
		if it.call != nil {
			f.pending = f.pending[1:]
			f.runLocal(it.call)
			continue
		}
		n, room, err := f.w.Offer(it.b)
		if err != nil {
			// The console has ended: what waits goes nowhere.
			f.debugf("input not queued: %v", err)
			f.pending = nil
			return
		}
		it.b = it.b[n:]
		if len(it.b) == 0 {
			f.pending = f.pending[1:]
			continue
		}
		f.room = room
		return
	}
	if f.phase == draining {
		f.startDrain()
	}
}

// runCall runs a command of the table: a local one in order with the input
// (a BREAK goes after what was typed before it), one that asks the BMC on a
// goroutine of its own, bounded, so that a BMC that does not answer holds
// up neither ~. nor a signal.
func (f *frontend) runCall(call *command.Call) {
	if call.Command.Local {
		f.queue(pendingItem{call: call})
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(f.ctx, promptCommandBound)
		defer cancel()
		res, _ := call.Run(ctx, f.con)
		f.sayResult(res.Note, res.Logged)
	}()
}

// promptCommandBound bounds a command's requests to the BMC.
const promptCommandBound = 10 * time.Second

func (f *frontend) runLocal(call *command.Call) {
	res, _ := call.Run(f.ctx, f.con)
	f.sayResult(res.Note, res.Logged)
}

func (f *frontend) reconnectNow() {
	err := f.con.Reconnect()
	switch {
	case errors.Is(err, console.ErrConnecting):
		f.say("already connecting")
	case err != nil:
		f.say("%v", err)
	}
	// The note comes with the console's Reconnecting event.
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

// errReaderGone: standard output's reader has gone (the pipe's read end is
// closed, the socket's peer has shut down, the pty's master is closed),
// found by watchHangup without a write.
var errReaderGone = errors.New("its reader has gone (hang-up)")

func isLocalIO(err error) bool {
	var le *localIOError
	return errors.As(err, &le)
}
