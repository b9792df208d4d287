package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// frontend is the program's front end over the console engine
// (pkg/console): the terminal or the pipe, escapes and the ~C prompt,
// notes on stderr, the log, the end of input and the way out.
//
// One goroutine, the owner (run), holds the front end's state. Everything
// else arrives as a message: stdin chunks (readInput), the console's events
// (a subscription), room in the console's input queue, the end of the
// stdout and log copies (output.go), the end-of-input waits, signals. The
// owner never does blocking I/O and calls into the console only with
// methods that answer at once, so ~. and every signal are seen whatever
// the BMC, stdout or the log are doing.
type frontend struct {
	// Fixed at the start.
	o     *options
	addr  string
	scfg  ipmi.Config
	env   Env
	tty   bool // stdin and stdout are a terminal: raw mode, messages with CRLF
	ttyIn bool // stdin is a terminal: someone typing, who must be able to quit
	esc   *escape.Filter
	msgs  *messenger
	log   *console.Log
	debug io.Writer
	term  terminal

	con  *console.Console
	w    *console.Writer
	sub  *console.Subscription
	out  *console.Reader // to stdout: lossless; nil with --quiet-console
	logR *console.Reader // to the log: lossless, with the events
	// Stdout and stderr are the same file: the stdout copier says the
	// events' notes in place (streamnotes.go); nil otherwise.
	notes *streamNotes

	// A scripted console (expect.go): the script's reader, and its end.
	expOut     *console.Reader
	scriptDone chan error

	ctx    context.Context // ends at the way out: commands, the end-of-input waits
	cancel context.CancelFunc

	// Messages to the owner.
	sigs    chan os.Signal
	cont    chan os.Signal
	input   chan inputChunk
	outDone chan error // the stdout copy has ended: nil at the end of the output, else a *localIOError
	logDone chan error // the log's copy has ended
	drained chan error
	quieted chan quietResult

	copied atomic.Uint64 // bytes written to stdout, for the bound on the last output

	// The owner's state.
	attached     bool // as the console's events say
	everUp       bool
	stdinEOF     bool
	readerGone   bool            // stdout's reader has gone: the end drains input, then exits 1
	pending      []pendingItem   // input the console's queue has no room for yet (pipe mode)
	room         <-chan struct{} // closed when the console's queue has room again
	phase        endPhase
	progressAt   time.Time // end of input: last time the BMC accepted input
	progressOut  uint64
	drainStarted bool
	lingerStart  time.Time
	outEnded     bool
	hurried      bool // a second signal: skip the bounded waits at the end
	end          *ending

	// The ~C prompt.
	prompting bool
	confirm   func(yes bool)
	editor    escape.LineEditor
}

// ending is how the console ends.
type ending struct {
	err error
	how endHow
}

type endHow int

const (
	endQuit   endHow = iota + 1 // ~.: exit 0
	endInput                    // the end of input went through: exit 0
	endSignal                   // exit 8
	endError                    // the error is the program's one line and exit code
)

// attach runs the console until ~., a signal, the end of input or an error.
// banner, if set, says something first (the demo).
func attach(o *options, addr string, cfg ipmi.Config, env Env, banner func(*frontend)) error {
	f := &frontend{o: o, addr: addr, scfg: cfg, env: env,
		sigs: make(chan os.Signal, 4), cont: make(chan os.Signal, 1), input: make(chan inputChunk),
		outDone: make(chan error, 1), logDone: make(chan error, 1), drained: make(chan error, 1),
		quieted: make(chan quietResult, 1)}
	f.ttyIn = isTerminal(env.Stdin)
	f.tty = f.ttyIn && isTerminal(env.Stdout)
	if o.script != nil {
		// The script types, not a person: no raw mode, no escapes.
		f.ttyIn, f.tty, banner = false, false, nil
	}
	f.term = terminal{f: env.Stdin, on: f.tty}
	var err error
	if f.esc, err = o.escapeFilter(f.ttyIn); err != nil {
		return err
	}
	eol := "\n"
	if f.tty {
		eol = "\r\n"
	}
	f.msgs = newMessenger(env.Stderr, eol)
	defer f.msgs.stop()
	dbg, closeDebug, err := o.debugWriter(env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	f.debug = dbg
	if o.debug == "-" {
		f.debug = f.msgs // our lines in order with the notes, and never blocking
	}
	if o.logFile != "" {
		lg, err := console.OpenLog(o.logFile, console.LogConfig{Timestamps: o.logStamps, MarkPrefix: "[ghmicons] "})
		if err != nil {
			return &usageError{fmt.Sprintf("--log: %v", err)}
		}
		defer lg.Close() // after shutdown has closed it: a no-op then
		f.log = lg
	}
	if f.con, err = console.New(f.consoleConfig(cfg)); err != nil {
		return err
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	defer f.cancel()
	f.sub = f.con.Events(0)
	if !o.quietConsole {
		if sameFile(env.Stdout, env.Stderr) {
			f.notes = &streamNotes{}
		}
		f.out = f.con.NewReader(console.ReaderConfig{Name: "stdout", Events: f.notes != nil})
	}
	f.newScriptReader()
	if f.log != nil {
		f.logR = f.con.NewReader(console.ReaderConfig{Name: "log", Events: true})
	}
	if banner != nil {
		banner(f)
	}
	// Signals: restore the terminal and close the session on every way out.
	notifyEndSignals(f.sigs)
	notifyContinue(f.cont)
	notifySIGPIPE(make(chan os.Signal, 1)) // never read: only so that EPIPE is an error
	defer stopSignals(f.sigs, f.cont)
	if err := f.term.enterRaw(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			f.term.finish()
			panic(r)
		}
	}()
	defer f.term.finish()
	return f.run()
}

// consoleConfig is the engine's configuration from the flags.
func (f *frontend) consoleConfig(cfg ipmi.Config) console.Config {
	o := f.o
	if f.debug != nil {
		cfg.Trace = (&tracer{w: f.debug}).event
	}
	keep := o.keepalive
	if keep <= 0 {
		keep = -1
	}
	return console.Config{Addr: f.addr, Network: o.network(), Session: cfg, NoSteal: o.noSteal, Reconnect: o.reconnect,
		SOL: sol.Config{Instance: byte(o.instance), Keepalive: keep}}
}

// run is the owner: it starts the console and handles messages until the
// console ends.
func (f *frontend) run() error {
	if err := f.con.Start(context.Background()); err != nil {
		return err
	}
	// Typed input never waits for the BMC (so that ~. is always seen); a
	// pipe's does, as any pipe reader does.
	var err error
	if f.w, err = f.con.NewWriter(console.WriterConfig{Name: "stdin", Lossy: f.ttyIn}); err != nil {
		_ = f.con.Close(context.Background())
		return err
	}
	if f.o.script == nil {
		go readInput(f.env.Stdin, f.input)
	}
	var hangup <-chan struct{}
	if f.out != nil {
		go f.copyStdout()
		var stopWatch func()
		hangup, stopWatch = watchHangup(f.env.Stdout)
		defer stopWatch()
	} else {
		f.outEnded = true
	}
	if f.log != nil {
		go f.followLog()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var hangupWait <-chan time.Time // stdout hung up: the longest to wait for stdin's end
	events := f.sub.C
	for f.end == nil {
		var timerC <-chan time.Time
		if f.phase == draining {
			timer.Reset(time.Until(f.progressAt.Add(inputStallBound)))
			timerC = timer.C
		}
		var input chan inputChunk
		if f.wantInput() {
			input = f.input
		}
		var logFailed <-chan struct{}
		if f.log != nil {
			logFailed = f.log.Failed()
		}
		select {
		case s := <-f.sigs:
			f.stop(&signalError{sig: signalName(s)}, endSignal)
		case <-f.cont:
			_ = f.term.enterRaw()
		case in := <-input:
			f.onInput(in)
		case <-f.room:
			f.room = nil
			f.pump()
		case ev, ok := <-events:
			if !ok {
				events = nil // the console has ended: Done follows
				continue
			}
			f.onEvent(ev)
		case <-f.con.Done():
			f.stop(f.con.Err(), endError)
		case <-hangup:
			hangup = nil
			if f.onHangup() {
				hangupWait = time.After(inputFlushBound)
			}
		case <-hangupWait:
			hangupWait = nil
			f.endAfterHangup() // stdin has not ended: what it gave is delivered
		case err := <-f.outDone:
			f.outEnded = true
			if err != nil {
				f.stop(err, endError)
			}
		case <-logFailed:
			f.stop(&localIOError{what: "writing the log", err: f.log.Err()}, endError)
		case err := <-f.drained:
			f.onDrained(err)
		case r := <-f.quieted:
			f.onQuiet(r)
		case err := <-f.scriptDone:
			f.onScriptDone(err)
		case now := <-timerC:
			f.checkDrainProgress(now)
		}
	}
	return f.shutdown()
}

// stop ends the console; the first reason wins.
func (f *frontend) stop(err error, how endHow) {
	if f.end == nil {
		f.end = &ending{err: err, how: how}
	}
}
