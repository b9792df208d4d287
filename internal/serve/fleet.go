package serve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Fleet runs the consoles of a configuration: each one connected and logged
// all the time, reconnecting with a backoff scaled to the fleet's size, and
// the viewers attached to it. Apply changes the set (SIGHUP).
type Fleet struct {
	// Dial, if set, makes each console's transport (tests: memnet); nil
	// dials the BMC over UDP.
	Dial func(spec Spec) func(ctx context.Context) (ipmi.Transport, error)
	// Rand draws the start stagger and the backoff's jitter; nil means
	// math/rand/v2.
	Rand func() float64
	// Errorf reports what goes wrong in the background (a log that cannot
	// be written or reopened, a console that ended); nil drops it. It is
	// called from the fleet's goroutines, never after Close (or, for the
	// consoles it stops, Apply) has returned, unless their context ended
	// first.
	Errorf func(format string, args ...any)

	mu       sync.Mutex
	consoles map[string]*entry
	ctx      context.Context
	cancel   context.CancelFunc
}

// entry is one running console: the engine, its log, its viewers and the
// shared write side.
type entry struct {
	spec   Spec
	groups []string
	con    *console.Console
	log    *logFile
	logR   *console.Reader
	logEnd chan error // follow's result
	// start runs the console after its stagger; startDone is closed when
	// that function has returned (it does not wait for the BMC).
	start     *time.Timer
	startDone chan struct{}

	mu        sync.Mutex
	viewers   map[*viewer]struct{}
	exclusive *viewer // holds the write side alone (force), nil: shared
	wmu       sync.Mutex
	w         *console.Writer
	gone      chan struct{} // closed when the entry is stopped
}

// Stagger bounds the spread of the first connection attempts: a fleet of
// n consoles starts over n × StaggerEach, at most StaggerMax, so that
// a thousand consoles do not open a thousand sessions in the same instant.
const (
	StaggerEach = 5 * time.Millisecond
	StaggerMax  = 5 * time.Second
)

// FleetBackoff is the reconnection schedule for a fleet of n consoles: the
// engine's default for one, with more jitter (up to ±50%) and a later first
// retry (up to 5 s) as the fleet grows, so that a rack that lost power and
// came back does not have all its BMCs asked in step.
func FleetBackoff(n int) console.Backoff {
	b := console.DefaultBackoff
	f := min(float64(n)/500, 1)
	b.Jitter = 0.2 + 0.3*f
	b.First = time.Second + time.Duration(f*float64(4*time.Second))
	return b
}

func (f *Fleet) rand() float64 {
	if f.Rand != nil {
		return f.Rand()
	}
	return rand.Float64()
}

func (f *Fleet) errorf(format string, args ...any) {
	if f.Errorf != nil {
		f.Errorf(format, args...)
	}
}

// Start runs the consoles of cfg. Their first attempts are spread (Stagger).
func (f *Fleet) Start(ctx context.Context, cfg *Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.consoles != nil {
		return errors.New("serve: fleet already started")
	}
	f.ctx, f.cancel = context.WithCancel(ctx)
	f.consoles = map[string]*entry{}
	return f.addLocked(cfg.Consoles, len(cfg.Consoles))
}

func (f *Fleet) addLocked(cs []*Console, fleetSize int) error {
	spread := min(time.Duration(len(cs))*StaggerEach, StaggerMax)
	var errs []error
	for _, c := range cs {
		e, err := f.newEntry(c, fleetSize)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.consoles[c.Name] = e
		delay := time.Duration(f.rand() * float64(spread))
		e.start = time.AfterFunc(delay, func() {
			defer close(e.startDone)
			select {
			case <-e.gone:
				return // stopped before its start: stop closes it unstarted
			default:
			}
			if err := e.con.Start(f.ctx); err != nil {
				f.errorf("console %s: %v", e.spec.Name, err)
				return
			}
			// The shared write side: one lease for the console, held by
			// the server; viewers write through it (entry.write). Lossy:
			// typing never waits for the BMC, what it does not take is
			// dropped and said.
			w, err := e.con.NewWriter(console.WriterConfig{Name: "viewers", Lossy: true})
			if err != nil {
				f.errorf("console %s: %v", e.spec.Name, err)
				return
			}
			e.wmu.Lock()
			e.w = w
			e.wmu.Unlock()
		})
	}
	return errors.Join(errs...)
}

func (f *Fleet) newEntry(c *Console, fleetSize int) (*entry, error) {
	s := c.Spec
	scfg := ipmi.Config{Username: s.Username, Password: []byte(s.Password), Privilege: s.Privilege,
		CipherSuites: s.Suites, Timeout: s.Timeout}
	if s.Kg != "" {
		scfg.Kg = []byte(s.Kg)
	}
	ccfg := console.Config{Addr: s.Addr, Session: scfg, NoSteal: s.NoSteal, Reconnect: true,
		Backoff: FleetBackoff(fleetSize), History: s.History, InputQueue: 64 << 10,
		SOL: sol.Config{Keepalive: s.Keepalive}, Rand: f.Rand}
	if f.Dial != nil {
		ccfg.Dial = f.Dial(s)
	}
	con, err := console.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("console %s: %w", s.Name, err)
	}
	lf, err := openLogFile(s.Log, s.Timestamps, s.LogMaxSize)
	if err != nil {
		return nil, fmt.Errorf("console %s: %w", s.Name, err)
	}
	e := &entry{spec: s, groups: c.Groups, con: con, log: lf, logEnd: make(chan error, 1),
		startDone: make(chan struct{}), viewers: map[*viewer]struct{}{}, gone: make(chan struct{})}
	r := con.NewReader(console.ReaderConfig{Name: "log", Events: true})
	e.logR = r
	go func() {
		err := lf.follow(r, logNote)
		if err != nil {
			f.errorf("console %s: log: %v", s.Name, err)
		}
		e.logEnd <- err
	}()
	return e, nil
}

// logNote is what the log says of an event: the markers of connect, loss,
// reconnect, takeover, the host's power, and the notes (viewers, commands).
func logNote(ev console.Event) (string, bool) {
	switch ev.Kind {
	case console.Connected:
		switch {
		case ev.Polite:
			return "reconnected: the console was free again", true
		case ev.Reconnect:
			return fmt.Sprintf("reconnected to %s", ev.Session.Addr), true
		}
		return fmt.Sprintf("connected to %s (cipher suite %d)", ev.Session.Addr, ev.Session.CipherSuite.ID), true
	case console.ConnectFailed, console.Lost, console.TakenOver, console.Reconnecting, console.InputUndelivered,
		console.HostOff, console.HostOn, console.InputStalled, console.InputResumed, console.Ended:
		return ev.String(), true
	case console.Suppressed:
		return ev.String(), ev.Of == console.HostOff || ev.Of == console.InputStalled
	case console.Note:
		return ev.Detail, true
	}
	return "", false
}

// stop ends an entry: its viewers are told why and disconnected, the
// console closed, the log written out and closed.
//
// The start function may be running when stop is called (its timer fired):
// stop waits for it, so that Close does not run while Start does, and
// nothing of the entry's (Errorf, the Writer) runs after stop has
// returned. It waits for no I/O: Start and NewWriter answer at once.
func (e *entry) stop(ctx context.Context, why string) error {
	neverStarted := e.start.Stop()
	e.mu.Lock()
	vs := make([]*viewer, 0, len(e.viewers))
	for v := range e.viewers {
		vs = append(vs, v)
	}
	close(e.gone) // a start function not yet under way returns at once
	e.mu.Unlock()
	if !neverStarted {
		select {
		case <-e.startDone:
		case <-ctx.Done():
		}
	}
	for _, v := range vs {
		v.kick(why)
	}
	_ = e.con.Annotate("console stopped: " + why)
	err := e.con.Close(ctx)
	if neverStarted || errors.Is(err, console.ErrNotStarted) {
		_ = e.logR.Close() // a console never started never ends its readers
		err = nil
	}
	select {
	case lerr := <-e.logEnd:
		err = errors.Join(err, lerr)
	case <-ctx.Done():
	}
	return errors.Join(err, e.log.Close())
}

// Apply changes the running set to cfg's: consoles no longer configured
// stop, changed ones restart, new ones start; the others keep their
// sessions and viewers. Every log kept is reopened (logrotate).
func (f *Fleet) Apply(ctx context.Context, cfg *Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.consoles == nil {
		return errors.New("serve: fleet not started")
	}
	var add []*Console
	keep := map[string]bool{}
	stops := map[*entry]string{} // entry -> why
	for _, c := range cfg.Consoles {
		e, ok := f.consoles[c.Name]
		switch {
		case !ok:
			add = append(add, c)
		case !specEqual(e.spec, c.Spec) || ended(e.con):
			// Changed, or ended (the BMC refused the credentials, or is
			// incompatible): a reload is how an operator says "try again".
			stops[e] = "its configuration changed"
			delete(f.consoles, c.Name)
			add = append(add, c)
		default:
			keep[c.Name] = true
			e.mu.Lock()
			e.groups = c.Groups
			e.mu.Unlock()
		}
	}
	for name, e := range f.consoles {
		if cfg.Console(name) == nil {
			stops[e] = "removed from the configuration"
			delete(f.consoles, name)
		}
	}
	// The stops run at once: each may wait for its BMC (Close Session)
	// for a few seconds, and a new console may reuse the old one's log.
	errs := stopAll(ctx, stops)
	for name := range keep {
		if err := f.consoles[name].log.Reopen(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, f.addLocked(add, len(cfg.Consoles)))
	return errors.Join(errs...)
}

// stopAll stops the entries at once and returns their errors.
func stopAll(ctx context.Context, stops map[*entry]string) []error {
	var wg sync.WaitGroup
	errc := make(chan error, len(stops))
	for e, why := range stops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- e.stop(ctx, why)
		}()
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func ended(c *console.Console) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func specEqual(a, b Spec) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// ReopenLogs reopens every console's log.
func (f *Fleet) ReopenLogs() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, e := range f.consoles {
		errs = append(errs, e.log.Reopen())
	}
	return errors.Join(errs...)
}

// Close stops every console.
func (f *Fleet) Close(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	stops := map[*entry]string{}
	for name, e := range f.consoles {
		stops[e] = "the server is shutting down"
		delete(f.consoles, name)
	}
	errs := stopAll(ctx, stops)
	if f.cancel != nil {
		f.cancel()
	}
	return errors.Join(errs...)
}

// lookup returns the running console named name.
func (f *Fleet) lookup(name string) *entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.consoles[name]
}

// Console returns the engine of the running console named name, for
// tests and status.
func (f *Fleet) Console(name string) *console.Console {
	if e := f.lookup(name); e != nil {
		return e.con
	}
	return nil
}

// Names lists the running consoles, sorted.
func (f *Fleet) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	names := make([]string, 0, len(f.consoles))
	for n := range f.consoles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Status is a console's line in `list`.
type Status struct {
	Name    string
	State   console.State
	Since   time.Time
	Err     error // why it waits to reconnect
	Viewers int
	Writers int
	Logged  uint64
}

func (e *entry) status() Status {
	st := e.con.Stats()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Status{Name: e.spec.Name, State: st.State, Since: st.Since, Err: st.LastErr, Viewers: len(e.viewers),
		Logged: e.log.written.Load()}
	if st.State == console.StateClosed {
		s.Err = e.con.Err() // why it ended (authentication, an incompatible BMC)
	}
	for v := range e.viewers {
		if e.canWriteLocked(v) {
			s.Writers++
		}
	}
	return s
}
