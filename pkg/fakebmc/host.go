package fakebmc

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
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

// ExecHost runs a command with its standard input and output as the serial
// line; it is restarted when the host powers on again.
type ExecHost struct{ Command string }

// Run implements Host.
func (h ExecHost) Run(line *Line, done <-chan struct{}) {
	power := make(chan PowerEvent, 16)
	line.Chassis().OnPower(func(e PowerEvent) {
		select {
		case power <- e:
		default:
		}
	})
	var mu sync.Mutex
	var stdin io.WriteCloser
	// One pump from the line to whichever process runs now.
	go pump(line, func() io.Writer {
		mu.Lock()
		defer mu.Unlock()
		if stdin == nil {
			return nil
		}
		return stdin
	})
	var cmd *exec.Cmd
	start := func() {
		cmd = exec.Command("sh", "-c", h.Command)
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			fmt.Fprintf(line, "fakebmc: exec %q: %v\r\n", h.Command, err)
			cmd = nil
			return
		}
		mu.Lock()
		stdin = in
		mu.Unlock()
		go func() { _, _ = io.Copy(line, out) }()
	}
	stop := func() {
		if cmd != nil {
			mu.Lock()
			stdin.Close()
			stdin = nil
			mu.Unlock()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			cmd = nil
		}
	}
	if line.Chassis().PoweredOn() {
		start()
	}
	for {
		select {
		case <-done:
			stop()
			return
		case e := <-power:
			switch e.Kind {
			case PowerOffEvent:
				stop()
			case PowerOnEvent:
				stop()
				start()
			}
		}
	}
}

// ListenHost exposes the host side of the line on a TCP or Unix socket: the
// program that connects is the host (one at a time; a new one replaces the
// old). `nc 127.0.0.1 PORT` plays the host by hand.
type ListenHost struct {
	Network, Addr string
	ln            net.Listener
	ready         chan struct{}
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
		return NewPTYHost()
	}
	return nil, fmt.Errorf("fakebmc: unknown --serial %q (want demo, echo, exec:COMMAND, tcp:ADDR, unix:PATH or pty)", spec)
}
