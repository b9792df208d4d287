package sol_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/memnet"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

var admin = ipmi.Config{Username: "admin", Password: []byte("password")}

// sinkHost records what consoles send and writes what the test gives it.
type sinkHost struct {
	mu     sync.Mutex
	got    bytes.Buffer
	cond   *sync.Cond
	line   *fakebmc.Line
	ready  chan struct{}
	breaks int
}

func newSinkHost() *sinkHost {
	h := &sinkHost{ready: make(chan struct{})}
	h.cond = sync.NewCond(&h.mu)
	return h
}

func (h *sinkHost) Run(line *fakebmc.Line, done <-chan struct{}) {
	h.line = line
	close(h.ready)
	go func() {
		for {
			select {
			case <-line.Breaks():
				h.mu.Lock()
				h.breaks++
				h.cond.Broadcast()
				h.mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, err := line.Read(buf)
		if err != nil {
			return
		}
		h.mu.Lock()
		h.got.Write(buf[:n])
		h.cond.Broadcast()
		h.mu.Unlock()
	}
}

// waitFor blocks until the host has received n bytes.
func (h *sinkHost) waitFor(n int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.got.Len() < n {
		h.cond.Wait()
	}
	return append([]byte(nil), h.got.Bytes()...)
}

// waitWithin is waitFor bounded by d (of fake time under synctest); it
// returns what the host has received when either happens.
func (h *sinkHost) waitWithin(n int, d time.Duration) []byte {
	expired := false
	t := time.AfterFunc(d, func() {
		h.mu.Lock()
		expired = true
		h.cond.Broadcast()
		h.mu.Unlock()
	})
	defer t.Stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.got.Len() < n && !expired {
		h.cond.Wait()
	}
	return append([]byte(nil), h.got.Bytes()...)
}

func startUDP(t *testing.T, cfg fakebmc.Config, faults *impair.Config) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conn net.PacketConn = pc
	if faults != nil {
		conn = impair.Wrap(pc, *faults)
	}
	srv := fakebmc.New(cfg)
	go srv.Serve(conn)
	t.Cleanup(func() { srv.Close() })
	return pc.LocalAddr().String()
}

func dialUDP(t *testing.T, addr string, cfg ipmi.Config) *ipmi.Session {
	t.Helper()
	s, err := ipmi.Dial(context.Background(), "udp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBulkBothWays sends 1 MiB of random bytes each way at the same time
// over UDP loopback, with loss, duplication and reordering, and checks both
// directions byte for byte.
func TestBulkBothWays(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *impair.Config
	}{
		{"clean", nil},
		{"5% loss", &impair.Config{Drop: 0.05, Duplicate: 0.02, Reorder: 0.02, Seed: 5}},
		{"20% loss", &impair.Config{Drop: 0.20, Duplicate: 0.05, Reorder: 0.05, Seed: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := 1 << 20
			if testing.Short() {
				size = 64 << 10
			}
			host := newSinkHost()
			addr := startUDP(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host, RetryInterval: 3 * time.Millisecond}}, tc.f)
			cfg := admin
			cfg.Timeout = 200 * time.Millisecond
			cfg.Retries = 10
			sess := dialUDP(t, addr, cfg)
			st, err := sol.Activate(context.Background(), sess, sol.Config{MinRTO: 2 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			<-host.ready
			in := make([]byte, size)
			out := make([]byte, size)
			rand.Read(in)
			rand.Read(out)
			var wg sync.WaitGroup
			wg.Go(func() {
				if _, err := host.line.Write(out); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				if _, err := st.Write(in); err != nil {
					t.Error(err)
				}
			})
			got := make([]byte, size)
			if _, err := io.ReadFull(st, got); err != nil {
				t.Fatalf("reading: %v (stats %+v)", err, st.Stats())
			}
			wg.Wait()
			if !bytes.Equal(got, out) {
				t.Errorf("host → console: %d bytes differ", countDiff(got, out))
			}
			if hostGot := host.waitFor(size); !bytes.Equal(hostGot, in) {
				t.Errorf("console → host: %d of %d bytes arrived, differ", len(hostGot), size)
			}
			t.Logf("stats %+v", st.Stats())
		})
	}
}

func countDiff(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n + max(len(a), len(b)) - min(len(a), len(b))
}

var _ = errors.Is
var _ = synctest.Test
var _ = memnet.Addr("")

// TestSOLOnAnotherPort: the BMC answers Activate Payload with another port;
// SOL continues there (a relay on that port forwards to the BMC).
func TestSOLOnAnotherPort(t *testing.T) {
	host := newSinkHost()
	bmcPC, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relay, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	relayPort := uint16(relay.LocalAddr().(*net.UDPAddr).Port)
	srv := fakebmc.New(fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host, ReportPort: relayPort}})
	go srv.Serve(bmcPC)
	defer srv.Close()
	var relayed sync.WaitGroup
	relayed.Go(func() {
		var client net.Addr
		buf := make([]byte, 2048)
		for {
			n, from, err := relay.ReadFrom(buf)
			if err != nil {
				return
			}
			if from.String() == bmcPC.LocalAddr().String() {
				if client != nil {
					relay.WriteTo(buf[:n], client)
				}
				continue
			}
			client = from
			relay.WriteTo(buf[:n], bmcPC.LocalAddr())
		}
	})
	sess := dialUDP(t, bmcPC.LocalAddr().String(), admin)
	st, err := sol.Activate(context.Background(), sess, sol.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st.Write([]byte("via the other port"))
	if got := host.waitFor(18); string(got) != "via the other port" {
		t.Fatalf("host got %q", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	relay.Close()
	relayed.Wait()
}
