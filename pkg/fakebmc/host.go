package fakebmc

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Host is the machine behind the BMC's serial port. Run drives it on line
// until done is closed; it must then return promptly (Line operations fail
// once the BMC closes, which unblocks them).
type Host interface {
	Run(line *Line, done <-chan struct{})
}

// EchoHost sends back every character it receives.
type EchoHost struct{}

// Run implements Host.
func (EchoHost) Run(line *Line, done <-chan struct{}) {
	buf := make([]byte, 4096)
	for {
		n, err := line.Read(buf)
		if err != nil {
			return
		}
		if _, err := line.Write(buf[:n]); err != nil {
			return
		}
	}
}

// ExecHost runs a command (with the system shell) whose standard input and
// output are the serial line, as the machine's getty or serial program. It
// starts when the host powers on and is killed, with everything it started
// (its process group; a job object on Windows), when the host powers off
// or the BMC closes. When the command exits on its own it is started again,
// as init respawns a getty, so that a program serving one connection at a
// time (`sshd -i`) serves the next one too.
//
// Restarts back off: the first comes RestartMin after the exit; each
// following one waits twice as long as the last, up to RestartMax, while
// the command keeps exiting without having been given any console input
// (a command that fails at once must not spin). A run that was given
// input, or that lasted RestartMax, brings the wait back to RestartMin.
// Console input that arrives while no command runs (being restarted, or
// the power off) is discarded, as a getty flushes its line when it starts:
// the tail of one connection must not reach the program that serves the
// next (a new `sshd -i` would take it for the start of its own).
type ExecHost struct {
	Command string
	// RestartMin and RestartMax bound the pause before a restart; 0 means
	// 1 s and 30 s.
	RestartMin, RestartMax time.Duration

	after     func(time.Duration) <-chan time.Time // the restart timer; nil means time.After
	discarded func(n int)                          // tests: n bytes of input discarded
}

func (h ExecHost) restartBounds() (lo, hi time.Duration) {
	lo, hi = h.RestartMin, h.RestartMax
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	return lo, max(lo, hi)
}

// execRun is one run of the command.
type execRun struct {
	proc    *shellProc
	stdin   *os.File
	started time.Time
	fed     atomic.Bool   // the pump gave it console input
	exited  chan struct{} // closed once the shell has been waited for
	copied  chan struct{} // closed when its output has all gone to the line
	stdout  *os.File      // read end of its output
}

// Run implements Host.
func (h ExecHost) Run(line *Line, done <-chan struct{}) {
	power := make(chan PowerEvent, 16)
	line.Chassis().OnPower(func(e PowerEvent) {
		select {
		case power <- e:
		default:
		}
	})
	after := h.after
	if after == nil {
		after = time.After
	}
	lo, hi := h.restartBounds()
	in := &execInput{discarded: h.discarded}
	go in.pump(line)
	defer in.set(execOff, nil, true)

	var cur *execRun
	var restart <-chan time.Time
	wait := lo
	start := func() {
		r, err := h.start(line)
		if err != nil {
			// Retried like a command that exited at once.
			fmt.Fprintf(line, "fakebmc: exec %q: %v\r\n", h.Command, err)
			in.set(execWaiting, nil, false)
			restart = after(wait)
			wait = min(2*wait, hi)
			return
		}
		cur = r
		in.set(execRunning, r, false)
	}
	stop := func() {
		if cur != nil {
			cur.stop()
			cur = nil
		}
		restart = nil
	}
	if line.Chassis().PoweredOn() {
		start()
	}
	for {
		var exited <-chan struct{}
		if cur != nil {
			exited = cur.exited
		}
		select {
		case <-done:
			stop()
			return
		case e := <-power:
			switch e.Kind {
			case PowerOffEvent:
				stop()
				in.set(execOff, nil, false)
			case PowerOnEvent:
				stop()
				wait = lo
				start()
			}
		case <-exited:
			// It exited on its own: end what it left behind, let its
			// last output through, and start it again after a pause.
			if cur.fed.Load() || time.Since(cur.started) >= hi {
				wait = lo
			}
			stop()
			in.set(execWaiting, nil, false)
			restart = after(wait)
			wait = min(2*wait, hi)
		case <-restart:
			restart = nil
			start()
		}
	}
}

// start runs the command with pipes of its own as stdin and stdout: no
// copying goroutine of os/exec's then waits for what the command leaves
// behind, and its output is read to the end before Wait is even called.
func (h ExecHost) start(line *Line) (*execRun, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := shellCommand(h.Command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, os.Stderr
	p, err := startShell(cmd)
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	r := &execRun{proc: p, stdin: inW, stdout: outR, started: time.Now(),
		exited: make(chan struct{}), copied: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	go func() {
		defer close(r.copied)
		_, _ = io.Copy(line, outR)
	}()
	return r, nil
}

// stop kills the run's process group, waits for the shell, and lets the
// output already written reach the line (for a moment at most: a process
// that left the group may hold the pipe).
func (r *execRun) stop() {
	r.proc.kill()
	r.stdin.Close()
	<-r.exited
	t := time.NewTimer(time.Second)
	select {
	case <-r.copied:
	case <-t.C:
	}
	t.Stop()
	r.stdout.Close()
	r.proc.release()
}

type execState int

const (
	execOff     execState = iota // powered off: input is discarded
	execWaiting                  // between runs: input is discarded too
	execRunning                  // input goes to the run
)

// execInput carries console input from the line to the command that runs
// now.
type execInput struct {
	mu        sync.Mutex
	state     execState
	run       *execRun
	closed    bool
	discarded func(n int) // tests
}

func (in *execInput) set(st execState, r *execRun, closed bool) {
	in.mu.Lock()
	in.state, in.run = st, r
	in.closed = in.closed || closed
	in.mu.Unlock()
}

// target returns where input goes now: nil means discard it.
func (in *execInput) target() *execRun {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || in.state != execRunning {
		return nil
	}
	return in.run
}

// pump copies console input until the line closes. Input written to a run
// that has just died is lost with it, as on a serial line.
func (in *execInput) pump(line *Line) {
	buf := make([]byte, 4096)
	for {
		if in.target() == nil && in.isClosed() {
			return
		}
		n, err := line.Read(buf)
		if err != nil {
			return
		}
		if r := in.target(); r != nil {
			if _, err := r.stdin.Write(buf[:n]); err == nil {
				r.fed.Store(true)
			}
		} else if in.discarded != nil {
			in.discarded(n)
		}
	}
}

func (in *execInput) isClosed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.closed
}

// ListenHost exposes the host side of the line on a TCP or Unix socket: the
// program that connects is the host (one at a time; a new one replaces the
// old). `nc 127.0.0.1 PORT` plays the host by hand.
type ListenHost struct {
	Network, Addr string
	ln            net.Listener
}

// NewListenHost listens at once, so the address is known (and taken) before
// the BMC starts.
func NewListenHost(network, addr string) (*ListenHost, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("fakebmc: serial %s:%s: %w", network, addr, err)
	}
	return &ListenHost{Network: network, Addr: ln.Addr().String(), ln: ln}, nil
}

// Path is where the host side listens.
func (h *ListenHost) Path() string { return h.Network + ":" + h.Addr }

// Close stops listening, for a host that never ran (Run closes the
// listener when its line closes).
func (h *ListenHost) Close() error { return h.ln.Close() }

// Run implements Host.
func (h *ListenHost) Run(line *Line, done <-chan struct{}) {
	var mu sync.Mutex
	var cur net.Conn
	go func() {
		<-done
		h.ln.Close()
		mu.Lock()
		if cur != nil {
			cur.Close()
		}
		mu.Unlock()
	}()
	go pump(line, func() io.Writer {
		mu.Lock()
		defer mu.Unlock()
		if cur == nil {
			return nil
		}
		return cur
	})
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		if cur != nil {
			cur.Close()
		}
		cur = c
		mu.Unlock()
		go func() { _, _ = io.Copy(line, c) }()
	}
}

// pump copies console input from the line to whatever target returns at
// the time (nil: nobody is connected, the input is dropped) until the line
// closes.
func pump(line *Line, target func() io.Writer) {
	buf := make([]byte, 4096)
	for {
		n, err := line.Read(buf)
		if err != nil {
			return
		}
		if w := target(); w != nil {
			_, _ = w.Write(buf[:n])
		}
	}
}

// ParseSerial turns a --serial value into a Host: demo, echo,
// exec:COMMAND, tcp:ADDR, unix:PATH or pty.
func ParseSerial(spec string) (Host, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "demo":
		return NewDemoHost(), nil
	case "echo":
		return EchoHost{}, nil
	case "exec":
		if arg == "" {
			return nil, fmt.Errorf("fakebmc: --serial exec: needs a command")
		}
		return ExecHost{Command: arg}, nil
	case "tcp", "unix":
		if arg == "" {
			return nil, fmt.Errorf("fakebmc: --serial %s: needs an address", kind)
		}
		return NewListenHost(kind, arg)
	case "pty":
		h, err := NewPTYHost()
		if err != nil {
			return nil, err
		}
		return h, nil
	}
	return nil, fmt.Errorf("fakebmc: unknown --serial %q (want demo, echo, exec:COMMAND, tcp:ADDR, unix:PATH or pty)", spec)
}
