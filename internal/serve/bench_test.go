package serve

import (
	"io"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// Benchmarks of the SSH front end against simulated BMCs in memory (the
// SSH side on loopback TCP):
//
//	go test -run '^$' -bench . -benchtime 200x ./internal/serve/
//
// AttachFirstByte: a new SSH connection (handshake, public key), a session,
// and the first byte of the replay on its stdout. KeystrokeRoundTrip: one
// byte typed, until the host's echo is back, through SSH and directly on
// the console engine (the same BMC, the same console): the difference is
// what the SSH front end costs.

func BenchmarkAttachFirstByte(b *testing.B) {
	r := newRig(b, 1, "")
	r.connected("node01")
	if _, err := r.bmcs["node01"].Host.Write([]byte("the last line before the attach\r\n")); err != nil {
		b.Fatal(err)
	}
	r.waitLogLine("node01", "the last line before the attach")
	cfg := &ssh.ClientConfig{User: "node01", Auth: []ssh.AuthMethod{ssh.PublicKeys(r.keys["admin"])},
		HostKeyCallback: ssh.FixedHostKey(r.srv.HostKey.PublicKey())}
	var samples []time.Duration
	one := make([]byte, 1)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		c, err := ssh.Dial("tcp", r.addr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		s, err := c.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		out, _ := s.StdoutPipe()
		if err := s.Start("node01:ro"); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(out, one); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(t0))
		s.Close()
		c.Close()
	}
	b.StopTimer()
	reportMedian(b, samples)
}

func reportMedian(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds())/1000, "ms-p99")
}

func BenchmarkKeystrokeRoundTrip(b *testing.B) {
	r := newRig(b, 1, "")
	r.connected("node01")
	b.Run("ssh", func(b *testing.B) {
		c := r.mustClient("admin", "node01")
		s, err := c.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		in, _ := s.StdinPipe()
		out, _ := s.StdoutPipe()
		if err := s.Start("node01"); err != nil {
			b.Fatal(err)
		}
		roundTrips(b, func(p []byte) error { _, err := in.Write(p); return err }, out)
	})
	b.Run("direct", func(b *testing.B) {
		e := r.fleet.lookup("node01")
		rd := e.con.NewReader(console.ReaderConfig{Name: "bench", Lossy: true})
		defer rd.Close()
		roundTrips(b, func(p []byte) error {
			e.wmu.Lock()
			defer e.wmu.Unlock()
			_, err := e.w.Write(p)
			return err
		}, rd)
	})
}

// roundTrips types a byte and reads until its echo, b.N times.
func roundTrips(b *testing.B, write func([]byte) error, out io.Reader) {
	buf := make([]byte, 256)
	await := func(c byte) {
		for {
			n, err := out.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			if slices.Contains(buf[:n], c) {
				return
			}
		}
	}
	if err := write([]byte{'!'}); err != nil { // the first: the session is up
		b.Fatal(err)
	}
	await('!')
	var samples []time.Duration
	keys := []byte("abcdefghijklmnopqrstuvwxyz")
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		i++
		t0 := time.Now()
		if err := write([]byte{k}); err != nil {
			b.Fatal(err)
		}
		await(k)
		samples = append(samples, time.Since(t0))
	}
	reportMedian(b, samples)
}

// BenchmarkFleetConnect1000: 1,000 consoles (a fakebmctest rack in memory)
// from start to all connected, with the fleet's stagger. The RSS and CPU
// of a real process beside conman and conserver are scripts/bench's.
func BenchmarkFleetConnect1000(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		r := newRigStopped(b, 1000)
		b.StartTimer()
		t0 := time.Now()
		r.start()
		for _, name := range r.fleet.Names() {
			awaitState(b, r.fleet.Console(name), console.StateAttached)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s-to-all-connected")
	}
}
