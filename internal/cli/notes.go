package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/escape"
)

// ghmicons's own messages: notes on stderr, marked lines in the log, and
// what each of the console's events says.

// say prints one of ghmicons's own messages: marked, on stderr (stdout is
// console bytes only), with CRLF in raw mode. It never waits.
func (f *frontend) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if f.tty {
		f.msgs.print("\r\n[ghmicons] " + strings.ReplaceAll(msg, "\n", "\r\n") + "\r\n")
	} else {
		f.msgs.print("ghmicons: " + msg + "\n")
	}
}

// note is a message that also goes into the log as a marked line, in order
// with the output (through the console's event stream).
func (f *frontend) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.say("%s", msg)
	if f.log != nil {
		_ = f.con.Annotate(oneLine(msg))
	}
}

// logMark writes a marked line straight to the log: for the last lines,
// once the console's output is all in.
func (f *frontend) logMark(msg string) {
	if f.log != nil {
		f.log.Mark(oneLine(msg))
	}
}

func (f *frontend) debugf(format string, args ...any) {
	if f.debug != nil {
		fmt.Fprintf(f.debug, "%s debug: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// noteText is what an event says: the text, whether it goes into the log
// too, and whether it is said at all (debug-only events are not). It runs
// on the owner and on the log's copier, so it reads only what never
// changes.
func (f *frontend) noteText(ev console.Event) (text string, logged, shown bool) {
	switch ev.Kind {
	case console.Connected:
		switch {
		case !ev.Reconnect:
			return fmt.Sprintf("connected to %s (cipher suite %d); %s", f.addr, ev.Session.CipherSuite.ID, f.escapeHint()), true, true
		case ev.Polite:
			return fmt.Sprintf("reconnected to %s: the console was free again", f.addr), true, true
		}
		return fmt.Sprintf("reconnected to %s", f.addr), true, true
	case console.TakenOver:
		hint := ""
		if f.tty && f.esc.Enabled() {
			hint = fmt.Sprintf("; %sR takes it back now", escape.Printable(f.esc.Char()))
		}
		return fmt.Sprintf("%s; not taking it back: reconnecting once it is free (first check in %v%s)",
			oneLine(ev.Err.Error()), round(ev.Retry), hint), true, true
	case console.ConnectFailed, console.Lost, console.Reconnecting, console.InputUndelivered,
		console.HostOff, console.HostOn, console.InputStalled, console.InputResumed:
		return ev.String(), true, true
	case console.HostBreak, console.Overrun, console.BreakSent, console.InputDiscarded:
		return ev.String(), false, true
	case console.Suppressed:
		return ev.String(), ev.Of == console.HostOff || ev.Of == console.InputStalled, true
	case console.Note:
		// Our own notes (note): said already; the log takes them here.
		return ev.Detail, true, false
	}
	return ev.String(), false, false
}

func (f *frontend) escapeHint() string {
	if !f.esc.Enabled() {
		return "escapes off"
	}
	e := escape.Printable(f.esc.Char())
	return fmt.Sprintf("%s. to quit, %s? for help", e, e)
}

// logNote is the log's view of the events (console.Log.Follow).
func (f *frontend) logNote(ev console.Event) (string, bool) {
	text, logged, _ := f.noteText(ev)
	return text, logged
}

// onEvent handles one of the console's events: what the front end does
// about it, and its note.
func (f *frontend) onEvent(ev console.Event) {
	switch ev.Kind {
	case console.Connecting:
		f.debugf("connecting to %s as %q, privilege %s, cipher suites %s (%s)", f.addr, f.scfg.Username, f.scfg.Privilege,
			suitesText(f.scfg.CipherSuites), map[bool]string{true: "taking it over if in use", false: "not taking it over"}[ev.Steal])
	case console.Connected:
		f.attached = true
		s := ev.Session
		f.debugf("session up: cipher suite %s, privilege %s, BMC session 0x%08x; SOL active: %d characters per packet",
			s.CipherSuite, s.Privilege, s.BMCSessionID, s.MaxChars)
	case console.Lost, console.TakenOver, console.Reconnecting:
		f.attached = false
	case console.RetryKnown:
		f.debugf("%s; the end of input waits for %v of quiet", ev, f.con.Stats().Retry.Quiet())
	}
	f.sayEvent(ev)
	if ev.Kind != console.Connected {
		return
	}
	if !f.everUp {
		f.everUp = true
		go f.afterAttach()
	}
	if f.stdinEOF && !f.o.keepOpen {
		f.beginEnd(time.Now())
	}
	f.pump()
}

// sayEvent says an event's note (on the way out too, for the console's last
// events).
func (f *frontend) sayEvent(ev console.Event) {
	switch ev.Kind {
	case console.Lost, console.TakenOver, console.Reconnecting:
		f.closePrompt("prompt closed: the console is gone")
	case console.Ended:
		if ev.Err != nil {
			f.closePrompt("prompt closed: the console is gone")
		}
	case console.Missed:
		f.debugf("%s", ev)
	}
	if !f.ownerNote(ev) {
		return // the stdout copier says it, in place (streamnotes.go)
	}
	if text, _, shown := f.noteText(ev); shown {
		f.say("%s", text)
	}
}

// afterAttach runs --bootdev and --power once the console shows the host,
// so the operator sees the boot from its first byte.
func (f *frontend) afterAttach() {
	if f.o.script != nil {
		f.runScript() // the script runs them, first
		return
	}
	for _, call := range []*command.Call{f.o.bootCmd, f.o.powerCmd} {
		if call != nil {
			res, _ := call.Run(f.ctx, f.con)
			f.sayResult(res.Note, res.Logged)
		}
	}
}

// sayResult says a command's result; a result that changed the machine
// goes into the log too.
func (f *frontend) sayResult(note string, logged bool) {
	switch {
	case note == "":
	case logged:
		f.note("%s", note)
	default:
		f.say("%s", note)
	}
}
