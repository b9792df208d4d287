package sol_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

var admin = ipmi.Config{Username: "admin", Password: []byte("password")}

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
			opts := []fakebmctest.Option{fakebmctest.UDP("")}
			if tc.f != nil {
				opts = append(opts, fakebmctest.Impair(*tc.f))
			}
			b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{RetryInterval: 3 * time.Millisecond}}, opts...)
			cfg := admin
			cfg.Timeout = 200 * time.Millisecond
			cfg.Retries = 10
			sess := b.Session(t, cfg)
			st, err := sol.Activate(context.Background(), sess, sol.Config{MinRTO: 2 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			in := make([]byte, size)
			out := make([]byte, size)
			rand.Read(in)
			rand.Read(out)
			var wg sync.WaitGroup
			wg.Go(func() {
				if _, err := b.Host.Write(out); err != nil {
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
			if hostGot := b.Host.WaitInput(t, 2*time.Minute, size); !bytes.Equal(hostGot, in) {
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

// TestSOLOnAnotherPort: the BMC answers Activate Payload with another port;
// SOL continues there (a relay on that port forwards to the BMC).
func TestSOLOnAnotherPort(t *testing.T) {
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
	b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{ReportPort: relayPort}}, fakebmctest.PacketConn(bmcPC))
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
	st := console(t, b, sol.Config{})
	st.Write([]byte("via the other port"))
	if got := b.Host.WaitInput(t, 2*time.Minute, 18); string(got) != "via the other port" {
		t.Fatalf("host got %q", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	relay.Close()
	relayed.Wait()
}
