package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/escape"
)

// Attaching: a viewer of a console. Modes: rw (the default when the key
// allows it: shared with the other rw viewers, as conman's join), force
// (rw, and the write side is this viewer's alone until it leaves), spy
// (read-only). With a pty the session has escapes (^Ec by default) and our
// notes inline; without one it is a binary-clean pipe: console bytes on
// stdout, notes on stderr, no escapes.

// viewer is one attached session.
type viewer struct {
	who    string
	remote string
	mode   Role // RoleSpy or RoleRW
	since  time.Time
	pty    bool

	notes  chan string // our messages, to the output goroutine
	cancel context.CancelCauseFunc
}

var errKicked = errors.New("kicked")

// note queues one of our messages for the viewer; it never waits.
func (v *viewer) note(msg string) {
	select {
	case v.notes <- msg:
	default:
	}
}

// kick ends the viewer's session, saying why.
func (v *viewer) kick(why string) {
	v.note(why)
	v.cancel(fmt.Errorf("%w: %s", errKicked, why))
}

func (e *entry) canWriteLocked(v *viewer) bool {
	return v.mode == RoleRW && (e.exclusive == nil || e.exclusive == v)
}

// join adds a viewer; force gives it the write side alone.
func (e *entry) join(v *viewer, force bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.gone:
		return errGone
	default:
	}
	e.viewers[v] = struct{}{}
	if force {
		e.forceLocked(v)
	}
	return nil
}

var errGone = errors.New("the console was stopped")

// forceLocked gives v the write side alone; the viewers who wrote are told.
func (e *entry) forceLocked(v *viewer) {
	prev := e.exclusive
	e.exclusive = v
	for o := range e.viewers {
		if o != v && o.mode == RoleRW && (prev == nil || prev == o) {
			o.note(fmt.Sprintf("%s forced the write side: you are read-only until they leave", v.who))
		}
	}
}

func (e *entry) leave(v *viewer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.viewers, v)
	if e.exclusive == v {
		e.exclusive = nil
		for o := range e.viewers {
			if o.mode == RoleRW {
				o.note(fmt.Sprintf("%s left: the write side is shared again", v.who))
			}
		}
	}
}

var errReadOnly = errors.New("read-only")

// write sends a viewer's input through the console's shared Writer.
func (e *entry) write(v *viewer, p []byte) error {
	e.mu.Lock()
	ok := e.canWriteLocked(v)
	e.mu.Unlock()
	if !ok {
		return errReadOnly
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if e.w == nil {
		return console.ErrNotStarted
	}
	_, err := e.w.Write(p)
	return err
}

func (e *entry) who() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for v := range e.viewers {
		state := "spy"
		if v.mode == RoleRW {
			state = "rw"
			if e.exclusive == v {
				state = "rw, forced"
			} else if !e.canWriteLocked(v) {
				state = "rw, read-only now"
			}
		}
		out = append(out, fmt.Sprintf("%s (%s) from %s since %s", v.who, state, v.remote, v.since.UTC().Format(time.TimeOnly)))
	}
	return out
}

// attach runs a viewer on the console spec names ("node01[:mode]").
func (ss *session) attach(ctx context.Context, spec string, _ []string) int {
	name, mode := target(spec)
	e := ss.srv.Fleet.lookup(name)
	if e == nil || ss.grant.For(name, e.groupsNow()) == RoleNone {
		return ss.exitf(ExitRefused, "%s: no such console for this key (try: list)", name)
	}
	granted := ss.grant.For(name, e.groupsNow())
	want, force := granted, false
	switch mode {
	case "":
	case "ro", "spy":
		want = RoleSpy
	case "rw":
		want = RoleRW
	case "force":
		want, force = RoleRW, true
	default:
		return ss.exitf(ExitUsage, "%s: mode %q: ro, rw or force", name, mode)
	}
	if want > granted {
		return ss.exitf(ExitRefused, "%s: role too low: this key may only spy", name)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	v := &viewer{who: ss.grant.Who, remote: ss.remote, mode: want, since: time.Now(), pty: ss.pty,
		notes: make(chan string, 64), cancel: cancel}
	if err := e.join(v, force); err != nil {
		return ss.exitf(ExitGone, "%s: %v", name, err)
	}
	defer e.leave(v)
	_ = e.con.Annotate(fmt.Sprintf("%s attached (%s%s) from %s", v.who, want, map[bool]string{true: ", force"}[force], v.remote))
	defer func() { _ = e.con.Annotate(fmt.Sprintf("%s detached", v.who)) }()

	r := e.con.NewReader(console.ReaderConfig{Name: v.who, Lossy: true, Replay: true, Events: true})
	defer r.Close()
	skip := max(r.Stats().Buffered-e.spec.Replay, 0)

	a := &attachment{ss: ss, e: e, v: v, lead: 0, second: 0}
	if ss.pty {
		a.lead, a.second, _ = ParseEscape(*ss.srv.escape.Load())
		a.esc = escFilter{lead: a.lead, second: a.second}
	}
	a.say(a.banner(name, want, force, granted, mode == ""))

	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		a.output(ctx, r, skip)
	}()
	inDone := make(chan error, 1)
	go func() { inDone <- a.input(ctx) }()
	var code int
	select {
	case err := <-inDone:
		if err == nil || errors.Is(err, io.EOF) {
			if !ss.pty {
				a.endOfPipe(ctx)
			}
			code = ExitOK
		} else {
			code = ExitFailed
		}
	case <-ctx.Done():
		code = ExitGone
		if cause := context.Cause(ctx); !errors.Is(cause, errKicked) {
			code = ExitOK
		}
	case <-e.con.Done():
		a.say(fmt.Sprintf("%s: the console has ended", name))
		code = ExitGone
	}
	cancel(nil)
	<-outDone
	return code
}

// endOfPipe: the pipe's input ended; what it wrote goes out, and the
// output that follows it, until the BMC is quiet (as ghmicons's pipe).
func (a *attachment) endOfPipe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.e.con.Drain(ctx); err != nil {
		return
	}
	_, _ = a.e.con.WaitQuiet(ctx, 2*time.Second)
}

// attachment is an attached viewer's input and output.
type attachment struct {
	ss   *session
	e    *entry
	v    *viewer
	outM sync.Mutex // one writer of stdout at a time
	inM  sync.Mutex // one handler of input (keys, BREAK) at a time

	lead, second byte // the escape, 0: none
	esc          escFilter
	prompting    bool
	editor       escape.LineEditor
	confirm      *command.Call
	toldRO       bool
}

func (a *attachment) escName() string {
	if a.lead == 0 {
		return ""
	}
	return escape.Printable(a.lead) + string(a.second)
}

func (a *attachment) banner(name string, want Role, force bool, granted Role, dflt bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", name)
	switch {
	case force:
		b.WriteString("attached read-write, the write side forced to you")
	case want == RoleRW:
		b.WriteString("attached read-write")
	case dflt && granted == RoleSpy:
		b.WriteString("attached read-only (this key may only spy)")
	default:
		b.WriteString("attached read-only (spy)")
	}
	if n := len(a.e.who()) - 1; n > 0 {
		fmt.Fprintf(&b, ", %d other viewer(s)", n)
	}
	st := a.e.con.Stats()
	if st.State != console.StateAttached {
		state, detail := stateText(a.e.status())
		fmt.Fprintf(&b, "; the console is %s", state)
		if detail != "" {
			fmt.Fprintf(&b, " (%s)", detail)
		}
	}
	if e := a.escName(); e != "" {
		fmt.Fprintf(&b, "; %s? for help, %s. to leave", e, e)
	}
	return b.String()
}

// say writes one of our messages: inline on a pty (on lines of its own),
// on stderr in a pipe.
func (a *attachment) say(msg string) {
	a.outM.Lock()
	defer a.outM.Unlock()
	if a.v.pty {
		_, _ = io.WriteString(a.ss.ch, "\r\n[ghmicons] "+strings.ReplaceAll(msg, "\n", "\r\n[ghmicons] ")+"\r\n")
		return
	}
	_, _ = io.WriteString(a.ss.ch.Stderr(), "ghmicons: "+strings.ReplaceAll(msg, "\n", "\nghmicons: ")+"\n")
}

func (a *attachment) echo(s string) {
	a.outM.Lock()
	defer a.outM.Unlock()
	_, _ = io.WriteString(a.ss.ch, s)
}

// viewerNote is what a viewer is told of an event.
func viewerNote(ev console.Event) (string, bool) {
	switch ev.Kind {
	case console.InputDiscarded, console.BreakSent, console.HostBreak, console.Overrun:
		return ev.String(), true
	case console.Note:
		return ev.Detail, true
	}
	return logNote(ev)
}

// output copies the console's output (after skip bytes of the replay) and
// our notes to the viewer. It waits on the reader itself (Ready, Poll):
// a goroutine in between would add a hand-off to every keystroke's echo.
func (a *attachment) output(ctx context.Context, r *console.Reader, skip int) {
	for {
		c, ok, err := r.Poll()
		if err != nil {
			a.drainNotes()
			return
		}
		if !ok {
			select {
			case <-r.Ready():
			case msg := <-a.v.notes:
				a.say(msg)
			case <-ctx.Done():
				a.drainNotes()
				return
			}
			continue
		}
		switch {
		case c.Data != nil:
			d := c.Data
			if skip > 0 {
				n := min(skip, len(d))
				d, skip = d[n:], skip-n
			}
			if len(d) > 0 {
				a.outM.Lock()
				_, err := a.ss.ch.Write(d)
				a.outM.Unlock()
				if err != nil {
					a.v.cancel(err)
					return
				}
			}
		case c.Event != nil:
			if text, ok := viewerNote(*c.Event); ok {
				a.say(text)
			}
		case c.Skipped > 0:
			a.say(fmt.Sprintf("%d bytes of output skipped: this session was too slow", c.Skipped))
		}
		select {
		case msg := <-a.v.notes:
			a.say(msg)
		default:
		}
		if ctx.Err() != nil {
			a.drainNotes()
			return
		}
	}
}

func (a *attachment) drainNotes() {
	for {
		select {
		case msg := <-a.v.notes:
			a.say(msg)
		default:
			return
		}
	}
}

// input reads the viewer's keys until the channel's input ends (io.EOF),
// the viewer leaves (nil) or the session is cancelled. The keys are handled
// in the goroutine that reads them, with no hand-off on the way to the
// console; BREAK requests come in another, so the two share inM.
func (a *attachment) input(ctx context.Context) error {
	go func() {
		for {
			select {
			case <-a.ss.breaks:
				a.inM.Lock()
				a.sendBreak()
				a.inM.Unlock()
			case <-ctx.Done():
				return
			}
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, err := a.ss.ch.Read(buf)
		if ctx.Err() != nil {
			return ctx.Err() // the viewer has gone: what came after is not sent
		}
		if n > 0 {
			a.inM.Lock()
			quit := a.keys(ctx, buf[:n])
			a.inM.Unlock()
			if quit {
				return nil
			}
		}
		if err != nil {
			return err
		}
	}
}

// keys handles typed input: escapes, the command line, and what goes to
// the console. It reports whether the viewer left.
func (a *attachment) keys(ctx context.Context, p []byte) bool {
	var out []byte
	flush := func() {
		if len(out) > 0 {
			a.send(out)
			out = nil
		}
	}
	for _, b := range p {
		if a.prompting {
			a.promptKey(ctx, b)
			continue
		}
		send, cmd, isCmd := a.esc.Feed(b)
		out = append(out, send...)
		if isCmd {
			flush()
			if a.command(ctx, cmd) {
				return true
			}
		}
	}
	flush()
	return false
}

// send writes typed input to the console, or says once that this viewer
// is read-only.
func (a *attachment) send(p []byte) {
	err := a.e.write(a.v, p)
	switch {
	case errors.Is(err, errReadOnly):
		if !a.toldRO {
			a.toldRO = true
			a.say("read-only: your input is not sent" + a.forceHint())
		}
	case err == nil:
		a.toldRO = false
	}
}

func (a *attachment) forceHint() string {
	if a.v.mode == RoleRW && a.lead != 0 {
		return fmt.Sprintf(" (%sf takes the write side)", a.escName())
	}
	return ""
}

func (a *attachment) sendBreak() {
	a.e.mu.Lock()
	ok := a.e.canWriteLocked(a.v)
	a.e.mu.Unlock()
	if !ok {
		a.say("read-only: no BREAK" + a.forceHint())
		return
	}
	if err := a.e.con.SendBreak(); err != nil {
		a.say(fmt.Sprintf("no BREAK: %v", err))
	}
}

// command runs the escape command after the escape; it reports whether
// the viewer leaves.
func (a *attachment) command(ctx context.Context, c byte) bool {
	switch c {
	case '.':
		a.say("leaving")
		return true
	case '?':
		a.say(a.escapeHelp())
	case 'w':
		a.say("attached: " + strings.Join(a.e.who(), "; "))
	case 'r':
		a.replayAll(ctx)
	case 'f':
		if a.v.mode != RoleRW {
			a.say("role too low: a spy cannot take the write side")
			return false
		}
		a.e.mu.Lock()
		a.e.forceLocked(a.v)
		a.e.mu.Unlock()
		_ = a.e.con.Annotate(a.v.who + " forced the write side")
		a.say("the write side is yours alone")
	case 'b':
		a.sendBreak()
	case ':':
		a.prompting, a.confirm = true, nil
		a.editor.Reset()
		a.editor.Prompt = "ghmicons> "
		a.editor.Complete = func(line string) []string { return command.Complete(command.Prompt, line) }
		a.echo("\r\nghmicons> ")
	default:
		if c == a.second || c == a.lead {
			// The escape sent as itself: ^Ec then c or ^E.
			a.send([]byte{a.lead, a.second})
			return false
		}
		a.say(fmt.Sprintf("unknown escape %s%q; %s? for help", a.escName(), c, a.escName()))
	}
	return false
}

func (a *attachment) escapeHelp() string {
	e := a.escName()
	return strings.Join([]string{
		"escapes (" + e + " then a key):",
		"  " + e + ".  leave       " + e + "?  this help",
		"  " + e + "w  who is attached",
		"  " + e + "r  replay the console's history",
		"  " + e + "f  force: take the write side (rw)",
		"  " + e + "b  send a BREAK (rw)",
		"  " + e + ":  command line: " + commandNames(),
		"  " + e + string(a.second) + "  send " + e + " itself",
	}, "\n")
}

func commandNames() string { return command.Summary(command.Prompt) }

// replayAll sends the console's whole history, between two notes.
func (a *attachment) replayAll(ctx context.Context) {
	r := a.e.con.NewReader(console.ReaderConfig{Name: a.v.who + " replay", Lossy: true, Replay: true,
		Buffer: a.e.spec.History + 1})
	defer r.Close()
	n := r.Stats().Buffered
	a.say(fmt.Sprintf("replay of the last %d bytes:", n))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for n > 0 {
		c, err := r.Next(ctx)
		if err != nil {
			break
		}
		if c.Data != nil {
			d := c.Data[:min(len(c.Data), n)]
			n -= len(d)
			a.echo(string(d))
		}
	}
	a.say("end of replay")
}

// promptKey feeds the ^Ec: command line (and its y/N question).
func (a *attachment) promptKey(ctx context.Context, k byte) {
	if call := a.confirm; call != nil {
		yes := k == 'y' || k == 'Y'
		a.echo(map[bool]string{true: "y", false: "n"}[yes])
		a.prompting, a.confirm = false, nil
		if yes {
			go a.runCall(ctx, call)
		} else {
			a.say(call.String() + " cancelled")
		}
		return
	}
	res, echo := a.editor.Feed(k)
	a.echo(echo)
	switch res {
	case escape.Cancelled:
		a.prompting = false
		a.say("cancelled")
	case escape.Submitted:
		a.prompting = false
		words := strings.Fields(a.editor.Line())
		if len(words) == 0 {
			return
		}
		call, err := a.ss.parseFor(a.e, a.v.mode, words)
		if err != nil {
			a.say(err.Error())
			return
		}
		if call.Destructive {
			a.prompting, a.confirm = true, call
			a.echo("\r\n" + call.Question + " [y/N] ")
			return
		}
		go a.runCall(ctx, call)
	}
}

func (a *attachment) runCall(ctx context.Context, call *command.Call) {
	out, err := a.ss.runCall(ctx, a.e, call)
	if err != nil {
		a.say(err.Error())
		return
	}
	a.say(strings.TrimRight(out, "\n"))
}
