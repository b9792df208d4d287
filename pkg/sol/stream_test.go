package sol_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// newBMC starts a simulated BMC in memory, for synctest, whose host (unless
// cfg names one) records what consoles send and echoes nothing.
func newBMC(t *testing.T, cfg fakebmc.Config, opts ...fakebmctest.Option) *fakebmctest.BMC {
	t.Helper()
	return fakebmctest.New(t, cfg, append([]fakebmctest.Option{fakebmctest.NoEcho()}, opts...)...)
}

// console activates SOL on a new session to b.
func console(t *testing.T, b *fakebmctest.BMC, cfg sol.Config) *sol.Stream {
	t.Helper()
	st, err := sol.Activate(context.Background(), b.Session(t, admin), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// hostGot waits until b's host has received n bytes, at most d (fake time
// under synctest), and returns what it has received then.
func hostGot(b *fakebmctest.BMC, n int, d time.Duration) []byte {
	in, _ := b.Host.Await(d, func(in []byte) bool { return len(in) >= n })
	return in
}

func TestEchoAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{}}})
		st := console(t, b, sol.Config{})
		if _, err := st.Write([]byte("hello\r")); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 6)
		if _, err := io.ReadFull(st, got); err != nil || string(got) != "hello\r" {
			t.Fatalf("echo %q, %v", got, err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if b.Events.Count(fakebmc.EventDeactivate) != 1 || b.Events.Count(fakebmc.EventSessionClose) != 1 {
			t.Errorf("BMC saw deactivate %d, close %d", b.Events.Count(fakebmc.EventDeactivate), b.Events.Count(fakebmc.EventSessionClose))
		}
		if _, err := st.Read(got); err != io.EOF {
			t.Errorf("read after close: %v", err)
		}
	})
}

// TestKeystrokeNotDelayed: a lone keystroke reaches the host without waiting
// for any timer.
func TestKeystrokeNotDelayed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		st := console(t, b, sol.Config{})
		defer st.Close()
		start := time.Now()
		st.Write([]byte("k"))
		b.Host.WaitInput(t, time.Minute, 1)
		if d := time.Since(start); d != 0 {
			t.Errorf("keystroke took %v of (fake) time", d)
		}
	})
}

func TestRetransmissionTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		// No opening packet: its answer would be an RTT sample (0 in fake
		// time), and this is the schedule from the initial RTO.
		st := console(t, b, sol.Config{Keepalive: -1, NoOpening: true})
		defer st.Close()
		b.Link.SetSilent(true)
		st.Write([]byte("x"))
		// Initial RTO 250 ms, doubling: retransmissions at 250, 750, 1750, 3750 ms.
		for i, at := range []time.Duration{260, 760, 1760, 3760} {
			time.Sleep(at*time.Millisecond - time.Duration(map[int]int{0: 0, 1: 260, 2: 760, 3: 1760}[i])*time.Millisecond)
			synctest.Wait()
			if got := st.Stats().Retransmissions; got != uint64(i+1) {
				t.Fatalf("at %v ms: %d retransmissions, want %d", at, got, i+1)
			}
		}
		// Unacknowledged for LostAfter (20 s): the session is lost.
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if err := st.Err(); !errors.Is(err, ipmi.ErrSessionLost) {
			t.Fatalf("after 24 s of silence: %v", err)
		}
		b.Link.SetSilent(false)
		if _, err := st.Write([]byte("y")); !errors.Is(err, ipmi.ErrSessionLost) {
			t.Errorf("write after loss: %v", err)
		}
	})
}

func TestKeepaliveTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A BMC that, like ipmi_sim, expires sessions after 30 s without an
		// IPMI request: the console must keep it alive with no SOL traffic.
		b := newBMC(t, fakebmc.Config{SessionTimeout: 30 * time.Second})
		st := console(t, b, sol.Config{})
		defer st.Close()
		start := time.Now()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		kas := b.Events.Requests("Get Payload Instance Info")
		if len(kas) < 20 || len(kas) > 27 {
			t.Errorf("%d keepalives in 5 minutes, want 20–27", len(kas))
		}
		prev := start
		for _, ka := range kas {
			if gap := ka.Time.Sub(prev); gap > 15*time.Second || gap < 11*time.Second {
				t.Errorf("keepalive gap %v outside 11.25–15 s", gap)
			}
			prev = ka.Time
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		st.Write([]byte("still here"))
		b.Host.WaitInput(t, time.Minute, 10)
	})
}

func TestKeepaliveDetectsSilentBMC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		st := console(t, b, sol.Config{})
		defer st.Close()
		b.Link.SetSilent(true)
		start := time.Now()
		select {
		case <-st.Done():
		case <-time.After(2 * time.Minute):
		}
		if err := st.Err(); !errors.Is(err, ipmi.ErrSessionLost) {
			t.Fatalf("error %v, want session lost", err)
		}
		if d := time.Since(start); d > 50*time.Second {
			t.Errorf("took %v to notice", d)
		}
	})
}

func TestTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{}}})
		first := console(t, b, sol.Config{})
		defer first.Close()
		s3 := b.Session(t, admin)
		if _, err := sol.Activate(context.Background(), s3, sol.Config{NoSteal: true}); !errors.Is(err, sol.ErrInUse) {
			t.Fatalf("no-steal: %v, want ErrInUse", err)
		}
		s3.Close()
		second := console(t, b, sol.Config{})
		defer second.Close()
		synctest.Wait()
		if err := first.Err(); !errors.Is(err, sol.ErrTakenOver) {
			t.Fatalf("first console: %v, want ErrTakenOver", err)
		}
		if _, err := first.Read(make([]byte, 1)); !errors.Is(err, sol.ErrTakenOver) {
			t.Errorf("read on the taken console: %v", err)
		}
		second.Write([]byte("mine"))
		got := make([]byte, 4)
		if _, err := io.ReadFull(second, got); err != nil || string(got) != "mine" {
			t.Fatalf("second console: %q %v", got, err)
		}
	})
}

// TestTakeoverSeenByKeepalive: a BMC that deactivates without telling the
// old owner (ipmi_sim) is caught by the ownership keepalive.
func TestTakeoverSeenByKeepalive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{SilentDeactivate: true}})
		st := console(t, b, sol.Config{})
		defer st.Close()
		other := b.Session(t, admin)
		defer other.Close()
		if err := other.DeactivatePayload(context.Background(), ipmi.PayloadSOL, 1); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := st.Err(); err != nil {
			t.Fatalf("told at once although the BMC is silent: %v", err)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if err := st.Err(); !errors.Is(err, sol.ErrTakenOver) {
			t.Fatalf("%v, want taken over", err)
		}
	})
}

func TestHostPowerEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		st := console(t, b, sol.Config{})
		defer st.Close()
		if err := st.Session().ChassisControl(context.Background(), ipmi.PowerOff); err != nil {
			t.Fatal(err)
		}
		if e := <-st.Events(); e.Kind != sol.HostOff {
			t.Fatalf("event %v, want host off", e.Kind)
		}
		if !st.HostOff() {
			t.Error("HostOff() false")
		}
		if err := st.Session().ChassisControl(context.Background(), ipmi.PowerOn); err != nil {
			t.Fatal(err)
		}
		if e := <-st.Events(); e.Kind != sol.HostOn {
			t.Fatalf("event %v, want host on", e.Kind)
		}
		if st.Err() != nil {
			t.Fatal(st.Err())
		}
	})
}

func TestBreak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		st := console(t, b, sol.Config{Keepalive: -1})
		defer st.Close()
		b.Link.SetConfig(impair.Config{Drop: 0.5, Seed: 7})
		if err := st.SendBreak(); err != nil {
			t.Fatal(err)
		}
		b.Host.WaitBreaks(t, time.Minute, 1)
		b.Link.SetConfig(impair.Config{})
		synctest.Wait()
		if got := b.Events.Count(fakebmc.EventBreak); got != 1 {
			t.Errorf("BMC saw %d breaks, want exactly 1 despite retransmissions", got)
		}
	})
}

// TestIpmiSimLikeBMC: a 32-character inbound buffer with NACK when full,
// retransmissions that grow, reported sizes that cannot be right.
func TestIpmiSimLikeBMC(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sol      fakebmc.SOLConfig
		maxChars int
	}{
		{"inbound 32 with NACK", fakebmc.SOLConfig{InboundSize: 32, InboundBuffer: 32, NackWhenFull: true,
			AppendOnRetransmit: true, ReportOutbound: 16384, RetryInterval: time.Second}, 28},
		{"reports inbound 0", fakebmc.SOLConfig{InboundSize: 32, InboundBuffer: 32, ReportInbound: 1}, 28},
		{"reports inbound 16384", fakebmc.SOLConfig{ReportInbound: 16384}, 255},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBMC(t, fakebmc.Config{SOL: tc.sol})
				st := console(t, b, sol.Config{})
				defer st.Close()
				if got := st.Stats().MaxChars; got != tc.maxChars {
					t.Errorf("characters per packet %d, want %d", got, tc.maxChars)
				}
				in := make([]byte, 16<<10)
				rand.Read(in)
				st.Write(in)
				if got := b.Host.WaitInput(t, time.Minute, len(in)); !bytes.Equal(got, in) {
					t.Fatal("input differs")
				}
			})
		})
	}
}

// TestSlowReader: output is held back by partial ACKs rather than buffered
// without bound, and nothing is lost when the reader comes back.
func TestSlowReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		st := console(t, b, sol.Config{ReadBuffer: 4096})
		defer st.Close()
		out := make([]byte, 256<<10)
		rand.Read(out)
		go b.Host.Write(out)
		time.Sleep(10 * time.Second) // nobody reads
		synctest.Wait()
		if got := st.Stats().BytesIn; got > 4096 {
			t.Fatalf("%d bytes buffered with a 4096-byte read buffer", got)
		}
		got := make([]byte, len(out))
		if _, err := io.ReadFull(st, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, out) {
			t.Fatalf("%d bytes differ", countDiff(got, out))
		}
	})
}

func TestActivationErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Disabled: true}})
		s := b.Session(t, admin)
		defer s.Close()
		if _, err := sol.Activate(context.Background(), s, sol.Config{}); !errors.Is(err, sol.ErrDisabled) {
			t.Errorf("disabled: %v", err)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{ForceEncryption: true}})
		cfg := admin
		cfg.CipherSuites = []uint8{2}
		s := b.Session(t, cfg)
		defer s.Close()
		_, err := sol.Activate(context.Background(), s, sol.Config{})
		var ce *ipmi.CompletionError
		if !errors.As(err, &ce) || ce.Code != ipmi.CCCannotActivateNoEncrypt {
			t.Errorf("force encryption on suite 2: %v", err)
		}
	})
}
