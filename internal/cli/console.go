package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// console bridges the local side (terminal or pipe) and the SOL stream.
type console struct {
	o       *options
	addr    string
	scfg    ipmi.Config
	env     Env
	tty     bool // stdin and stdout are a terminal: raw mode, messages with CRLF
	esc     *escape.Filter
	log     *logWriter
	debug   io.Writer
	banner  string
	outMu   sync.Mutex // serialises writes to the terminal (stdout and messages)
	termMu  sync.Mutex // guards raw, saved and done
	raw     bool
	done    bool
	saved   *term.State
	streamM sync.Mutex
	st      *sol.Stream
	quit    chan error // the signal handler's verdict
	// prompt state (~C); only the main loop touches these
	prompting bool
	confirm   func(yes bool)
	editor    escape.LineEditor
}

type inputChunk struct {
	b   []byte
	err error
}

func attach(o *options, addr string, cfg ipmi.Config, env Env, banner func(*console)) error {
	c := &console{o: o, addr: addr, scfg: cfg, env: env, quit: make(chan error, 1)}
	c.tty = isTerminal(env.Stdin) && isTerminal(env.Stdout)
	var err error
	if c.esc, err = o.escapeFilter(isTerminal(env.Stdin)); err != nil {
		return err
	}
	if o.instance < 1 || o.instance > 15 {
		return &usageError{"--instance must be 1-15"}
	}
	if o.bootdev != "" {
		if _, err := parseBoot(strings.FieldsFunc(o.bootdev, func(r rune) bool { return r == ',' || r == ' ' })); err != nil {
			return err
		}
	}
	if o.power != "" {
		if _, err := ipmi.ParseChassisAction(o.power); err != nil {
			return &usageError{err.Error()}
		}
	}
	dbg, closeDebug, err := o.debugWriter(env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	c.debug = dbg
	if o.logFile != "" {
		lw, err := openLog(o.logFile, o.logStamps)
		if err != nil {
			return &usageError{fmt.Sprintf("--log: %v", err)}
		}
		defer lw.Close()
		c.log = lw
	}
	if banner != nil {
		banner(c)
	}
	// Signals: restore the terminal and close the session on every way out.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	go func() {
		for {
			select {
			case s := <-sigs:
				name := s.String()
				if ss, ok := s.(syscall.Signal); ok && unix.SignalName(ss) != "" {
					name = unix.SignalName(ss)
				}
				c.quit <- &signalError{sig: name}
				return
			case <-cont:
				c.enterRaw()
			}
		}
	}()
	if c.tty {
		if err := c.enterRaw(); err != nil {
			return err
		}
	}
	defer c.finish()
	defer func() {
		if r := recover(); r != nil {
			c.finish()
			panic(r)
		}
	}()
	return c.loop()
}

// enterRaw puts the terminal in raw mode. The modes found the first time
// are what every way out restores. After SIGCONT it is called again and
// re-applies raw mode whatever the shell did to the terminal meanwhile.
func (c *console) enterRaw() error {
	if !c.tty {
		return nil
	}
	c.termMu.Lock()
	defer c.termMu.Unlock()
	if c.done {
		return nil
	}
	st, err := term.MakeRaw(int(c.env.Stdin.Fd()))
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	if c.saved == nil {
		c.saved = st
	}
	c.raw = true
	return nil
}

// leaveRaw restores the modes the terminal had at the start.
func (c *console) leaveRaw() {
	c.termMu.Lock()
	defer c.termMu.Unlock()
	if c.raw {
		_ = term.Restore(int(c.env.Stdin.Fd()), c.saved)
		c.raw = false
	}
}

// finish restores the terminal for good: a late SIGCONT must not make it
// raw again.
func (c *console) finish() {
	c.leaveRaw()
	c.termMu.Lock()
	c.done = true
	c.termMu.Unlock()
}

// say prints one of ghmicons's own messages: marked, on stderr (stdout is
// console bytes only), with CRLF in raw mode.
func (c *console) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.tty {
		fmt.Fprintf(c.env.Stderr, "\r\n[ghmicons] %s\r\n", strings.ReplaceAll(msg, "\n", "\r\n"))
	} else {
		fmt.Fprintf(c.env.Stderr, "ghmicons: %s\n", msg)
	}
}

// note is a message that also goes into the log as a marked line.
func (c *console) note(format string, args ...any) {
	c.say(format, args...)
	if c.log != nil {
		c.log.Mark(fmt.Sprintf(format, args...))
	}
}

func (c *console) debugf(format string, args ...any) {
	if c.debug != nil {
		fmt.Fprintf(c.debug, "%s debug: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

func (c *console) stream() *sol.Stream {
	c.streamM.Lock()
	defer c.streamM.Unlock()
	return c.st
}

// connect opens a session and activates SOL.
func (c *console) connect(ctx context.Context) (*sol.Stream, error) {
	c.debugf("connecting to %s as %q, privilege %s, cipher suites %s", c.addr, c.scfg.Username, c.scfg.Privilege, suitesText(c.scfg.CipherSuites))
	cfg := c.scfg
	if c.debug != nil {
		cfg.Trace = (&tracer{w: c.debug}).event
	}
	s, err := ipmi.Dial(ctx, c.o.network(), c.addr, cfg)
	if err != nil {
		return nil, err
	}
	c.debugf("session up: cipher suite %s, privilege %s, BMC session 0x%08x", s.CipherSuite(), s.Privilege(), s.BMCSessionID())
	keep := c.o.keepalive
	if keep <= 0 {
		keep = -1
	}
	st, err := sol.Activate(ctx, s, sol.Config{Instance: byte(c.o.instance), NoSteal: c.o.noSteal, Keepalive: keep})
	if err != nil {
		s.Close()
		return nil, err
	}
	c.debugf("SOL active: %d characters per packet", st.Stats().MaxChars)
	return st, nil
}

// backoff is the reconnection schedule: 1 s doubling to 60 s, ±20% jitter.
type backoff struct{ next time.Duration }

func (b *backoff) wait() time.Duration {
	if b.next == 0 {
		b.next = time.Second
	}
	d := b.next
	b.next = min(2*b.next, 60*time.Second)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (c *console) loop() error {
	input := make(chan inputChunk, 4)
	go readInput(c.env.Stdin, input)
	var bo backoff
	first := true
	var stdinEOF bool
	for {
		// (Re)connect.
		st, err := c.connectWithRetry(&bo, input, &stdinEOF)
		if q, ok := err.(quitErr); ok {
			// ~. or a signal while waiting to reconnect.
			return q.err
		}
		if err != nil {
			return err
		}
		if st == nil {
			// End of input while waiting to reconnect: done, as ever at
			// end of input.
			return nil
		}
		c.streamM.Lock()
		c.st = st
		c.streamM.Unlock()
		if first {
			first = false
			c.note("connected to %s (cipher suite %d); %s", c.addr, st.Session().CipherSuite().ID, c.escapeHint())
			c.afterAttach(st)
		} else {
			c.note("reconnected to %s", c.addr)
			bo = backoff{}
		}
		outDone := make(chan error, 1)
		go c.copyOutput(st, outDone)
		err = c.serve(st, input, outDone, &stdinEOF)
		var q quitErr
		if errors.As(err, &q) {
			c.closeStream(st)
			if q.reconnect {
				c.note("reconnecting on request")
				continue
			}
			c.note("disconnected")
			return q.err
		}
		// The stream ended on its own.
		c.closeStream(st)
		if !c.o.reconnect || !retryable(err) {
			c.note("disconnected: %v", err)
			return err
		}
		if errors.Is(err, sol.ErrTakenOver) {
			c.note("console taken over by another session; taking it back after the backoff")
		} else {
			c.note("connection lost: %v", err)
		}
	}
}

type quitErr struct {
	err       error
	reconnect bool
}

func (q quitErr) Error() string {
	if q.err == nil {
		return "quit"
	}
	return q.err.Error()
}

func (c *console) escapeHint() string {
	if !c.esc.Enabled() {
		return "escapes off"
	}
	e := escape.Printable(c.esc.Char())
	return fmt.Sprintf("%s. to quit, %s? for help", e, e)
}

func (c *console) connectWithRetry(bo *backoff, input chan inputChunk, stdinEOF *bool) (*sol.Stream, error) {
	for {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			select {
			case err := <-c.quit:
				c.quit <- err
				cancel()
			case <-done:
			}
		}()
		st, err := c.connect(ctx)
		close(done)
		cancel()
		select {
		case qerr := <-c.quit:
			if st != nil {
				c.closeStream(st)
			}
			return nil, quitErr{err: qerr}
		default:
		}
		if err == nil {
			return st, nil
		}
		if !c.o.reconnect || !retryable(err) {
			return nil, err
		}
		d := bo.wait()
		c.note("cannot connect: %v; retrying in %v", oneLine(err.Error()), d.Round(100*time.Millisecond))
		t := time.NewTimer(d)
	wait:
		for {
			select {
			case <-t.C:
				break wait
			case qerr := <-c.quit:
				t.Stop()
				return nil, quitErr{err: qerr}
			case in := <-input:
				if in.err != nil {
					*stdinEOF = true
					if !c.o.keepOpen {
						t.Stop()
						return nil, nil
					}
				}
				// While disconnected, only ~. (and ~R) mean anything.
				for _, a := range c.esc.Process(in.b) {
					switch a.Command {
					case escape.Quit:
						t.Stop()
						return nil, quitErr{}
					case escape.Reconnect:
						break wait
					}
				}
			}
		}
	}
}

// afterAttach applies --bootdev and --power once the console shows the
// host, so the operator sees the boot from its first byte.
func (c *console) afterAttach(st *sol.Stream) {
	ctx := context.Background()
	if c.o.bootdev != "" {
		f, _ := parseBoot(strings.FieldsFunc(c.o.bootdev, func(r rune) bool { return r == ',' || r == ' ' }))
		if err := st.Session().SetBootFlags(ctx, f); err != nil {
			c.note("bootdev %s failed: %v", f.Device, err)
		} else {
			f.Valid = true
			c.note("boot device set to %s", f)
		}
	}
	if c.o.power != "" {
		a, _ := ipmi.ParseChassisAction(c.o.power)
		if err := st.Session().ChassisControl(ctx, a); err != nil {
			c.note("power %s failed: %v", a, err)
		} else {
			c.note("power %s sent", a)
		}
	}
}

// copyOutput moves host output to stdout and the log.
func (c *console) copyOutput(st *sol.Stream, done chan<- error) {
	buf := make([]byte, 32<<10)
	for {
		n, err := st.Read(buf)
		if n > 0 {
			c.outMu.Lock()
			_, werr := c.env.Stdout.Write(buf[:n])
			c.outMu.Unlock()
			if c.log != nil {
				c.log.Write(buf[:n])
			}
			if werr != nil {
				done <- fmt.Errorf("writing console output: %w", werr)
				return
			}
		}
		if err != nil {
			done <- err
			return
		}
	}
}

func (c *console) closeStream(st *sol.Stream) {
	st.Close()
}

// serve runs one connected stream until it ends or the user quits.
func (c *console) serve(st *sol.Stream, input chan inputChunk, outDone chan error, stdinEOF *bool) error {
	var inCh chan inputChunk = input
	if *stdinEOF {
		inCh = nil
	}
	for {
		select {
		case err := <-c.quit:
			return quitErr{err: err}
		case err := <-outDone:
			if err == io.EOF || err == nil {
				err = st.Err()
			}
			if se := st.Err(); se != nil {
				err = se
			}
			return err
		case ev := <-st.Events():
			c.event(ev)
		case in := <-inCh:
			if len(in.b) > 0 {
				if q := c.handleInput(st, in.b); q != nil {
					return *q
				}
			}
			if in.err != nil {
				*stdinEOF = true
				inCh = nil
				if !c.o.keepOpen {
					// End of input ends the session, once what was typed
					// has been accepted.
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_ = st.Drain(ctx)
					cancel()
					c.linger(st, outDone)
					return quitErr{}
				}
			}
		}
	}
}

// linger lets the host's answer to the last input arrive: output is passed
// on until it has been quiet for half a second (10 s at most).
func (c *console) linger(st *sol.Stream, outDone chan error) {
	deadline := time.Now().Add(10 * time.Second)
	last := st.Stats().BytesIn
	for time.Now().Before(deadline) {
		select {
		case <-time.After(500 * time.Millisecond):
		case err := <-outDone:
			outDone <- err
			return
		}
		n := st.Stats().BytesIn
		if n == last {
			return
		}
		last = n
	}
}

func (c *console) event(ev sol.Event) {
	switch ev.Kind {
	case sol.HostOff:
		c.note("host powered off or its serial port is unavailable")
	case sol.HostOn:
		c.note("host serial port available again")
	case sol.BreakDetected:
		c.say("BREAK from the host")
	case sol.Overrun:
		c.say("the BMC dropped host output (overrun)")
	}
}

// handleInput runs typed bytes through the escape filter (or the ~C prompt)
// and sends the rest.
func (c *console) handleInput(st *sol.Stream, b []byte) *quitErr {
	if c.prompting {
		return c.promptKeys(st, b)
	}
	acts := c.esc.Process(b)
	for i, a := range acts {
		if a.Command == 0 {
			if _, err := st.Write(a.Data); err != nil {
				return nil // the stream's end is reported by serve
			}
			continue
		}
		switch a.Command {
		case escape.Quit:
			return &quitErr{}
		case escape.Break:
			if err := st.SendBreak(); err == nil {
				c.say("BREAK sent")
			}
		case escape.Help:
			c.say("%s", escape.HelpText(c.esc.Char()))
		case escape.Suspend:
			c.suspend()
		case escape.Status:
			c.status(st)
		case escape.Reconnect:
			return &quitErr{reconnect: true}
		case escape.Prompt:
			c.startPrompt()
			// The rest of this read belongs to the prompt.
			var rest []byte
			for _, r := range acts[i+1:] {
				rest = append(rest, r.Data...)
			}
			if len(rest) > 0 {
				return c.promptKeys(st, rest)
			}
			return nil
		}
	}
	return nil
}

func (c *console) suspend() {
	if !c.tty {
		c.say("suspend needs a terminal")
		return
	}
	c.say("suspended; fg to resume")
	c.leaveRaw()
	_ = syscall.Kill(syscall.Getpid(), syscall.SIGTSTP)
	// Raw again on SIGCONT (see attach), whatever the shell did to the
	// terminal meanwhile; and here, in case the stop did not happen (no job
	// control).
	_ = c.enterRaw()
}

func (c *console) status(st *sol.Stream) {
	s := st.Session()
	stats := st.Stats()
	power := "unknown"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if cs, err := s.ChassisStatus(ctx); err == nil {
		power = onOff(cs.PowerOn)
	}
	ss := s.Stats()
	c.say("peer %s, cipher suite %s, privilege %s\npackets sent %d, received %d, retransmissions %d (requests %d), duplicates %d, round trip %v\nhost power %s",
		s.RemoteAddr(), s.CipherSuite(), s.Privilege(), ss.Sent, ss.Received, stats.Retransmissions, ss.Retransmissions,
		stats.Duplicates, stats.RTT.Round(time.Microsecond), power)
}

// readInput reads stdin into chunks until EOF or an error.
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
