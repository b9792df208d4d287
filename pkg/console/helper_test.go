package console_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
)

// The engine's tests run the console against the simulated BMC over
// pkg/memnet under testing/synctest: real RMCP+ bytes, fake time.

var admin = fakebmctest.Admin()

// newBMC starts a simulated BMC (pkg/fakebmc/fakebmctest) on an in-memory
// network of its own, at "bmc", its socket behind pkg/impair (BMC.Link, off
// until a test turns it on) and, unless cfg names one, a recording host
// without echo (BMC.Host).
func newBMC(t *testing.T, cfg fakebmc.Config) *fakebmctest.BMC {
	t.Helper()
	return fakebmctest.New(t, cfg, fakebmctest.NoEcho())
}

// config is a console configuration for b.
func config(b *fakebmctest.BMC) console.Config {
	return console.Config{
		Addr:    b.Addr,
		Dial:    b.DialTransport,
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
