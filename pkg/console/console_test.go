package console_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// waitState waits (in fake time) until the console is in state s.
func waitState(t *testing.T, c *console.Console, s console.State, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for c.Stats().State != s {
		if time.Now().After(deadline) {
			t.Fatalf("state %v after %v, want %v", c.Stats().State, within, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEchoAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{}}})
		var r *console.Reader
		var ev *events
		c := start(t, config(b), func(c *console.Console) {
			r = c.NewReader(console.ReaderConfig{Name: "stdout"})
			ev = collect(c)
		})
		w, err := c.NewWriter(console.WriterConfig{})
		if err != nil {
			t.Fatal(err)
		}
		// Written while connecting: a lossless writer's input waits for the
		// session.
		if _, err := w.Write([]byte("hello\r")); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 6)
		if _, err := io.ReadFull(r, got); err != nil || string(got) != "hello\r" {
			t.Fatalf("echo %q, %v", got, err)
		}
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the BMC records Close Session after it answers
		if b.Events.Count("deactivate") != 1 || b.Events.Count("session-close") != 1 {
			t.Errorf("BMC saw deactivate %d, close %d", b.Events.Count("deactivate"), b.Events.Count("session-close"))
		}
		if n, err := r.Read(got); n != 0 || err != io.EOF {
			t.Errorf("Read after Close = %d, %v; want io.EOF", n, err)
		}
		<-ev.done
		kinds := ev.kinds()
		if len(kinds) < 3 || kinds[0] != console.Connecting || kinds[1] != console.Connected || kinds[len(kinds)-1] != console.Ended {
			t.Errorf("events %v, want connecting, connected, …, ended", kinds)
		}
		if c.Err() != nil {
			t.Errorf("Err after Close = %v, want nil", c.Err())
		}
		if _, err := w.Write([]byte("x")); !errors.Is(err, console.ErrClosed) {
			t.Errorf("Write after Close: %v, want ErrClosed", err)
		}
	})
}

// A lost session is reconnected after the backoff: 1 s, then 2 s for a
// session that died young, back to 1 s after one that stayed up 30 s. Each
// reconnection after a loss takes the console over (it is most likely held
// by our own dead session).
func TestLossReconnectsWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		cfg := config(b)
		cfg.Reconnect = true
		cfg.Session.Timeout, cfg.Session.Retries = 200*time.Millisecond, 1
		cfg.SOL.Keepalive = time.Second
		var ev *events
		c := start(t, cfg, func(c *console.Console) { ev = collect(c) })
		waitState(t, c, console.StateAttached, time.Second)

		lose := func(want time.Duration) {
			t.Helper()
			n := len(ev.of(console.Lost))
			b.Restart(t) // the BMC reboots: every session is gone
			waitState(t, c, console.StateWaiting, 10*time.Second)
			lost := ev.of(console.Lost)
			if len(lost) != n+1 {
				t.Fatalf("%d Lost events, want %d", len(lost), n+1)
			}
			l := lost[n]
			if l.Retry != want || !errors.Is(l.Err, ipmi.ErrSessionLost) {
				t.Errorf("Lost: retry %v, err %v; want %v and session lost", l.Retry, l.Err, want)
			}
			waitState(t, c, console.StateAttached, want+time.Second)
			conn := ev.of(console.Connecting)
			last := conn[len(conn)-1]
			if d := last.Time.Sub(l.Time); d != want {
				t.Errorf("next attempt %v after the loss, want %v", d, want)
			}
			if !last.Steal {
				t.Errorf("the attempt after a loss does not take the console over")
			}
		}
		lose(time.Second)
		lose(2 * time.Second)
		lose(4 * time.Second)
		time.Sleep(30 * time.Second) // a healthy session
		lose(time.Second)
		for _, e := range ev.of(console.Connected)[1:] {
			if !e.Reconnect || e.Polite {
				t.Errorf("reconnection event %+v, want Reconnect and not Polite", e)
			}
		}
	})
}

// Taken over: the console does not take it back, checks with the growing
// backoff without stealing, and comes back once the other session has left.
// Reconnect takes it back at once. NoSteal refuses an active console.
func TestTakeoverPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		cfg := config(b)
		cfg.Reconnect = true
		var ev *events
		a := start(t, cfg, func(c *console.Console) { ev = collect(c) })
		waitState(t, a, console.StateAttached, time.Second)

		other, err := console.New(config(b))
		if err != nil {
			t.Fatal(err)
		}
		other.Start(context.Background())
		waitState(t, other, console.StateAttached, time.Second)
		waitState(t, a, console.StateWaiting, 5*time.Second)
		to := ev.of(console.TakenOver)
		if len(to) != 1 || !errors.Is(to[0].Err, sol.ErrTakenOver) || to[0].Retry != time.Second {
			t.Fatalf("TakenOver events %+v, want one, retry 1s", to)
		}
		time.Sleep(20 * time.Second)
		failed := ev.of(console.ConnectFailed)
		if len(failed) < 2 {
			t.Fatalf("%d checks in 20 s, want ≥ 2", len(failed))
		}
		for i, f := range failed {
			if !f.Polite || !errors.Is(f.Err, sol.ErrInUse) {
				t.Errorf("check %d: %+v, want polite and in use", i, f)
			}
			if want := time.Duration(1<<(i+1)) * time.Second; f.Retry != want {
				t.Errorf("check %d: next in %v, want %v", i, f.Retry, want)
			}
		}
		for _, e := range ev.of(console.Connecting)[1:] {
			if e.Steal {
				t.Errorf("a check after the takeover steals the console")
			}
		}
		if n := b.Events.Count("activate"); n != 2 {
			t.Errorf("%d activations while the other session holds the console, want 2", n)
		}

		// NoSteal, without Reconnect: an active console is an error.
		ncfg := config(b)
		ncfg.NoSteal = true
		ns := start(t, ncfg, nil)
		<-ns.Done()
		if !errors.Is(ns.Err(), sol.ErrInUse) {
			t.Errorf("NoSteal against an active console: %v, want ErrInUse", ns.Err())
		}

		other.Close(context.Background())
		waitState(t, a, console.StateAttached, 40*time.Second)
		conn := ev.of(console.Connected)
		if last := conn[len(conn)-1]; !last.Polite || !last.Reconnect ||
			!strings.Contains(last.String(), "the console was free again") {
			t.Errorf("back: %+v (%q), want polite reconnection", last, last.String())
		}
		if n := b.Events.Count("activate"); n != 3 {
			t.Errorf("%d activations, want 3", n)
		}

		// Reconnect takes it back at once.
		other2 := start(t, config(b), nil)
		waitState(t, other2, console.StateAttached, time.Second)
		waitState(t, a, console.StateWaiting, 5*time.Second)
		if err := a.Reconnect(); err != nil {
			t.Fatal(err)
		}
		waitState(t, a, console.StateAttached, time.Second)
		conn2 := ev.of(console.Connecting)
		if last := conn2[len(conn2)-1]; !last.Steal {
			t.Errorf("Reconnect does not take the console back")
		}
		if len(ev.of(console.Reconnecting)) != 1 {
			t.Errorf("no Reconnecting event")
		}
	})
}

// floodHost writes n bytes of a pattern once start is closed.
type floodHost struct {
	n     int
	start chan struct{}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%23 + i/4096%3)
	}
	return b
}

func (h floodHost) Run(line *fakebmc.Line, done <-chan struct{}) {
	select {
	case <-h.start:
	case <-done:
		return
	}
	if _, err := line.Write(pattern(h.n)); err != nil {
		return
	}
	<-done
}

// One slow lossy reader falls behind and is told so; a lossless reader gets
// every byte; neither holds up the other.
func TestFanOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const total = 1 << 20
		host := floodHost{n: total, start: make(chan struct{})}
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
		var all, slow *console.Reader
		var ev *events
		c := start(t, config(b), func(c *console.Console) {
			all = c.NewReader(console.ReaderConfig{Name: "log"})
			slow = c.NewReader(console.ReaderConfig{Name: "viewer", Lossy: true, Buffer: 8 << 10})
			ev = collect(c)
		})
		got := readAll(all)
		waitState(t, c, console.StateAttached, time.Second)
		close(host.start)
		// The lossless reader gets it all while the lossy one is not read.
		for deadline := time.Now().Add(time.Minute); c.Stats().BytesIn < total; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d bytes came through in a minute: the slow reader holds the console up", c.Stats().BytesIn, total)
			}
		}
		synctest.Wait()
		if st := slow.Stats(); st.Buffered > 8<<10 || st.Skipped == 0 {
			t.Errorf("slow reader: %+v, want a full buffer and bytes skipped", st)
		}
		c.Close(context.Background())
		if out := <-got; !bytes.Equal(out, pattern(total)) {
			t.Fatalf("lossless reader: %d bytes, not the %d sent", len(out), total)
		}
		var data []byte
		var skipped int64
		for {
			ch, err := slow.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, ch.Data...)
			skipped += ch.Skipped
		}
		if int(skipped)+len(data) != total || !bytes.Equal(data, pattern(total)[:len(data)]) {
			t.Errorf("lossy reader: %d bytes and %d skipped, want the start and %d in all", len(data), skipped, total)
		}
		lag := ev.of(console.ReaderLagged)
		if len(lag) != 1 || lag[0].Detail != "viewer" {
			t.Errorf("ReaderLagged events %+v, want one for the viewer (the rest rate-limited)", lag)
		}
	})
}

// A lossless reader that is not read holds the BMC back (the console defers
// its ACKs) without losing a byte: the host cannot write faster than the
// reader reads.
func TestLosslessReaderBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const total = 4 << 20
		host := floodHost{n: total, start: make(chan struct{})}
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
		cfg := config(b)
		cfg.SOL.ReadBuffer = 64 << 10
		var r *console.Reader
		c := start(t, cfg, func(c *console.Console) {
			r = c.NewReader(console.ReaderConfig{Name: "stdout", Buffer: 64 << 10})
		})
		waitState(t, c, console.StateAttached, time.Second)
		close(host.start)
		time.Sleep(time.Minute)
		synctest.Wait()
		if in := c.Stats().BytesIn; in > 1<<20 {
			t.Errorf("%d bytes received with nobody reading, want the buffers' worth", in)
		}
		if c.Stats().State != console.StateAttached {
			t.Fatalf("the stream did not survive the wait: %v", c.Stats().LastErr)
		}
		got := make([]byte, total)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pattern(total)) {
			t.Errorf("output differs from what the host wrote")
		}
	})
}

func TestWriteLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		c := start(t, config(b), nil)
		waitState(t, c, console.StateAttached, time.Second)
		w1, err := c.NewWriter(console.WriterConfig{Name: "one"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.NewWriter(console.WriterConfig{Name: "two"}); !errors.Is(err, console.ErrWriterBusy) {
			t.Fatalf("second writer: %v, want ErrWriterBusy", err)
		} else if !strings.Contains(err.Error(), "(one)") {
			t.Errorf("second writer: %q does not name the holder, one", err)
		}
		if _, err := w1.Write([]byte("one ")); err != nil {
			t.Fatal(err)
		}
		w2, err := c.NewWriter(console.WriterConfig{Name: "force", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w1.Write([]byte("late")); !errors.Is(err, console.ErrLeaseLost) {
			t.Errorf("taken-over writer: %v, want ErrLeaseLost", err)
		}
		if _, err := w2.Write([]byte("two ")); err != nil {
			t.Fatal(err)
		}
		if !c.Stats().Writer {
			t.Error("Stats: no writer")
		}
		w2.Close()
		w3, err := c.NewWriter(console.WriterConfig{Name: "three"})
		if err != nil {
			t.Fatalf("after Close: %v", err)
		}
		w3.Write([]byte("three"))
		if err := c.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the host reads what the BMC accepted
		if got := string(b.Host.Input()); got != "one two three" {
			t.Errorf("host got %q", got)
		}
	})
}

// Without a session: commands and BREAK say so; a lossy writer's input is
// dropped and counted, a lossless writer's waits for the session.
func TestWhileDisconnected(t *testing.T) {
	for _, lossy := range []bool{false, true} {
		t.Run(map[bool]string{false: "lossless", true: "lossy"}[lossy], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBMC(t, fakebmc.Config{})
				b.Link.SetSilent(true)
				cfg := config(b)
				cfg.Reconnect = true
				cfg.Session.Timeout, cfg.Session.Retries = 100*time.Millisecond, 0
				var ev *events
				c := start(t, cfg, func(c *console.Console) { ev = collect(c) })
				waitState(t, c, console.StateWaiting, 5*time.Second)
				st := c.Stats()
				if !errors.Is(st.LastErr, ipmi.ErrNoResponse) || st.NextAttempt.IsZero() {
					t.Errorf("Stats while waiting: %+v", st)
				}
				err := c.Do(context.Background(), func(ctx context.Context, s *ipmi.Session) error {
					t.Error("Do ran without a session")
					return nil
				})
				if !errors.Is(err, console.ErrNotConnected) {
					t.Errorf("Do: %v, want ErrNotConnected", err)
				}
				if err := c.SendBreak(); !errors.Is(err, console.ErrNotConnected) {
					t.Errorf("SendBreak: %v, want ErrNotConnected", err)
				}
				w, err := c.NewWriter(console.WriterConfig{Lossy: lossy})
				if err != nil {
					t.Fatal(err)
				}
				if n, err := w.Write([]byte("abc")); n != 3 || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				b.Link.SetSilent(false)
				waitState(t, c, console.StateAttached, 10*time.Second)
				var on bool
				if err := c.Do(context.Background(), func(ctx context.Context, s *ipmi.Session) error {
					cs, err := s.ChassisStatus(ctx)
					on = cs.PowerOn
					return err
				}); err != nil || !on {
					t.Errorf("Do once connected: %v, power on %v", err, on)
				}
				if err := c.Drain(context.Background()); err != nil {
					t.Fatal(err)
				}
				synctest.Wait() // the host reads what the BMC accepted
				discarded := ev.of(console.InputDiscarded)
				if lossy {
					if string(b.Host.Input()) != "" {
						t.Errorf("lossy input typed while disconnected reached the host: %q", string(b.Host.Input()))
					}
					if len(discarded) != 1 || discarded[0].Bytes != 3 || discarded[0].String() != "3 bytes of typed input were not sent: the console was not connected" {
						t.Errorf("InputDiscarded %+v", discarded)
					}
				} else {
					if got := string(b.Host.Input()); got != "abc" {
						t.Errorf("lossless input written while disconnected: host got %q, want abc", got)
					}
					if len(discarded) != 0 {
						t.Errorf("lossless input discarded: %+v", discarded)
					}
				}
			})
		})
	}
}

// Close is bounded whatever the BMC does; a Close whose context ends stops
// waiting at once.
func TestCloseBounds(t *testing.T) {
	t.Run("silent BMC", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBMC(t, fakebmc.Config{})
			c := start(t, config(b), nil)
			waitState(t, c, console.StateAttached, time.Second)
			b.Link.SetSilent(true)
			t0 := time.Now()
			c.Close(context.Background())
			// Request timeout 1 s: drain 2 s, Deactivate and Close Session.
			if d := time.Since(t0); d > 7*time.Second {
				t.Errorf("Close took %v with a silent BMC, want ≤ 7s", d)
			}
		})
	})
	t.Run("cut short", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBMC(t, fakebmc.Config{})
			c := start(t, config(b), nil)
			waitState(t, c, console.StateAttached, time.Second)
			b.Link.SetSilent(true)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			t0 := time.Now()
			if err := c.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Close = %v, want the context's error", err)
			}
			if d := time.Since(t0); d != 100*time.Millisecond {
				t.Errorf("Close took %v, want 100ms (its context)", d)
			}
			// The stream's own close goes on in the background, bounded.
			time.Sleep(10 * time.Second)
		})
	})
	t.Run("while connecting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBMC(t, fakebmc.Config{})
			b.Link.SetSilent(true)
			c := start(t, config(b), nil)
			time.Sleep(time.Second)
			t0 := time.Now()
			c.Close(context.Background())
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("Close while connecting took %v, want ≤ 2s", d)
			}
		})
	})
}

// Without Reconnect the first loss ends the console with its error; with
// it, turning it off while waiting ends it with the error it waited on.
func TestEndsByItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		cfg := config(b)
		cfg.Session.Timeout, cfg.Session.Retries = 200*time.Millisecond, 1
		cfg.SOL.Keepalive = time.Second
		var ev *events
		c := start(t, cfg, func(c *console.Console) { ev = collect(c) })
		waitState(t, c, console.StateAttached, time.Second)
		b.Restart(t)
		<-c.Done()
		if !errors.Is(c.Err(), ipmi.ErrSessionLost) {
			t.Errorf("Err = %v, want session lost", c.Err())
		}
		<-ev.done
		if len(ev.of(console.Lost)) != 0 || len(ev.of(console.Ended)) != 1 {
			t.Errorf("events %v, want no Lost (nothing follows) and Ended", ev.kinds())
		}
	})
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		b.Link.SetSilent(true)
		cfg := config(b)
		cfg.Reconnect = true
		cfg.Session.Timeout, cfg.Session.Retries = 100*time.Millisecond, 0
		c := start(t, cfg, nil)
		waitState(t, c, console.StateWaiting, 5*time.Second)
		c.SetReconnect(false)
		<-c.Done()
		if !errors.Is(c.Err(), ipmi.ErrNoResponse) {
			t.Errorf("Err = %v, want the error it waited on", c.Err())
		}
	})
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		cfg := config(b)
		cfg.Session.Password = []byte("wrong")
		cfg.Reconnect = true
		c := start(t, cfg, nil)
		<-c.Done()
		if !errors.Is(c.Err(), ipmi.ErrAuth) || b.Events.Count("session-open") != 0 {
			t.Errorf("Err = %v, want an authentication failure, not retried", c.Err())
		}
	})
}

// Cancelling Start's context ends the console with its cause, the session
// closed.
func TestStartContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		c, err := console.New(config(b))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		c.Start(ctx)
		waitState(t, c, console.StateAttached, time.Second)
		cause := errors.New("shutting the server down")
		cancel(cause)
		<-c.Done()
		if c.Err() != cause {
			t.Errorf("Err = %v, want the cause", c.Err())
		}
		synctest.Wait() // the BMC records Close Session after it answers
		if b.Events.Count("deactivate") != 1 || b.Events.Count("session-close") != 1 {
			t.Errorf("BMC saw deactivate %d, close %d", b.Events.Count("deactivate"), b.Events.Count("session-close"))
		}
	})
}

// History: a reader added late gets the latest output first.
func TestReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		cfg := config(b)
		cfg.History = 16
		var first *console.Reader
		c := start(t, cfg, func(c *console.Console) { first = c.NewReader(console.ReaderConfig{}) })
		waitState(t, c, console.StateAttached, time.Second)
		const out = "0123456789abcdefXYZ"
		if _, err := b.Host.Write([]byte(out)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(out))
		if _, err := io.ReadFull(first, got); err != nil {
			t.Fatal(err)
		}
		late := c.NewReader(console.ReaderConfig{Replay: true})
		none := c.NewReader(console.ReaderConfig{})
		if _, err := b.Host.Write([]byte("!")); err != nil {
			t.Fatal(err)
		}
		want := out[len(out)-16:] + "!"
		got = make([]byte, len(want))
		if _, err := io.ReadFull(late, got); err != nil || string(got) != want {
			t.Errorf("replay %q, %v; want %q", got, err, want)
		}
		got = got[:1]
		if _, err := io.ReadFull(none, got); err != nil || string(got) != "!" {
			t.Errorf("without replay %q, %v", got, err)
		}
	})
}

// The end of input of a pipe: Drain waits for the BMC to accept the input,
// WaitQuiet for the BMC's retransmission span of silence.
func TestDrainAndWaitQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{}, RetryInterval: 100 * time.Millisecond, RetryCount: 3}})
		var ev *events
		var r *console.Reader
		c := start(t, config(b), func(c *console.Console) {
			ev = collect(c)
			r = c.NewReader(console.ReaderConfig{})
		})
		got := readAll(r)
		w, _ := c.NewWriter(console.WriterConfig{})
		in := pattern(100 << 10)
		if _, err := w.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := c.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s := c.Stats(); s.BytesOut != uint64(len(in)) || s.Queued != 0 || s.Stream.Pending != 0 {
			t.Errorf("after Drain: %+v", s)
		}
		known := ev.of(console.RetryKnown)
		if len(known) != 1 || known[0].Err != nil {
			t.Fatalf("RetryKnown %+v", known)
		}
		q := c.Stats().Retry.Quiet()
		if q != 650*time.Millisecond {
			t.Errorf("quiet span %v, want 650ms (3 retries every 100 ms, and the margin)", q)
		}
		t0 := time.Now()
		quiet, err := c.WaitQuiet(context.Background(), 30*time.Second)
		if err != nil || !quiet {
			t.Fatalf("WaitQuiet = %v, %v", quiet, err)
		}
		if d := time.Since(t0); d < q || d > 5*time.Second {
			t.Errorf("WaitQuiet returned after %v, want the quiet span and little more", d)
		}
		c.Close(context.Background())
		if out := <-got; !bytes.Equal(out, in) {
			t.Errorf("echo: %d bytes, want %d", len(out), len(in))
		}
	})
}

// Status bits flapping on every packet: a few events, not one per packet.
func TestEventsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{Faults: fakebmc.Faults{FlapHostPower: true}, SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{}}})
		var ev *events
		c := start(t, config(b), func(c *console.Console) { ev = collect(c) })
		w, _ := c.NewWriter(console.WriterConfig{})
		for range 200 {
			w.Write([]byte("x"))
			time.Sleep(50 * time.Millisecond)
		}
		c.Close(context.Background())
		<-ev.done
		power := len(ev.of(console.HostOff)) + len(ev.of(console.HostOn))
		sum := ev.of(console.Suppressed)
		if power > 2 || len(sum) == 0 || len(sum) > 3 {
			t.Errorf("%d power events and %d summaries in 10 s of flapping; want ≤ 2 and 1–3", power, len(sum))
		}
		for _, s := range sum {
			if s.Of != console.HostOff || s.Count == 0 || s.Last == nil {
				t.Errorf("summary %+v", s)
			}
		}
	})
}

// bannerHost has written its banner before any console attaches: the BMC
// sends it as soon as SOL is active.
type bannerHost struct{}

func (bannerHost) Run(line *fakebmc.Line, done <-chan struct{}) {
	if _, err := line.Write([]byte("host banner\r\n")); err != nil {
		return
	}
	fakebmc.EchoHost{}.Run(line, done)
}

// A log following a reader with events has the connection's note before
// the first output, and notes where they happened.
func TestLogFollowsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: bannerHost{}}})
		var buf bytes.Buffer
		lg := console.NewLog(nopCloser{&buf}, "buffer", console.LogConfig{MarkPrefix: "[test] "})
		followed := make(chan error, 1)
		c := start(t, config(b), func(c *console.Console) {
			r := c.NewReader(console.ReaderConfig{Name: "log", Events: true})
			go func() {
				followed <- lg.Follow(r, func(e console.Event) (string, bool) {
					return e.String(), e.Kind == console.Connected || e.Kind == console.Note || e.Kind == console.Ended
				})
			}()
		})
		w, _ := c.NewWriter(console.WriterConfig{})
		out := c.NewReader(console.ReaderConfig{})
		got := make([]byte, len("host banner\r\n"))
		io.ReadFull(out, got)
		c.Annotate("power cycle sent")
		w.Write([]byte("echo\n"))
		got = make([]byte, 5)
		io.ReadFull(out, got)
		c.Close(context.Background())
		if err := <-followed; err != nil {
			t.Fatal(err)
		}
		lg.Close()
		want := "[test] connected to bmc (cipher suite 17)\nhost banner\r\n[test] power cycle sent\necho\n[test] ended\n"
		if buf.String() != want {
			t.Errorf("log\n%q\nwant\n%q", buf.String(), want)
		}
	})
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Before Start: readers and subscriptions can be made, Stats says idle,
// calls that need the owner say so; Close without Start ends it.
func TestNotStarted(t *testing.T) {
	c, err := console.New(console.Config{Addr: "bmc"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.NewReader(console.ReaderConfig{})
	sub := c.Events(1)
	if s := c.Stats(); s.State != console.StateIdle || s.Addr != "bmc" {
		t.Errorf("Stats before Start: %+v", s)
	}
	if _, err := c.NewWriter(console.WriterConfig{}); !errors.Is(err, console.ErrNotStarted) {
		t.Errorf("NewWriter before Start: %v", err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after Close: %v", err)
	}
	for range sub.C {
	}
	if err := c.Start(context.Background()); err == nil {
		t.Error("Start after Close succeeded")
	}
	if _, err := console.New(console.Config{}); err == nil {
		t.Error("New without an address succeeded")
	}
}

// WaitQuiet started before the BMC's retry span is known (it is read once
// the first session is up) waits for the span the BMC reports, not the
// assumed one.
//
// The span is read by a goroutine of its own as soon as the console is
// connected. On a network without delay that read takes no fake time, so
// whether it is done before the test looks depended on how the goroutines
// were scheduled (a loaded machine let it win: "known already"). Here every
// datagram the BMC sends takes 100 ms of fake time, which passes only once
// every goroutine is blocked, so the answer cannot arrive before WaitQuiet
// waits; synctest.Wait lets everything else run first, the worst a
// scheduler could do.
func TestWaitQuietLearnsTheSpan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{SOL: fakebmc.SOLConfig{RetryInterval: 2 * time.Second, RetryCount: 7}},
			fakebmctest.NoEcho(), fakebmctest.Impair(impair.Config{Delay: 100 * time.Millisecond}))
		var sub *console.Subscription
		c := start(t, config(b), func(c *console.Console) { sub = c.Events(64) })
		for ev := range sub.C {
			if ev.Kind == console.Connected {
				break
			}
		}
		synctest.Wait()
		if c.Stats().Retry.Reported {
			t.Fatal("the retry span is known already: nothing to test")
		}
		t0 := time.Now()
		quiet, err := c.WaitQuiet(context.Background(), time.Minute)
		if err != nil || !quiet {
			t.Fatalf("WaitQuiet = %v, %v", quiet, err)
		}
		if r := c.Stats().Retry; !r.Reported {
			t.Fatalf("retry span %v after WaitQuiet, want the one the BMC reports", r)
		}
		// 8 copies 2 s apart, and the margin.
		if d := time.Since(t0); d < 16250*time.Millisecond {
			t.Errorf("WaitQuiet returned after %v, want the reported span 16.25s (not the assumed 4.25s)", d)
		}
	})
}

// Close at the same moment as Start ends the console whichever wins, within
// Close's bounds: when Start won the race after Close had seen the console
// unstarted, Close waited for ever.
func TestCloseRacingStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBMC(t, fakebmc.Config{})
		c, err := console.New(config(b))
		if err != nil {
			t.Fatal(err)
		}
		// Start runs between Close's look at the console and its Once.
		defer console.SetCloseHook(func(c *console.Console) { c.Start(context.Background()) })()
		closed := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			closed <- c.Close(ctx)
		}()
		select {
		case <-closed:
		case <-time.After(time.Minute):
			t.Fatal("Close did not return within a minute")
		}
		select {
		case <-c.Done():
		case <-time.After(time.Minute):
			t.Fatal("the console still runs after Close")
		}
	})
}
