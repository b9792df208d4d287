// Package fleet runs a command of the table (package command) on many BMCs
// at once, as FreeIPMI's ipmipower does for power: each host gets a session
// of its own, at most Config.Fanout run at once, and the results come back
// in the hosts' order, each as soon as it and those before it are known.
// After a power action it can wait until the BMC reports the new state
// (Config.Wait), so that a caller says "on" only once the BMC has.
//
//	r := fleet.New(fleet.Config{Session: cfg, Fanout: 64})
//	call, _ := command.Parse(command.OneShot, []string{"power", "status"})
//	r.Run(ctx, hosts, call, func(res fleet.Result) {
//		fmt.Println(res.Host.Name, res.Result.Power, res.Err)
//	})
//
// Nothing here prints; a front end makes lines of the Results.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Defaults of Config.
const (
	DefaultFanout = 64
	DefaultPoll   = 500 * time.Millisecond
)

// Host is one BMC: its name as the hostlist gave it and its UDP address.
type Host struct{ Name, Addr string }

// DialFunc sets up a session, as ipmi.Dial does.
type DialFunc func(ctx context.Context, network, addr string, cfg ipmi.Config) (*ipmi.Session, error)

// OverTransport is a DialFunc that sets up each session over a transport
// of dial's (a memnet endpoint, a tunnel) instead of a UDP socket.
func OverTransport(dial func(ctx context.Context, addr string) (ipmi.Transport, error)) DialFunc {
	return func(ctx context.Context, _, addr string, cfg ipmi.Config) (*ipmi.Session, error) {
		t, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		return ipmi.NewSession(ctx, t, cfg) // closes t on failure
	}
}

// Config configures a Runner.
type Config struct {
	// Network is ipmi.Dial's: "udp", "udp4" or "udp6"; "" means "udp".
	Network string
	// Session configures every session. Nil CipherSuites: the first session
	// negotiates and the others propose the suite it found (see Run).
	Session ipmi.Config
	// Fanout bounds the sessions at once; 0 means DefaultFanout.
	Fanout int
	// Wait, if set, bounds the wait after a power action for the state it
	// leads to (Target): the BMC is asked every Poll until it reports it.
	Wait time.Duration
	// Poll is the interval of that wait; 0 means DefaultPoll.
	Poll time.Duration
	// Dial sets up the sessions; nil means ipmi.Dial.
	Dial DialFunc
}

// Result is one host's outcome.
type Result struct {
	Host Host
	// Result is what the call returned (typed values and its text).
	Result command.Result
	// Confirmed is the power state the BMC reported at the end of a wait
	// (Config.Wait and a call with a Target); PowerUnknown otherwise.
	Confirmed command.PowerState
	// Err says why the host failed; nil if it did not.
	Err error
}

// A Runner runs calls on hosts. It is safe for concurrent use.
type Runner struct {
	cfg Config
	// suite is the cipher suite the first session negotiated, plus one (0:
	// none yet), proposed first to the other BMCs (see dial).
	suite atomic.Int32
}

// New makes a Runner.
func New(cfg Config) *Runner {
	if cfg.Network == "" {
		cfg.Network = "udp"
	}
	if cfg.Fanout <= 0 {
		cfg.Fanout = DefaultFanout
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Dial == nil {
		cfg.Dial = ipmi.Dial
	}
	return &Runner{cfg: cfg}
}

// Run runs call on every host, at most Fanout at once, hosts started in
// order, and gives each Result to emit (if not nil) in the hosts' order, as
// soon as it and those before it are done. It returns when every host is
// done, with the Results in the hosts' order. Ending ctx ends the sessions'
// requests; their Results then carry the context's error.
func (r *Runner) Run(ctx context.Context, hosts []Host, call *command.Call, emit func(Result)) []Result {
	results := make([]Result, len(hosts))
	done := make([]chan struct{}, len(hosts))
	for i := range done {
		done[i] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(r.cfg.Fanout, len(hosts)) {
		wg.Go(func() {
			for i := range next {
				results[i] = r.one(ctx, hosts[i], call)
				close(done[i])
			}
		})
	}
	go func() {
		for i := range hosts {
			next <- i
		}
		close(next)
	}()
	for i := range hosts {
		<-done[i]
		if emit != nil {
			emit(results[i])
		}
	}
	wg.Wait()
	return results
}

// one runs call on one host: a session of its own, the call, the wait for
// the new power state if asked, Close Session.
func (r *Runner) one(ctx context.Context, h Host, call *command.Call) Result {
	res := Result{Host: h}
	s, err := r.dial(ctx, h)
	if err != nil {
		res.Err = err
		return res
	}
	defer s.Close()
	if res.Result, err = call.Run(ctx, command.OnSession(s)); err != nil {
		res.Err = err
		return res
	}
	if want, ok := Target(call); ok && r.cfg.Wait > 0 {
		if res.Err = WaitPower(ctx, s, want, r.cfg.Wait, r.cfg.Poll); res.Err == nil {
			res.Confirmed = want
		}
	}
	return res
}

// dial sets up a session with h. Without a list of suites the first
// session negotiates (Get Channel Cipher Suites, IPMI v2.0 §22.15) and the
// others propose its suite straight away: the BMCs of a fleet are mostly
// alike, and that saves each the listing's round trips. A BMC that
// answered but set up no session with that suite negotiates after all; one
// that did not answer at all, or refused the user, fails as it would have
// anyway.
func (r *Runner) dial(ctx context.Context, h Host) (*ipmi.Session, error) {
	cfg := r.cfg.Session
	id := r.suite.Load() - 1
	if cfg.CipherSuites != nil || id < 0 {
		s, err := r.cfg.Dial(ctx, r.cfg.Network, h.Addr, cfg)
		if err == nil && cfg.CipherSuites == nil {
			r.suite.CompareAndSwap(0, int32(s.CipherSuite().ID)+1)
		}
		return s, err
	}
	cfg.CipherSuites = []uint8{uint8(id)}
	s, err := r.cfg.Dial(ctx, r.cfg.Network, h.Addr, cfg)
	if err == nil || ctx.Err() != nil || !worthNegotiating(err) {
		return s, err
	}
	return r.cfg.Dial(ctx, r.cfg.Network, h.Addr, r.cfg.Session)
}

// worthNegotiating: a setup with a proposed suite failed in a way that
// negotiating might not (not silence from the first request, not the
// credentials).
func worthNegotiating(err error) bool {
	var te *ipmi.TimeoutError
	switch {
	case errors.As(err, &te) && te.Op == ipmi.CommandName(ipmi.NetFnApp, ipmi.CmdGetChannelAuthCaps):
		return false
	case errors.Is(err, ipmi.ErrAuth), errors.Is(err, ipmi.ErrKg), errors.Is(err, ipmi.ErrPrivilege):
		return false
	}
	return true
}

// Target is the power state a call leads to, if a wait can confirm one: on
// after power on, cycle and reset; off after power off and soft.
func Target(call *command.Call) (command.PowerState, bool) {
	if call == nil || call.Command == nil || call.Command.Name != "power" || call.Status {
		return command.PowerUnknown, false
	}
	switch call.Action {
	case ipmi.PowerOn, ipmi.PowerCycle, ipmi.HardReset:
		return command.PowerOn, true
	case ipmi.PowerOff, ipmi.SoftShutdown:
		return command.PowerOff, true
	}
	return command.PowerUnknown, false
}

// ErrNotConfirmed: the BMC did not report the awaited power state in time.
var ErrNotConfirmed = errors.New("power state not confirmed")

// WaitPower asks the BMC for the power state (Get Chassis Status, IPMI
// v2.0 §28.2) every poll until it is want, for at most limit. A request
// the BMC leaves unanswered is asked again; if the last one was, the error
// says so. When ctx ends first, the error is its cause.
func WaitPower(ctx context.Context, s *ipmi.Session, want command.PowerState, limit, poll time.Duration) error {
	if poll <= 0 {
		poll = DefaultPoll
	}
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	last := command.PowerUnknown
	var lastErr error
	for {
		cs, err := s.ChassisStatus(wctx)
		switch {
		case err == nil:
			lastErr = nil
			if last = command.PowerOff; cs.PowerOn {
				last = command.PowerOn
			}
			if last == want {
				return nil
			}
		case wctx.Err() == nil:
			lastErr = err
		}
		t := time.NewTimer(poll)
		select {
		case <-wctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			switch {
			case lastErr != nil:
				return fmt.Errorf("%w after %v (want %s): %w", ErrNotConfirmed, limit, want, lastErr)
			case last == command.PowerUnknown:
				return fmt.Errorf("%w: no answer from the BMC in %v (want %s)", ErrNotConfirmed, limit, want)
			}
			return fmt.Errorf("%w: still %s after %v (want %s)", ErrNotConfirmed, last, limit, want)
		case <-t.C:
		}
	}
}
