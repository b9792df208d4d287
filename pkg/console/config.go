package console

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Config configures a Console.
type Config struct {
	// Addr is the BMC's UDP address, host:port (ipmi.BMCAddress makes one).
	Addr string
	// Network is "udp", "udp4" or "udp6"; "" means "udp".
	Network string
	// Dial opens the transport of each session; nil dials Addr over UDP
	// (ipmi.DialUDP). Tests give a pkg/memnet endpoint here.
	Dial func(ctx context.Context) (ipmi.Transport, error)

	// Session holds the credentials, cipher suites, K_g, privilege and
	// request timeouts of every session.
	Session ipmi.Config
	// SOL configures each stream: instance, keepalive, buffers. Its NoSteal
	// is ignored: the console decides per attempt (see NoSteal).
	SOL sol.Config

	// NoSteal refuses to take the console from another session, on every
	// attempt: an active console is then sol.ErrInUse. Without it the first
	// attempt, and every attempt after a loss, takes it over (a session
	// left behind by a dead client is the common case).
	NoSteal bool
	// Reconnect keeps the console alive: after a loss, a takeover or a
	// failed attempt it tries again after Backoff, until closed. Errors
	// that another attempt would meet again (Permanent) end it anyway.
	// Without Reconnect the first such event ends the console.
	Reconnect bool
	// Backoff is the reconnection schedule; the zero value is
	// DefaultBackoff.
	Backoff Backoff

	// InputQueue bounds input waiting for the stream, on top of the
	// stream's own buffer (sol.Config.WriteBuffer, 64 KiB); 0 means 32 KiB.
	InputQueue int
	// History is how many bytes of the latest output are kept for readers
	// that ask for a replay (ReaderConfig.Replay); 0 keeps none.
	History int
	// NoteWindow is the rate limit's window for events a broken BMC can
	// repeat on every packet; 0 means DefaultNoteWindow, negative turns the
	// limit off.
	NoteWindow time.Duration
	// Rand draws the backoff's jitter, in [0, 1); nil means math/rand/v2.
	Rand func() float64
}

// Backoff is the reconnection schedule: First after the first loss or
// failed attempt, then doubling up to Max, each wait jittered by ±Jitter
// (a fraction). The schedule applies after every loss, also when a session
// died right after it came up; it starts from First again only after a
// session stayed up for HealthyAfter. Resetting on every connect is what let
// a failing local side open 472 sessions in 5 s.
//
// A zero field takes DefaultBackoff's value; a negative Jitter means none. A
// console server with many consoles on one BMC network can raise Jitter so
// that a fleet does not reconnect in step.
type Backoff struct {
	First, Max   time.Duration
	Jitter       float64
	HealthyAfter time.Duration
}

// DefaultBackoff is 1 s doubling to 60 s, ±20%, reset after 30 s of health.
var DefaultBackoff = Backoff{First: time.Second, Max: 60 * time.Second, Jitter: 0.2, HealthyAfter: 30 * time.Second}

func (b Backoff) withDefaults() Backoff {
	d := DefaultBackoff
	if b.First > 0 {
		d.First = b.First
	}
	if b.Max > 0 {
		d.Max = b.Max
	}
	if b.Max > 0 && b.First > b.Max {
		d.First = b.Max
	}
	switch {
	case b.Jitter < 0:
		d.Jitter = 0
	case b.Jitter > 0:
		d.Jitter = min(b.Jitter, 1)
	}
	if b.HealthyAfter > 0 {
		d.HealthyAfter = b.HealthyAfter
	}
	return d
}

// Delay is the n-th wait (0-based) of the schedule, for r in [0, 1): the
// unjittered wait is First·2ⁿ capped at Max, then scaled by
// 1 − Jitter + 2·Jitter·r.
func (b Backoff) Delay(n int, r float64) time.Duration {
	b = b.withDefaults()
	d := b.First
	for range n {
		if d >= b.Max {
			break
		}
		d = min(2*d, b.Max)
	}
	return time.Duration(float64(d) * (1 - b.Jitter + 2*b.Jitter*r))
}

// backoffState walks a Backoff.
type backoffState struct {
	sched Backoff
	n     int
	rand  func() float64
}

// next returns the next wait and moves on.
func (b *backoffState) next() time.Duration {
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	d := b.sched.Delay(b.n, r())
	b.n++
	return d
}

// sessionEnded applies the reset rule to a session that was up for up.
func (b *backoffState) sessionEnded(up time.Duration) {
	if up >= b.sched.withDefaults().HealthyAfter {
		b.n = 0
	}
}

// DefaultInputQueue bounds input waiting for the stream (Config.InputQueue).
const DefaultInputQueue = 32 << 10

// Bounds of the way out.
const (
	// connectCancelBound: an attempt under way returns this long at most
	// after its context ends (a session it still brings up is closed too).
	connectCancelBound = 2 * time.Second
)

// Permanent reports whether err is one that another attempt would meet
// again, so that reconnecting in a loop would not help: authentication
// (unknown user, wrong password or K_g, privilege refused) and an
// incompatible BMC (no common cipher suite, not IPMI 2.0, SOL disabled, SOL
// encryption refused).
func Permanent(err error) bool {
	var ce *ipmi.CompletionError
	switch {
	case errors.Is(err, ipmi.ErrAuth), errors.Is(err, ipmi.ErrKg), errors.Is(err, ipmi.ErrPrivilege),
		errors.As(err, &ce) && ce.Code == ipmi.CCInsufficientPriv:
		return true
	case errors.Is(err, ipmi.ErrNoCipherSuite), errors.Is(err, ipmi.ErrNotIPMI2), errors.Is(err, sol.ErrDisabled),
		errors.Is(err, ipmi.ErrPayloadEncryption):
		return true
	}
	return false
}
