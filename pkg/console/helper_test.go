package console_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/memnet"
)

// The engine's tests run the console against the simulated BMC over
// pkg/memnet under testing/synctest: real RMCP+ bytes, fake time.

var admin = ipmi.Config{Username: "admin", Password: []byte("password")}

// bmc is a simulated BMC on an in-memory network, its end of the network
// behind pkg/impair (off until a test turns it on).
type bmc struct {
	net  *memnet.Network
	srv  *fakebmc.Server
	imp  *impair.Conn
	host *recHost
	cfg  fakebmc.Config

	mu  sync.Mutex
	evs []timedEvent
}

type timedEvent struct {
	at time.Time
	e  fakebmc.Event
}

func newBMC(t *testing.T, cfg fakebmc.Config) *bmc {
	t.Helper()
	b := &bmc{net: &memnet.Network{}, host: newRecHost()}
	if cfg.SOL.Host == nil {
		cfg.SOL.Host = b.host
	}
	cfg.OnEvent = func(e fakebmc.Event) {
		b.mu.Lock()
		b.evs = append(b.evs, timedEvent{time.Now(), e})
		b.mu.Unlock()
	}
	b.cfg = cfg
	b.serve(t)
	return b
}

// serve starts the BMC (again, after a restart) at the address "bmc".
func (b *bmc) serve(t *testing.T) {
	t.Helper()
	pc, err := b.net.Listen("bmc")
	if err != nil {
		t.Fatal(err)
	}
	b.imp = impair.Wrap(pc, impair.Config{})
	b.srv = fakebmc.New(b.cfg)
	srv := b.srv
	go srv.Serve(b.imp) //nolint:errcheck // Close ends it
	t.Cleanup(func() { srv.Close() })
}

// restart is a BMC reboot: every session is gone.
func (b *bmc) restart(t *testing.T) {
	t.Helper()
	b.srv.Close()
	b.serve(t)
}

func (b *bmc) count(kind fakebmc.EventKind) int {
	return len(b.times(kind))
}

func (b *bmc) times(kind fakebmc.EventKind) []time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []time.Time
	for _, te := range b.evs {
		if te.e.Kind == kind {
			out = append(out, te.at)
		}
	}
	return out
}

// config is a console configuration for this BMC.
func (b *bmc) config() console.Config {
	return console.Config{
		Addr:    "bmc",
		Dial:    func(context.Context) (ipmi.Transport, error) { return b.net.Dial("bmc") },
		Session: admin,
		Rand:    func() float64 { return 0.5 }, // no jitter: the schedule exactly
	}
}

// start makes and starts a console; Close at the end of the test.
func start(t *testing.T, cfg console.Config, setup func(c *console.Console)) *console.Console {
	t.Helper()
	c, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(c)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// recHost records what the console sends; it writes what the test gives it.
type recHost struct {
	mu   sync.Mutex
	got  bytes.Buffer
	line *fakebmc.Line
	up   chan struct{}
	once sync.Once
}

func newRecHost() *recHost { return &recHost{up: make(chan struct{})} }

func (h *recHost) Run(line *fakebmc.Line, done <-chan struct{}) {
	h.mu.Lock()
	h.line = line
	h.mu.Unlock()
	h.once.Do(func() { close(h.up) })
	buf := make([]byte, 4096)
	for {
		n, err := line.Read(buf)
		if err != nil {
			return
		}
		h.mu.Lock()
		h.got.Write(buf[:n])
		h.mu.Unlock()
	}
}

func (h *recHost) received() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got.String()
}

func (h *recHost) write(t *testing.T, b []byte) {
	t.Helper()
	<-h.up
	h.mu.Lock()
	line := h.line
	h.mu.Unlock()
	if _, err := line.Write(b); err != nil {
		t.Fatalf("host write: %v", err)
	}
}

// events collects a subscription's events as they come.
type events struct {
	mu   sync.Mutex
	list []console.Event
	done chan struct{}
}

func collect(c *console.Console) *events {
	e := &events{done: make(chan struct{})}
	sub := c.Events(1024)
	go func() {
		defer close(e.done)
		for ev := range sub.C {
			e.mu.Lock()
			e.list = append(e.list, ev)
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *events) of(k console.EventKind) []console.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []console.Event
	for _, ev := range e.list {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

func (e *events) kinds() []console.EventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []console.EventKind
	for _, ev := range e.list {
		out = append(out, ev.Kind)
	}
	return out
}

// readAll reads r until it ends, from a goroutine; the result comes on the
// channel.
func readAll(r *console.Reader) <-chan []byte {
	ch := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				if _, lag := err.(*console.LagError); lag {
					continue
				}
				ch <- b.Bytes()
				return
			}
		}
	}()
	return ch
}
