package console

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// EventKind says what happened to a console.
type EventKind int

// Event kinds. Which fields of Event each one sets is written next to it.
const (
	// Connecting: an attempt to open a session and activate SOL has begun.
	// Steal says whether it takes the console from another session.
	Connecting EventKind = iota + 1
	// Connected: SOL is active. Session describes it; Reconnect is set for
	// every connection after the first, Polite when the console had been
	// taken over and was found free again.
	Connected
	// ConnectFailed: an attempt failed and another follows after Retry. Err
	// says why; Polite is set when the console waits for another session to
	// leave (Err is then sol.ErrInUse).
	ConnectFailed
	// Lost: the session ended (no answer, keepalives failed, the BMC
	// rebooted); the console reconnects after Retry. Err says why.
	Lost
	// TakenOver: another session took the console, or the BMC deactivated
	// it. The console does not take it back: it checks after Retry, and
	// then with the growing backoff, whether the console is free. Err says
	// who (sol.ErrTakenOver, sol.ErrDeactivated).
	TakenOver
	// Reconnecting: Reconnect was called; a new attempt, which takes the
	// console back if another session has it, has begun.
	Reconnecting
	// HostOff and HostOn: the BMC says the host's serial port became
	// unavailable (usually: powered off) or available again.
	HostOff
	HostOn
	// HostBreak: the host sent a BREAK.
	HostBreak
	// Overrun: the BMC dropped host output.
	Overrun
	// InputStalled: input has waited with the BMC accepting none of it;
	// Detail says how the BMC refuses and how much waits. InputResumed
	// follows when it accepts input again.
	InputStalled
	InputResumed
	// Suppressed summarises events of one group that the rate limit held
	// back: Count of them in the last Span, the last one being Last. Of is
	// the group (HostOff for host power, HostBreak, Overrun, InputStalled).
	Suppressed
	// BreakSent: a BREAK queued with SendBreak reached the stream.
	BreakSent
	// InputDiscarded: a lossy Writer's input was not sent: Bytes of it,
	// Detail says why. Reported once per episode: when the queue has
	// drained, at the next connection, or at the end.
	InputDiscarded
	// InputUndelivered: a stream ended with Bytes of input it had taken
	// that the BMC had not accepted; they may or may not have reached the
	// host, so they are not sent again. Err, when set, is the stream's own
	// report (sol.ErrUndelivered from Close).
	InputUndelivered
	// ReaderLagged: a lossy Reader fell behind and skipped Bytes of output
	// (Detail names it).
	ReaderLagged
	// RetryKnown: the BMC's SOL retry configuration, which WaitQuiet waits
	// for, was read (Detail describes it) or is assumed (Err says why).
	RetryKnown
	// Note: text given to Annotate (Detail).
	Note
	// Ended: the console has ended. Err is why, nil after Close.
	Ended
	// Missed: a subscriber missed Count events because its channel was
	// full.
	Missed
)

var kindNames = map[EventKind]string{
	Connecting: "connecting", Connected: "connected", ConnectFailed: "connect failed", Lost: "lost",
	TakenOver: "taken over", Reconnecting: "reconnecting", HostOff: "host off", HostOn: "host on",
	HostBreak: "host break", Overrun: "overrun", InputStalled: "input stalled", InputResumed: "input resumed",
	Suppressed: "suppressed", BreakSent: "break sent", InputDiscarded: "input discarded",
	InputUndelivered: "input undelivered", ReaderLagged: "reader lagged", RetryKnown: "retry known",
	Note: "note", Ended: "ended", Missed: "missed",
}

func (k EventKind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("event-%d", int(k))
}

// SessionInfo describes the session of a connection.
type SessionInfo struct {
	Addr         string // the BMC, as the session reached it
	CipherSuite  ipmi.CipherSuite
	Privilege    ipmi.Privilege
	BMCSessionID uint32
	MaxChars     int // characters per SOL packet
}

// Event is something that happened to a console. Events reach subscribers
// (Events) and the readers that asked for them (ReaderConfig.Events) in the
// order the console saw them; a Reader sees them at the point of the output
// where they happened.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Err     error
	Retry   time.Duration // ConnectFailed, Lost, TakenOver: the wait before the next attempt
	Detail  string
	Bytes   int64
	Steal   bool         // Connecting
	Polite  bool         // Connected, ConnectFailed: waiting for another session to leave
	Session *SessionInfo // Connected
	// Reconnect: Connected after an earlier connection.
	Reconnect bool
	// Suppressed only.
	Of    EventKind
	Count int
	Span  time.Duration
	Last  *Event
}

// String says what happened in a line, as ghmicons notes it.
func (e Event) String() string {
	switch e.Kind {
	case Connecting:
		if e.Steal {
			return "connecting (taking the console over if another session has it)"
		}
		return "connecting (without taking the console from another session)"
	case Connected:
		switch {
		case e.Session == nil:
			return "connected"
		case !e.Reconnect:
			return fmt.Sprintf("connected to %s (cipher suite %d)", e.Session.Addr, e.Session.CipherSuite.ID)
		case e.Polite:
			return fmt.Sprintf("reconnected to %s: the console was free again", e.Session.Addr)
		}
		return fmt.Sprintf("reconnected to %s", e.Session.Addr)
	case ConnectFailed:
		if e.Polite && errors.Is(e.Err, sol.ErrInUse) {
			return fmt.Sprintf("the console is still in use by another session; checking again in %v", round(e.Retry))
		}
		return fmt.Sprintf("cannot connect: %s; retrying in %v", oneLine(e.Err), round(e.Retry))
	case Lost:
		return fmt.Sprintf("connection lost: %s; reconnecting in %v", oneLine(e.Err), round(e.Retry))
	case TakenOver:
		return fmt.Sprintf("%s; not taking it back: reconnecting once it is free (first check in %v)", oneLine(e.Err), round(e.Retry))
	case Reconnecting:
		return "reconnecting on request"
	case HostOff:
		return "host powered off or its serial port is unavailable"
	case HostOn:
		return "host serial port available again"
	case HostBreak:
		return "BREAK from the host"
	case Overrun:
		return "the BMC dropped host output (overrun)"
	case InputStalled:
		return fmt.Sprintf("the BMC is not accepting console input (%s); it is kept and sent when the BMC takes it", e.Detail)
	case InputResumed:
		return "the BMC accepts console input again"
	case Suppressed:
		last := ""
		if e.Last != nil {
			last = e.Last.String()
		}
		return fmt.Sprintf("%d more %s in the last %v; the last: %s", e.Count, groupLabel(e.Of), round(e.Span), last)
	case BreakSent:
		return "BREAK sent"
	case InputDiscarded:
		return fmt.Sprintf("%d bytes of typed input were not sent: %s", e.Bytes, e.Detail)
	case InputUndelivered:
		if e.Err != nil {
			return oneLine(e.Err)
		}
		return fmt.Sprintf("%d bytes of input were not delivered: the session ended before the BMC accepted them", e.Bytes)
	case ReaderLagged:
		return fmt.Sprintf("%s fell behind: %d bytes of console output skipped", e.Detail, e.Bytes)
	case RetryKnown:
		if e.Err != nil {
			return fmt.Sprintf("SOL retry parameter not available (%s); assuming %s", oneLine(e.Err), e.Detail)
		}
		return "SOL retry: " + e.Detail
	case Note:
		return e.Detail
	case Missed:
		return fmt.Sprintf("%d events missed (the subscriber was not keeping up)", e.Count)
	case Ended:
		if e.Err != nil {
			return "ended: " + oneLine(e.Err)
		}
		return "ended"
	}
	return e.Kind.String()
}

// round is how notes show a duration.
func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

func oneLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
