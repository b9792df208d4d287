package sol_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// The tests here put the console in front of BMCs that misbehave
// (fakebmc.Faults), under synctest: every duration is fake time.

// solCounter counts the SOL datagrams the BMC reads. Past limit it drops
// them, so that a console that sends in a loop as fast as the BMC answers
// makes the test fail instead of spinning for ever at one instant.
type solCounter struct {
	net.PacketConn
	mu    sync.Mutex
	n     int
	limit int
}

func (c *solCounter) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		// RMCP header (4 bytes), auth type 6, payload type (bits 5:0).
		if err != nil || n < 6 || p[4] != 0x06 || p[5]&0x3F != byte(ipmi.PayloadSOL) {
			return n, addr, err
		}
		c.mu.Lock()
		c.n++
		over := c.n > c.limit
		c.mu.Unlock()
		if !over {
			return n, addr, err
		}
	}
}

func (c *solCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

type timedSolEvent struct {
	at time.Time
	e  sol.Event
}

// eventLog records a stream's events as they come.
type eventLog struct {
	mu  sync.Mutex
	evs []timedSolEvent
}

func collect(st *sol.Stream) *eventLog {
	l := &eventLog{}
	add := func(e sol.Event) {
		l.mu.Lock()
		l.evs = append(l.evs, timedSolEvent{time.Now(), e})
		l.mu.Unlock()
	}
	go func() {
		for {
			select {
			case e := <-st.Events():
				add(e)
			case <-st.Done():
				for {
					select {
					case e := <-st.Events():
						add(e)
					default:
						return
					}
				}
			}
		}
	}()
	return l
}

func (l *eventLog) of(k sol.EventKind) []timedSolEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []timedSolEvent
	for _, te := range l.evs {
		if te.e.Kind == k {
			out = append(out, te)
		}
	}
	return out
}

// waitDone waits for the stream to end, at most d; it returns how long it
// took.
func waitDone(t *testing.T, st *sol.Stream, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-st.Done():
	case <-time.After(d):
		t.Fatalf("the stream did not end within %v", d)
	}
	return time.Since(start)
}

// TestInputRefusedBacksOff: a BMC that answers every input packet but takes
// nothing (0 accepted, or NACK) is asked again after a growing delay, MinRTO
// doubling up to MaxRTO, never in a loop; the stream says so once
// (InputStalled after StallAfter), stays up, and delivers everything once
// the BMC takes input again (InputResumed).
func TestInputRefusedBacksOff(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    fakebmc.InputStall
		refusal string
	}{
		{"0 accepted", fakebmc.InputAcceptNone, "0 characters accepted"},
		{"NACK", fakebmc.InputNackAll, "NACK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var ctr *solCounter
				b := newBMC(t, fakebmc.Config{}, fakebmctest.Tap(func(pc net.PacketConn) net.PacketConn {
					ctr = &solCounter{PacketConn: pc, limit: 10000}
					return ctr
				}))
				st := console(t, b, sol.Config{})
				defer st.Close()
				evs := collect(st)
				synctest.Wait()
				b.Server.SetInputStall(tc.mode)
				n0 := ctr.count()
				start := time.Now()
				st.Write([]byte("hello"))
				time.Sleep(60 * time.Second)
				synctest.Wait()
				// Holds of 20, 40, … 1280 ms (8 packets in 2.54 s), then one
				// packet per 2 s: about 36 in a minute.
				if sent := ctr.count() - n0; sent < 30 || sent > 40 {
					t.Errorf("%d input packets in 60 s to a BMC that takes nothing, want 30–40 (back-off to 2 s)", sent)
				}
				if err := st.Err(); err != nil {
					t.Fatalf("a BMC that answers but takes nothing ended the stream: %v", err)
				}
				stalled := evs.of(sol.InputStalled)
				if len(stalled) != 1 {
					t.Fatalf("%d InputStalled events, want 1", len(stalled))
				}
				if d := stalled[0].at.Sub(start); d != 2*time.Second {
					t.Errorf("InputStalled after %v, want 2s (StallAfter)", d)
				}
				if d := stalled[0].e.Detail; !strings.Contains(d, tc.refusal) || !strings.Contains(d, "5 bytes waiting") {
					t.Errorf("InputStalled detail %q, want the refusal (%s) and the bytes waiting", d, tc.refusal)
				}
				b.Server.SetInputStall(fakebmc.InputTaken)
				resumedAt := time.Now()
				if got := hostGot(b, 5, 3*time.Second); string(got) != "hello" {
					t.Fatalf("host got %q after the BMC took input again", got)
				}
				if d := time.Since(resumedAt); d > 2*time.Second {
					t.Errorf("input went through %v after the BMC took it again, want ≤ 2s (MaxRTO)", d)
				}
				synctest.Wait()
				if n := len(evs.of(sol.InputResumed)); n != 1 {
					t.Errorf("%d InputResumed events, want 1", n)
				}
				if s := st.Stats(); s.Pending != 0 || s.BytesOut != 5 {
					t.Errorf("stats %+v, want everything accepted", s)
				}
			})
		})
	}
}

// TestInputNeverAcked: a BMC that answers keepalives but never ACKs console
// input. The stream reports the stall once and ends with ErrSessionLost
// after LostAfter (20 s), saying how much input was not delivered.
func TestInputNeverAcked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		st := console(t, b, sol.Config{})
		defer st.Close()
		evs := collect(st)
		synctest.Wait()
		b.Server.SetInputStall(fakebmc.InputNoAck)
		st.Write([]byte("hello"))
		d := waitDone(t, st, time.Minute)
		if d < 20*time.Second || d > 21*time.Second {
			t.Errorf("ended after %v, want 20–21 s (LostAfter)", d)
		}
		err := st.Err()
		if !errors.Is(err, ipmi.ErrSessionLost) || !strings.Contains(err.Error(), "5 bytes of input not delivered") {
			t.Errorf("error %v, want session lost with 5 bytes not delivered", err)
		}
		if s := st.Stats(); s.Keepalives < 2 || s.KeepaliveFails != 0 || s.Probes < 1 {
			t.Errorf("stats %+v: want the early probe and the regular keepalive answered", s)
		}
		stalled := evs.of(sol.InputStalled)
		if len(stalled) != 1 || !strings.Contains(stalled[0].e.Detail, "no ACK") {
			t.Errorf("InputStalled events %+v, want one saying no ACK", stalled)
		}
		synctest.Wait()
		if lost := evs.of(sol.SessionLost); len(lost) != 1 {
			t.Errorf("%d SessionLost events, want 1", len(lost))
		}
	})
}

// TestWriteAndCloseWithFullBuffer: a BMC that takes no input; the write
// buffer fills. WriteContext returns at its deadline; a blocked Write
// returns when Close is called; Close is bounded, still deactivates and
// closes the session, and says input was not delivered.
func TestWriteAndCloseWithFullBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{Faults: fakebmc.Faults{InputStall: fakebmc.InputAcceptNone}})
		st := console(t, b, sol.Config{WriteBuffer: 1024})
		type result struct {
			n   int
			err error
		}
		blocked := make(chan result, 1)
		go func() {
			n, err := st.Write(make([]byte, 4096))
			blocked <- result{n, err}
		}()
		synctest.Wait()
		select {
		case r := <-blocked:
			t.Fatalf("Write returned %d, %v with a full buffer", r.n, r.err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		n, err := st.WriteContext(ctx, []byte("more"))
		cancel()
		if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WriteContext with a full buffer = %d, %v; want 0, deadline exceeded", n, err)
		}
		start := time.Now()
		err = st.Close()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Close took %v, want ≤ 2 s", d)
		}
		if !errors.Is(err, sol.ErrUndelivered) || !strings.Contains(err.Error(), "1024 bytes") {
			t.Errorf("Close = %v, want ErrUndelivered for 1024 bytes", err)
		}
		if r := <-blocked; r.n != 1024 || !errors.Is(r.err, sol.ErrClosed) {
			t.Errorf("blocked Write = %d, %v; want 1024, ErrClosed", r.n, r.err)
		}
		if b.Events.Count(fakebmc.EventDeactivate) != 1 || b.Events.Count(fakebmc.EventSessionClose) != 1 {
			t.Errorf("BMC saw deactivate %d, session close %d; want 1, 1", b.Events.Count(fakebmc.EventDeactivate), b.Events.Count(fakebmc.EventSessionClose))
		}
	})
}

// TestOversizeOutput: a BMC that sends 1500 characters per packet, more than
// the accepted count can acknowledge, and resends the unaccepted rest under
// its next number. Output arrives exactly once, in order.
func TestOversizeOutput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{Faults: fakebmc.Faults{OversizeOutput: 1500},
			SOL: fakebmc.SOLConfig{OutputBuffer: 256 << 10, SendThreshold: 4096}})
		st := console(t, b, sol.Config{})
		defer st.Close()
		out := make([]byte, 200<<10)
		rand.Read(out)
		go b.Host.Write(out)
		got := make([]byte, len(out))
		if _, err := io.ReadFull(st, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, out) {
			t.Fatalf("%d bytes differ", countDiff(got, out))
		}
		synctest.Wait()
		if s := st.Stats(); s.BytesIn != uint64(len(out)) {
			t.Fatalf("%d bytes delivered, want %d", s.BytesIn, len(out))
		}
	})
}

// TestBMCDeathDetected: the BMC goes silent. With input waiting for an ACK
// the stream probes at once and ends within 1 s + two request bounds (15 s
// with the default 1 s timeout and 3 retries); idle, within a keepalive
// interval and two request bounds (29 s).
func TestBMCDeathDetected(t *testing.T) {
	for _, typing := range []bool{true, false} {
		for _, after := range []time.Duration{0, 5 * time.Second, 11 * time.Second, 14900 * time.Millisecond} {
			name := fmt.Sprintf("idle/after %v", after)
			bound := 30 * time.Second
			if typing {
				name = fmt.Sprintf("typing/after %v", after)
				bound = 16 * time.Second
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					b := newBMC(t, fakebmc.Config{})
					st := console(t, b, sol.Config{})
					defer st.Close()
					time.Sleep(after)
					synctest.Wait()
					b.Link.SetSilent(true)
					if typing {
						st.Write([]byte("x"))
					}
					d := waitDone(t, st, 2*time.Minute)
					err := st.Err()
					if !errors.Is(err, ipmi.ErrSessionLost) {
						t.Fatalf("error %v, want session lost", err)
					}
					if d >= bound {
						t.Errorf("noticed after %v, want < %v", d, bound)
					}
					if typing && !strings.Contains(err.Error(), "1 byte of input not delivered") {
						t.Errorf("error %q does not say the input was not delivered", err)
					}
					t.Logf("noticed after %v: %v", d, err)
				})
			})
		}
	}
}

// TestStaleInputSequence: a BMC that keeps the last input sequence number
// across sessions (ipmi_sim). Thirty attach cycles, each sending one
// keystroke as its first input: none is lost. Without the opening packet
// the same BMC swallows them.
func TestStaleInputSequence(t *testing.T) {
	for _, tc := range []struct {
		name      string
		faults    fakebmc.Faults
		noOpening bool
		maxDelay  time.Duration // of the first keystroke
	}{
		{"ipmi_sim 2.0.33", fakebmc.Faults{StaleInputSeq: true}, false, 0},
		{"empty packets unanswered", fakebmc.Faults{StaleInputSeq: true, IgnoreEmptyInput: true}, false, sol.OpeningWait},
		{"without the opening packet", fakebmc.Faults{StaleInputSeq: true}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBMC(t, fakebmc.Config{Faults: tc.faults})
				lost, want := 0, 0
				for i := range 30 {
					st := console(t, b, sol.Config{Keepalive: -1, NoOpening: tc.noOpening})
					key := byte('a' + i%26)
					start := time.Now()
					st.Write([]byte{key})
					want++
					got := hostGot(b, want, 3*time.Second)
					if len(got) < want || got[len(got)-1] != key {
						lost++
						want--
					} else if d := time.Since(start); d > tc.maxDelay {
						t.Errorf("cycle %d: the keystroke took %v, want ≤ %v", i, d, tc.maxDelay)
					}
					st.Close()
				}
				if tc.noOpening {
					if lost == 0 {
						t.Fatal("no keystroke lost without the opening packet: the fault does not bite")
					}
					t.Logf("without the opening packet %d of 30 first keystrokes were lost", lost)
					return
				}
				if lost != 0 {
					t.Fatalf("%d of 30 first keystrokes lost", lost)
				}
			})
		})
	}
}

// TestActivateAnswersLost: the BMC activates but the answer is lost, N
// times in a row (the retried request meets "already active"). Each time the
// console finds itself the owner, deactivates and activates again.
func TestActivateAnswersLost(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d lost", n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBMC(t, fakebmc.Config{Faults: fakebmc.Faults{LoseActivateAnswers: n}})
				st := console(t, b, sol.Config{})
				if got := b.Events.Count(fakebmc.EventAnswerLost); got != n {
					t.Errorf("%d answers lost, want %d", got, n)
				}
				if got := b.Events.Count(fakebmc.EventActivate); got != n+1 {
					t.Errorf("%d activations, want %d", got, n+1)
				}
				st.Write([]byte("attached"))
				if got := hostGot(b, 8, 5*time.Second); string(got) != "attached" {
					t.Errorf("host got %q", got)
				}
				if err := st.Close(); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

// TestActivateUnderLoss: Activate through 50% datagram loss (both ways; 20
// retries per request) on a BMC that, like ipmi_sim, executes a retried
// Activate again. Every seed attaches.
func TestActivateUnderLoss(t *testing.T) {
	extra := 0
	for seed := range uint64(8) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// impair seeds its generator in Wrap, not in SetConfig.
				b := newBMC(t, fakebmc.Config{Faults: fakebmc.Faults{ActivateNotCached: true}},
					fakebmctest.Impair(impair.Config{Seed: seed}))
				lossy := b.Link
				cfg := admin
				cfg.Retries = 20
				s := b.Session(t, cfg)
				lossy.SetConfig(impair.Config{Drop: 0.5})
				st, err := sol.Activate(context.Background(), s, sol.Config{Keepalive: -1})
				if err != nil {
					t.Fatalf("Activate through 50%% loss: %v", err)
				}
				lossy.SetConfig(impair.Config{})
				acts := b.Events.Count(fakebmc.EventActivate)
				extra += acts - 1
				t.Logf("%d activations, %d datagrams dropped", acts, lossy.Stats().Dropped)
				st.Write([]byte("attached"))
				if got := hostGot(b, 8, 5*time.Second); string(got) != "attached" {
					t.Errorf("host got %q", got)
				}
				st.Close()
			})
		})
	}
	if extra == 0 {
		t.Error("no seed lost an Activate answer: the recovery was not exercised")
	}
	t.Logf("%d recoveries over 8 seeds", extra)
}

// TestDeactivatedByAnotherTool: Deactivate Payload from another session,
// told by the deactivating bit or found by the keepalive (owner 0), is
// reported as a deactivation, not as a takeover by session 0x00000000;
// errors.Is(err, ErrTakenOver) still holds. A real takeover names the owner.
func TestDeactivatedByAnotherTool(t *testing.T) {
	for _, silent := range []bool{false, true} {
		t.Run(fmt.Sprintf("silent %v", silent), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{SilentDeactivate: silent}})
				st := console(t, b, sol.Config{})
				defer st.Close()
				evs := collect(st)
				other := b.Session(t, admin)
				defer other.Close()
				if err := other.DeactivatePayload(context.Background(), ipmi.PayloadSOL, 1); err != nil {
					t.Fatal(err)
				}
				waitDone(t, st, 20*time.Second)
				err := st.Err()
				if !errors.Is(err, sol.ErrDeactivated) || !errors.Is(err, sol.ErrTakenOver) {
					t.Fatalf("error %v, want ErrDeactivated and ErrTakenOver", err)
				}
				if msg := err.Error(); strings.Contains(msg, "0x00000000") || !strings.Contains(msg, "deactivated by the BMC or another session") {
					t.Errorf("message %q", msg)
				}
				synctest.Wait()
				if to := evs.of(sol.TakenOver); len(to) != 1 || !errors.Is(to[0].e.Err, sol.ErrDeactivated) {
					t.Errorf("TakenOver events %+v", to)
				}
			})
		})
	}
	t.Run("taken over, silently", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{SilentDeactivate: true}})
			st := console(t, b, sol.Config{})
			defer st.Close()
			thief := console(t, b, sol.Config{})
			defer thief.Close()
			waitDone(t, st, 20*time.Second)
			err := st.Err()
			if !errors.Is(err, sol.ErrTakenOver) || errors.Is(err, sol.ErrDeactivated) {
				t.Fatalf("error %v, want ErrTakenOver only", err)
			}
			if want := fmt.Sprintf("0x%08x", thief.Session().BMCSessionID()); !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name the owner %s", err, want)
			}
		})
	})
}

// TestFlappingBreakBit: a host that sends a BREAK with every chunk of output
// for 5 s: the BMC sets the bit on (nearly) every packet. The stream reports
// it at most once per second.
func TestFlappingBreakBit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		st := console(t, b, sol.Config{})
		evs := collect(st)
		read := make(chan int64)
		go func() {
			n, _ := io.Copy(io.Discard, st)
			read <- n
		}()
		for range 500 {
			b.Host.SendBreak()
			b.Host.Write([]byte("x"))
			time.Sleep(10 * time.Millisecond)
		}
		synctest.Wait()
		st.Close()
		if n := <-read; n != 500 {
			t.Errorf("read %d bytes, want 500", n)
		}
		if n := len(evs.of(sol.BreakDetected)); n < 1 || n > 6 {
			t.Errorf("%d BreakDetected events in 5 s, want 1–6", n)
		}
	})
}
