package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// console bridges the local side (terminal or pipe) and the SOL stream.
//
// One goroutine, the owner (run), holds the console's state and is the only
// one to change it. Everything else arrives as a message: stdin chunks
// (readInput), what the sender wrote into the stream (sender), the end of a
// stream's output (copyOutput), stream events, connection results, signals
// and timers. The owner never does blocking I/O: writing into the stream,
// stdout, stderr (messenger) and the log (logWriter) happen on goroutines of
// their own, and closing a stream too. So ~. and every signal are seen
// whatever the BMC, stdout or the log are doing.
type console struct {
	// Fixed at the start.
	o     *options
	addr  string
	scfg  ipmi.Config
	env   Env
	tty   bool // stdin and stdout are a terminal: raw mode, messages with CRLF
	ttyIn bool // stdin is a terminal: someone typing, who must be able to quit
	esc   *escape.Filter
	msgs  *messenger
	log   *logWriter
	debug io.Writer
	term  terminal

	// Messages to the owner.
	sigs      chan os.Signal
	cont      chan os.Signal
	input     chan inputChunk
	sendq     chan sendItem
	sent      chan sendResult
	streams   chan *sol.Stream
	outEnd    chan outEnd
	connected chan connResult
	drained   chan drainResult
	retryInfo chan solRetry

	copied  atomic.Uint64  // bytes written to stdout, for the bound on the last output
	closers sync.WaitGroup // streams being closed

	// The owner's state: touched by run and what it calls, nothing else.
	phase       phase
	att         *attachment
	everUp      bool
	bo          backoff
	lastErr     error     // why the console is waiting to reconnect
	retryAt     time.Time // next attempt, while waiting
	polite      bool      // taken over: reconnect without taking the console back
	connCancel  context.CancelFunc
	stdinEOF    bool
	queue       []inputItem // input not yet in the stream, oldest first
	queued      int         // bytes in queue
	inFlight    bool        // the sender holds queue[0]
	discarded   int         // typed bytes not sent in this episode
	discardWhy  string
	ended       *endedStream // a lost stream whose last Write has not reported yet
	copierBusy  bool
	copyWait    []*sol.Stream
	retry       solRetry
	progressAt  time.Time // end of input: last time the BMC accepted input
	progressOut uint64
	draining    bool // a Drain is under way
	lingerStart time.Time
	lastAct     uint64
	lastActAt   time.Time
	lingerCheck time.Time
	limiter     *noteLimiter
	hurried     bool // a second signal: skip the bounded waits at the end
	end         *ending

	// The ~C prompt.
	prompting bool
	confirm   func(yes bool)
	editor    escape.LineEditor
}

type phase int

const (
	connecting phase = iota // an attempt is under way
	waiting                 // backing off before the next attempt
	attached                // a stream is up
	draining                // end of input: waiting for the BMC to accept all input
	lingering               // end of input: passing output on until the BMC is quiet
)

// attachment is a stream while it is the console's.
type attachment struct {
	st      *sol.Stream
	since   time.Time
	written uint64 // bytes the stream took from Write
	ctx     context.Context
	cancel  context.CancelFunc // ends commands running on the stream's session
}

// endedStream remembers a stream that ended while the sender was in its
// Write, to count what it never delivered once that Write returns.
type endedStream struct {
	st       *sol.Stream
	written  uint64
	bytesOut uint64
}

type connResult struct {
	st  *sol.Stream
	err error
}

type drainResult struct {
	st  *sol.Stream
	err error
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

// inputQueueBytes bounds input waiting for the stream, on top of the
// stream's own buffer (64 KiB). In pipe mode stdin is not read while it is
// full; on a terminal, what does not fit is not sent, and one note says how
// much (see docs/console.md).
const inputQueueBytes = 32 << 10

func attach(o *options, addr string, cfg ipmi.Config, env Env, banner func(*console)) error {
	c := &console{o: o, addr: addr, scfg: cfg, env: env,
		sigs: make(chan os.Signal, 4), cont: make(chan os.Signal, 1), input: make(chan inputChunk),
		sendq: make(chan sendItem, 1), sent: make(chan sendResult, 1), streams: make(chan *sol.Stream, 1),
		outEnd: make(chan outEnd, 1), connected: make(chan connResult, 1), drained: make(chan drainResult, 1),
		retryInfo: make(chan solRetry, 1), retry: assumedRetry, limiter: newNoteLimiter(noteWindow)}
	c.ttyIn = isTerminal(env.Stdin)
	c.tty = c.ttyIn && isTerminal(env.Stdout)
	c.term = terminal{f: env.Stdin, on: c.tty}
	var err error
	if c.esc, err = o.escapeFilter(c.ttyIn); err != nil {
		return err
	}
	eol := "\n"
	if c.tty {
		eol = "\r\n"
	}
	c.msgs = newMessenger(env.Stderr, eol)
	defer c.msgs.stop()
	dbg, closeDebug, err := o.debugWriter(env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	c.debug = dbg
	if o.debug == "-" {
		c.debug = c.msgs // our lines in order with the notes, and never blocking
	}
	if o.logFile != "" {
		lw, err := openLog(o.logFile, o.logStamps)
		if err != nil {
			return &usageError{fmt.Sprintf("--log: %v", err)}
		}
		defer lw.Close() // after run has closed it: a no-op then
		c.log = lw
	}
	if banner != nil {
		banner(c)
	}
	// Signals: restore the terminal and close the session on every way out.
	notifyEndSignals(c.sigs)
	notifyContinue(c.cont)
	notifySIGPIPE(make(chan os.Signal, 1)) // never read: only so that EPIPE is an error
	defer stopSignals(c.sigs, c.cont)
	if err := c.term.enterRaw(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			c.term.finish()
			panic(r)
		}
	}()
	defer c.term.finish()
	return c.run()
}

// say prints one of ghmicons's own messages: marked, on stderr (stdout is
// console bytes only), with CRLF in raw mode. It never waits.
func (c *console) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c.tty {
		c.msgs.print("\r\n[ghmicons] " + strings.ReplaceAll(msg, "\n", "\r\n") + "\r\n")
	} else {
		c.msgs.print("ghmicons: " + msg + "\n")
	}
}

// note is a message that also goes into the log as a marked line.
func (c *console) note(format string, args ...any) {
	c.say(format, args...)
	c.logMark(fmt.Sprintf(format, args...))
}

func (c *console) logMark(msg string) {
	if c.log != nil {
		c.log.Mark(oneLine(msg))
	}
}

func (c *console) debugf(format string, args ...any) {
	if c.debug != nil {
		fmt.Fprintf(c.debug, "%s debug: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// run is the owner: it starts the first connection attempt and handles
// messages until the console ends.
func (c *console) run() error {
	go readInput(c.env.Stdin, c.input)
	go sender(c.sendq, c.sent)
	go c.copyOutput(c.streams, c.outEnd)
	c.startConnect(c.o.noSteal)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for c.end == nil {
		var timerC <-chan time.Time
		if d := c.deadline(); !d.IsZero() {
			timer.Reset(time.Until(d))
			timerC = timer.C
		}
		var input chan inputChunk
		if c.wantInput() {
			input = c.input
		}
		var events <-chan sol.Event
		var done <-chan struct{}
		if c.att != nil {
			events, done = c.att.st.Events(), c.att.st.Done()
		}
		var logFailed <-chan struct{}
		if c.log != nil {
			logFailed = c.log.Failed()
		}
		select {
		case s := <-c.sigs:
			c.stop(&signalError{sig: signalName(s)}, endSignal)
		case <-c.cont:
			_ = c.term.enterRaw()
		case in := <-input:
			c.onInput(in)
		case r := <-c.connected:
			c.onConnected(r)
		case ev := <-events:
			c.onEvent(ev)
		case <-done:
			c.streamEnded(c.att.st, c.att.st.Err())
		case r := <-c.sent:
			c.onSent(r)
		case e := <-c.outEnd:
			c.onOutEnd(e)
		case r := <-c.drained:
			c.onDrained(r)
		case r := <-c.retryInfo:
			c.retry = r
			c.debugf("SOL retry: %v; the end of input waits for %v of quiet", r, r.quiet())
		case <-logFailed:
			c.stop(&localIOError{what: "writing the log", err: c.log.Err()}, endError)
		case now := <-timerC:
			c.onTimer(now)
		}
	}
	return c.shutdown()
}

// stop ends the console; the first reason wins.
func (c *console) stop(err error, how endHow) {
	if c.end == nil {
		c.end = &ending{err: err, how: how}
	}
}

// deadline is the next time the owner has something to do unprompted.
func (c *console) deadline() time.Time {
	var t time.Time
	earliest := func(d time.Time) {
		if !d.IsZero() && (t.IsZero() || d.Before(t)) {
			t = d
		}
	}
	earliest(c.limiter.deadline())
	switch c.phase {
	case waiting:
		earliest(c.retryAt)
	case draining:
		earliest(c.progressAt.Add(inputStallBound))
	case lingering:
		earliest(c.lingerCheck)
	}
	return t
}

func (c *console) onTimer(now time.Time) {
	for _, s := range c.limiter.due(now) {
		c.summary(s)
	}
	switch c.phase {
	case waiting:
		if !now.Before(c.retryAt) {
			c.startConnect(c.o.noSteal || c.polite)
		}
	case draining:
		c.checkDrainProgress(now)
	case lingering:
		if !now.Before(c.lingerCheck) {
			c.checkQuiet(now)
		}
	}
}

// ---- connecting ----

func (c *console) startConnect(noSteal bool) {
	ctx, cancel := context.WithCancel(context.Background())
	c.connCancel = cancel
	c.phase = connecting
	go func() {
		st, err := c.connect(ctx, noSteal)
		c.connected <- connResult{st: st, err: err}
	}()
}

// connect opens a session and activates SOL.
func (c *console) connect(ctx context.Context, noSteal bool) (*sol.Stream, error) {
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
	st, err := sol.Activate(ctx, s, sol.Config{Instance: byte(c.o.instance), NoSteal: noSteal, Keepalive: keep})
	if err != nil {
		s.Close()
		return nil, err
	}
	c.debugf("SOL active: %d characters per packet", st.Stats().MaxChars)
	return st, nil
}

func (c *console) onConnected(r connResult) {
	c.connCancel()
	c.connCancel = nil
	now := time.Now()
	if r.err != nil {
		err := r.err
		switch {
		case !c.o.reconnect || !retryable(err):
			c.stop(err, endError)
			return
		case c.stdinEOF && !c.o.keepOpen:
			// Nothing to deliver and nothing to wait for: the attempt's
			// error is the outcome, never a silent 0.
			c.stop(err, endError)
			return
		}
		d := c.bo.wait()
		c.lastErr, c.phase, c.retryAt = err, waiting, now.Add(d)
		if c.polite && errors.Is(err, sol.ErrInUse) {
			c.note("the console is still in use by another session; checking again in %v", round(d))
		} else {
			c.note("cannot connect: %v; retrying in %v", oneLine(err.Error()), round(d))
		}
		return
	}
	st := r.st
	ctx, cancel := context.WithCancel(context.Background())
	c.att = &attachment{st: st, since: now, ctx: ctx, cancel: cancel}
	c.phase = attached
	c.lastErr = nil
	if !c.everUp {
		c.everUp = true
		c.note("connected to %s (cipher suite %d); %s", c.addr, st.Session().CipherSuite().ID, c.escapeHint())
		go c.afterAttach(ctx, st)
		go c.readRetry(ctx, st)
	} else if c.polite {
		c.note("reconnected to %s: the console was free again", c.addr)
	} else {
		c.note("reconnected to %s", c.addr)
	}
	c.polite = false
	c.endDiscard()
	c.copy(st)
	if c.stdinEOF && !c.o.keepOpen {
		c.beginEnd(now)
	}
	c.kickSender()
}

func (c *console) escapeHint() string {
	if !c.esc.Enabled() {
		return "escapes off"
	}
	e := escape.Printable(c.esc.Char())
	return fmt.Sprintf("%s. to quit, %s? for help", e, e)
}

// afterAttach applies --bootdev and --power once the console shows the
// host, so the operator sees the boot from its first byte.
func (c *console) afterAttach(ctx context.Context, st *sol.Stream) {
	for _, call := range []*command.Call{c.o.bootCmd, c.o.powerCmd} {
		if call == nil {
			continue
		}
		res, _ := call.Run(ctx, command.OnSession(st.Session()))
		if res.Logged {
			c.note("%s", res.Note)
		} else {
			c.say("%s", res.Note)
		}
	}
}

// readRetry asks the BMC how it retransmits console output (SOL
// configuration parameter 4), for the end-of-input rule; a BMC that does not
// say leaves the assumption in place.
func (c *console) readRetry(ctx context.Context, st *sol.Stream) {
	d, err := st.Session().Do(ctx, ipmi.NetFnTransport, cmdGetSOLConfig, solRetryRequest())
	if err == nil {
		var r solRetry
		if r, err = parseSOLRetry(d); err == nil {
			c.retryInfo <- r
			return
		}
	}
	c.debugf("SOL retry parameter not available (%v); assuming %v", err, assumedRetry)
}

// copy hands a stream to the copier, after the one it is busy with.
func (c *console) copy(st *sol.Stream) {
	if c.copierBusy {
		c.copyWait = append(c.copyWait, st)
		return
	}
	c.copierBusy = true
	c.streams <- st
}

func (c *console) onOutEnd(e outEnd) {
	c.copierBusy = false
	if len(c.copyWait) > 0 {
		next := c.copyWait[0]
		c.copyWait = c.copyWait[1:]
		c.copy(next)
	}
	var le *localIOError
	if errors.As(e.err, &le) {
		c.stop(e.err, endError)
		return
	}
	if c.att != nil && c.att.st == e.st {
		c.streamEnded(e.st, e.st.Err())
	}
}

// ---- a stream ends ----

// streamEnded handles the end of the current stream: lost, taken over, or
// ended by the BMC.
func (c *console) streamEnded(st *sol.Stream, err error) {
	if c.att == nil || c.att.st != st {
		return
	}
	if err == nil {
		err = fmt.Errorf("sol: %w", sol.ErrClosed)
	}
	att := c.att
	c.att = nil
	now := time.Now()
	stats := st.Stats()
	c.closeStream(att)
	c.bo.sessionEnded(now.Sub(att.since))
	if c.inFlight {
		c.ended = &endedStream{st: st, written: att.written, bytesOut: stats.BytesOut}
	} else {
		c.notDelivered(att.written, stats.BytesOut)
	}
	if c.prompting {
		c.prompting, c.confirm = false, nil
		c.say("prompt closed: the console is gone")
	}
	if c.ttyIn {
		// Typed input waits for no session: what was not sent is dropped,
		// and counted.
		c.dropQueue("the console was not connected")
	}
	switch {
	case c.phase == draining || c.phase == lingering:
		// The end of input was under way: what it waited for is lost.
		c.stop(err, endError)
		return
	case !c.o.reconnect || !retryable(err):
		c.stop(err, endError)
		return
	}
	d := c.bo.wait()
	c.lastErr, c.phase, c.retryAt = err, waiting, now.Add(d)
	if errors.Is(err, sol.ErrTakenOver) {
		// Taking it straight back starts a fight with the other console
		// (two --reconnect clients activated 94 times in 15 s): wait until
		// it is free instead, checking with a growing backoff.
		c.polite = true
		hint := ""
		if c.tty && c.esc.Enabled() {
			hint = fmt.Sprintf("; %sR takes it back now", escape.Printable(c.esc.Char()))
		}
		c.note("%s; not taking it back: reconnecting once it is free (first check in %v%s)", oneLine(err.Error()), round(d), hint)
		return
	}
	c.note("connection lost: %s; reconnecting in %v", oneLine(err.Error()), round(d))
}

// notDelivered says how much input a lost stream took without the BMC
// accepting it.
func (c *console) notDelivered(written, bytesOut uint64) {
	if written > bytesOut {
		c.note("%d bytes of input were not delivered: the session ended before the BMC accepted them", written-bytesOut)
	}
}

// closeStream deactivates and closes a stream on a goroutine of its own
// (Close waits a bounded time for the BMC); the end waits for it.
func (c *console) closeStream(att *attachment) {
	att.cancel()
	c.closers.Add(1)
	go func() {
		defer c.closers.Done()
		if err := att.st.Close(); errors.Is(err, sol.ErrUndelivered) {
			c.note("%s", oneLine(err.Error()))
		}
	}()
}

// ---- input ----

// wantInput says whether the owner takes the next stdin chunk now.
func (c *console) wantInput() bool {
	switch {
	case c.stdinEOF:
		return false
	case c.ttyIn:
		// Always: ~. must be seen whatever the BMC does.
		return true
	case c.att == nil:
		// Pipe mode while disconnected: hold one chunk for the next
		// session (stdin stops there), and so still see the end of input
		// at once when there is nothing more.
		return c.queued == 0
	}
	// Pipe mode: backpressure, as a pipe to a slow reader has.
	return c.queued < inputQueueBytes
}

func (c *console) onInput(in inputChunk) {
	if len(in.b) > 0 {
		c.handleInput(in.b)
	}
	if in.err == nil || c.end != nil {
		return
	}
	c.stdinEOF = true
	if in.err != io.EOF {
		c.debugf("stdin: %v", in.err)
	}
	if c.o.keepOpen {
		return
	}
	switch c.phase {
	case attached:
		c.beginEnd(time.Now())
	case waiting:
		// Never exit 0 without having delivered anything: the reason for
		// waiting is the outcome.
		c.stop(c.lastErr, endError)
	}
	// connecting: the attempt's result decides (onConnected).
}

// handleInput runs typed bytes through the escape filter (or the ~C prompt)
// and queues the rest.
func (c *console) handleInput(b []byte) {
	if c.prompting {
		c.promptKeys(b)
		return
	}
	acts := c.esc.Process(b)
	for i, a := range acts {
		if c.end != nil {
			return
		}
		if a.Command == 0 {
			c.queueInput(inputItem{b: a.Data})
			continue
		}
		switch a.Command {
		case escape.Quit:
			c.stop(nil, endQuit)
		case escape.Break:
			if c.att == nil {
				c.say("not connected: no BREAK sent")
				continue
			}
			c.queueInput(inputItem{brk: true})
		case escape.Help:
			c.say("%s", escape.HelpText(c.esc.Char(), promptSummary()))
		case escape.Suspend:
			c.suspend()
		case escape.Status:
			c.status()
		case escape.Reconnect:
			c.reconnectNow()
		case escape.Prompt:
			if c.att == nil {
				c.say("not connected: the prompt needs a session")
				continue
			}
			c.startPrompt()
			// The rest of this read belongs to the prompt.
			var rest []byte
			for _, r := range acts[i+1:] {
				rest = append(rest, r.Data...)
			}
			if len(rest) > 0 {
				c.promptKeys(rest)
			}
			return
		}
	}
}

// queueInput queues input for the stream. On a terminal, input beyond the
// bound, or typed while there is no session, is not sent but counted.
func (c *console) queueInput(it inputItem) {
	if c.ttyIn {
		if c.att == nil {
			c.discard(len(it.b), "the console was not connected")
			return
		}
		if room := inputQueueBytes - c.queued; len(it.b) > room {
			c.discard(len(it.b)-max(room, 0), "the BMC was not accepting input")
			if room <= 0 {
				return
			}
			it.b = it.b[:room]
		}
	}
	c.queue = append(c.queue, it)
	c.queued += len(it.b)
	c.kickSender()
}

func (c *console) discard(n int, why string) {
	if n <= 0 {
		return
	}
	if c.discarded == 0 {
		c.discardWhy = why
	}
	c.discarded += n
}

// endDiscard says, once per episode, how much typed input was not sent.
func (c *console) endDiscard() {
	if c.discarded > 0 {
		c.say("%d bytes of typed input were not sent: %s", c.discarded, c.discardWhy)
		c.discarded = 0
	}
}

// dropQueue drops what waits for a stream that is gone (terminal only).
func (c *console) dropQueue(why string) {
	if c.inFlight {
		// The sender still holds the first item; its result pops it.
		for _, it := range c.queue[1:] {
			c.discard(len(it.b), why)
		}
		c.queued = len(c.queue[0].b)
		c.queue = c.queue[:1]
		return
	}
	c.discard(c.queued, why)
	c.queue, c.queued = nil, 0
}

// kickSender gives the sender the next item when it is idle.
func (c *console) kickSender() {
	if c.inFlight || c.att == nil || len(c.queue) == 0 || c.end != nil {
		return
	}
	c.inFlight = true
	c.sendq <- sendItem{st: c.att.st, inputItem: c.queue[0]}
}

func (c *console) onSent(r sendResult) {
	c.inFlight = false
	if len(c.queue) > 0 {
		it := &c.queue[0]
		if r.brk {
			c.queue = c.queue[1:]
			if r.err == nil {
				c.say("BREAK sent")
			}
		} else {
			it.b = it.b[r.n:]
			c.queued -= r.n
			if len(it.b) == 0 {
				c.queue = c.queue[1:]
			}
		}
	}
	if c.att != nil && c.att.st == r.st {
		c.att.written += uint64(r.n)
	} else if c.ended != nil && c.ended.st == r.st {
		c.notDelivered(c.ended.written+uint64(r.n), c.ended.bytesOut)
		c.ended = nil
	}
	if c.att == nil && c.ttyIn {
		c.dropQueue("the console was not connected")
	}
	if c.queued == 0 && c.att != nil {
		c.endDiscard()
	}
	c.kickSender()
	if c.phase == draining {
		c.startDrain()
	}
}

// ---- stream events ----

func (c *console) onEvent(ev sol.Event) {
	// One case per kind; notes a broken BMC can repeat on every packet go
	// through the rate limit.
	switch ev.Kind {
	case sol.InputStalled:
		c.limitedNote(kindInput, fmt.Sprintf("the BMC is not accepting console input (%s); it is kept and sent when the BMC takes it", ev.Detail))
	case sol.InputResumed:
		c.limitedNote(kindInput, "the BMC accepts console input again")
	case sol.HostOff:
		c.limitedNote(kindPower, "host powered off or its serial port is unavailable")
	case sol.HostOn:
		c.limitedNote(kindPower, "host serial port available again")
	case sol.BreakDetected:
		c.limitedNote(kindBreak, "BREAK from the host")
	case sol.Overrun:
		c.limitedNote(kindOverrun, "the BMC dropped host output (overrun)")
	}
	// TakenOver and SessionLost end the stream: Done handles them.
}

// logged says which kinds go into the log as well as on stderr.
func (k noteKind) logged() bool { return k == kindPower || k == kindInput }

func (c *console) limitedNote(k noteKind, msg string) {
	if !c.limiter.allow(k, msg, time.Now()) {
		return
	}
	if k.logged() {
		c.note("%s", msg)
	} else {
		c.say("%s", msg)
	}
}

func (c *console) summary(s noteSummary) {
	if s.kind.logged() {
		c.note("%s", s)
	} else {
		c.say("%s", s)
	}
}

// ---- escapes ----

func (c *console) reconnectNow() {
	switch c.phase {
	case connecting:
		c.say("already connecting")
		return
	case attached:
		att := c.att
		c.att = nil
		c.closeStream(att)
		c.bo.sessionEnded(time.Since(att.since))
		if c.prompting {
			c.prompting, c.confirm = false, nil
		}
		// Close drains what the stream took (bounded); in pipe mode the
		// queue waits for the next stream.
		if c.ttyIn {
			c.dropQueue("the console was reconnecting")
		}
	}
	c.note("reconnecting on request")
	// Asked for: the console is taken back if someone else has it.
	c.polite = false
	c.startConnect(c.o.noSteal)
}

func (c *console) suspend() {
	if !c.tty {
		c.say("suspend needs a terminal")
		return
	}
	if err := canSuspend(); err != nil {
		c.say("%v", err)
		return
	}
	c.say("suspended; fg to resume")
	c.msgs.flush(time.Second) // the note before the shell's prompt
	c.term.leaveRaw()
	if err := suspendProcess(); err != nil {
		c.say("suspend: %v", err)
	}
	// Raw again on SIGCONT (run), whatever the shell did to the terminal
	// meanwhile; and here, in case the stop did not happen (no job control).
	_ = c.term.enterRaw()
}

// status (~#) asks the BMC for the power state on a goroutine of its own,
// so that a BMC that does not answer holds up nothing.
func (c *console) status() {
	if c.att == nil {
		if c.phase == waiting {
			c.say("not connected (%s); next attempt in %v", oneLine(fmt.Sprint(c.lastErr)), round(time.Until(c.retryAt)))
		} else {
			c.say("not connected; connecting to %s", c.addr)
		}
		return
	}
	st, ctx := c.att.st, c.att.ctx
	go func() {
		s := st.Session()
		stats := st.Stats()
		power := "unknown"
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if cs, err := s.ChassisStatus(ctx); err == nil {
			power = onOff(cs.PowerOn)
		}
		ss := s.Stats()
		c.say("peer %s, cipher suite %s, privilege %s\npackets sent %d, received %d, retransmissions %d (requests %d), duplicates %d, round trip %v\nhost power %s",
			s.RemoteAddr(), s.CipherSuite(), s.Privilege(), ss.Sent, ss.Received, stats.Retransmissions, ss.Retransmissions,
			stats.Duplicates, stats.RTT.Round(time.Microsecond), power)
	}()
}

func stopSignals(chs ...chan os.Signal) {
	for _, ch := range chs {
		signal.Stop(ch)
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
