//go:build unix

package cli

// End-to-end tests of issue 8 on pipes: a BMC that stops taking input,
// outputs that stop taking output or fail, storms, flapping status bits, loss
// at the end of input, errors said once, signals in every state. Each waits
// on observable events (stderr lines, BMC events, bytes through a pipe) with
// a deadline; none sleeps.

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/internal/testenv"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/impair"
)

// ---- hosts ----

// deafHost never reads its serial line: with a small InboundBuffer the BMC
// soon accepts nothing more ("0 characters accepted"), or NACKs.
type deafHost struct{}

func (deafHost) Run(_ *fakebmc.Line, done <-chan struct{}) { <-done }

// floodHost writes output without pause once start is closed, up to limit
// bytes; reached is closed once the BMC has taken mark bytes.
type floodHost struct {
	start       <-chan struct{}
	limit, mark int64
	reached     chan struct{}
	wrote       *atomic.Int64
}

func newFloodHost(limit, mark int64) (floodHost, chan struct{}) {
	start := make(chan struct{})
	return floodHost{start: start, limit: limit, mark: mark, reached: make(chan struct{}), wrote: new(atomic.Int64)}, start
}

func (h floodHost) Run(line *fakebmc.Line, done <-chan struct{}) {
	select {
	case <-h.start:
	case <-done:
		return
	}
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 256)
	marked := false
	for h.wrote.Load() < h.limit {
		n, err := line.Write(chunk)
		if w := h.wrote.Add(int64(n)); w >= h.mark && !marked {
			marked = true
			close(h.reached)
		}
		if err != nil {
			return
		}
	}
	<-done
}

// ---- 1. a BMC that stops accepting console input ----

// Once the BMC takes nothing more, stdin stops being read (backpressure) but
// signals still end the program promptly, closing the session. Before issue
// 8 the main loop blocked in Stream.Write and SIGTERM was ignored.
func TestE2EInputNotAcceptedSignal(t *testing.T) {
	for _, tc := range []struct {
		name string
		sol  fakebmc.SOLConfig
	}{
		{"zero accepted", fakebmc.SOLConfig{Host: deafHost{}, InboundBuffer: 1}},
		{"nack", fakebmc.SOLConfig{Host: deafHost{}, InboundBuffer: 1, NackWhenFull: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ev := startBMC(t, fakebmc.Config{SOL: tc.sol})
			p := startOnPipes(t, "password", attachArgs(srv.Addr())...)
			p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
			// More than the stream's buffer (64 KiB), what is read ahead and
			// the pipe (64 KiB) hold: the console has taken all it can.
			var wrote atomic.Int64
			full := make(chan struct{})
			go func() {
				chunk := bytes.Repeat([]byte("x"), 4096)
				for {
					n, err := p.stdin.Write(chunk)
					if wrote.Add(int64(n)) >= 150<<10 {
						select {
						case <-full:
						default:
							close(full)
						}
					}
					if err != nil {
						return
					}
				}
			}()
			select {
			case <-full:
			case <-time.After(long):
				t.Fatalf("only %d bytes of input went into the console%s", wrote.Load(), p.output())
			}
			p.signal(t, syscall.SIGTERM)
			if code := p.wait(t, short); code != ExitSignal {
				t.Errorf("exit status %d after SIGTERM, want %d%s", code, ExitSignal, p.output())
			}
			ev.WaitFor(t, short, "deactivate", "session-close")
		})
	}
}

// ---- 2. stdout that nobody drains ----

// A FIFO that nobody reads: the output copier blocks in its write. SIGTERM
// still ends the program (exit 8) with the session closed. Before issue 8
// the final note waited for the lock the copier held, forever.
func TestE2EStdoutNotDrainedSignal(t *testing.T) {
	host, start := newFloodHost(8<<20, 512<<10)
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	p := startWithStdout(t, w, "password", attachArgs(srv.Addr())...)
	w.Close()
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	close(start)
	// The BMC holds 64 KiB, the pipe 64 KiB, the copier's buffer 32 KiB: once
	// the host has written this much the copier is stuck in its write.
	select {
	case <-host.reached:
	case <-time.After(long):
		t.Fatalf("the host wrote only %d bytes%s", host.wrote.Load(), p.output())
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d after SIGTERM, want %d%s", code, ExitSignal, p.output())
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// ---- 3. a local error is not a session loss ----

// stdout is /dev/full and --reconnect is on: the write error ends the
// program with exit 1 after one session, said in one line. Before issue 8
// it reconnected at once, again and again (472 sessions in 5 s).
func TestE2ELocalErrorIsNotReconnected(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		testenv.Missing(t, "no /dev/full here: %v", err)
	}
	defer full.Close()
	host, start := newFloodHost(1<<20, 0)
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	p := startWithStdout(t, full, "password", attachArgs(srv.Addr(), "--reconnect", "--keep-open")...)
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	close(start)
	if code := p.wait(t, short); code != ExitError {
		t.Errorf("exit status %d, want %d%s", code, ExitError, p.output())
	}
	if n := ev.Count("activate"); n != 1 {
		t.Errorf("%d activations, want 1; events:%s", n, ev)
	}
	if n := strings.Count(p.stderr.String(), "no space left on device"); n != 1 {
		t.Errorf("the write error is said %d times, want once%s", n, p.output())
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// A BMC that ends every activation as soon as it is up: the backoff grows
// from one loss to the next instead of starting again at every connect.
func TestE2EBackoffAfterInstantLoss(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{Faults: fakebmc.Faults{DeactivateAfter: 100 * time.Millisecond}})
	p := startOnPipes(t, "password", attachArgs(srv.Addr(), "--reconnect", "--keep-open", "--keepalive", "1s")...)
	ev.WaitN(t, long, "activate", 3)
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d after SIGTERM, want %d%s", code, ExitSignal, p.output())
	}
	at := ev.Times("activate")
	gap1, gap2 := at[1].Sub(at[0]), at[2].Sub(at[1])
	t.Logf("activations %v and %v apart", gap1.Round(time.Millisecond), gap2.Round(time.Millisecond))
	// 1 s then 2 s, ±20%, after a loss 100 ms into each activation.
	if gap1 < 800*time.Millisecond {
		t.Errorf("second activation %v after the first, want the backoff (≥ 0.8 s)", gap1)
	}
	if gap2 < 1600*time.Millisecond {
		t.Errorf("third activation %v after the second, want the grown backoff (≥ 1.6 s)", gap2)
	}
}

// ---- 4. two --reconnect clients on one console ----

// The second client takes the console; the first does not take it back
// while it is in use (before issue 8 they took it from each other: 94
// activations in 15 s), says so in its log, and gets the console back once
// the other has left.
func TestE2ETwoReconnectingClients(t *testing.T) {
	srv, ev := startBMC(t, fakebmc.Config{})
	logFile := filepath.Join(t.TempDir(), "a.log")
	a := startOnPipes(t, "password", attachArgs(srv.Addr(), "--reconnect", "--keep-open", "--log", logFile)...)
	a.stderr.waitFor(t, "A connected", "ghmicons: connected to", short)
	b := startOnPipes(t, "password", attachArgs(srv.Addr(), "--reconnect", "--keep-open")...)
	b.stderr.waitFor(t, "B connected", "ghmicons: connected to", short)
	a.stderr.waitFor(t, "A taken over", "not taking it back", short)
	a.stderr.waitFor(t, "A checks again", "still in use by another session", short)
	if n := ev.Count("activate"); n != 2 {
		t.Fatalf("%d activations while B holds the console, want 2; events:%s", n, ev)
	}
	b.signal(t, syscall.SIGTERM)
	if code := b.wait(t, short); code != ExitSignal {
		t.Errorf("B: exit status %d after SIGTERM, want %d%s", code, ExitSignal, b.output())
	}
	a.stderr.waitFor(t, "A back", "reconnected", long)
	if n := ev.Count("activate"); n != 3 {
		t.Errorf("%d activations, want 3 (A, B, A again); events:%s", n, ev)
	}
	a.write(t, "still here\n")
	a.stdout.waitFor(t, "A's echo", "still here\n", short)
	a.signal(t, syscall.SIGTERM)
	if code := a.wait(t, short); code != ExitSignal {
		t.Errorf("A: exit status %d after SIGTERM, want %d%s", code, ExitSignal, a.output())
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not taking it back", "still in use", "reconnected"} {
		if !bytes.Contains(log, []byte("[ghmicons] ")) || !strings.Contains(string(log), want) {
			t.Errorf("A's log lacks %q:\n%s", want, log)
		}
	}
}

// ---- 5. status bits that flap ----

// Host power off/on, BREAK and overrun on every packet: a few lines, not one
// per packet (4,488 lines in 5 s before issue 8), on stderr and in the log;
// and every byte still comes through.
func TestE2EFlappingStatusBitsAreRateLimited(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{Faults: fakebmc.Faults{FlapHostPower: true, BreakEveryPacket: true, OverrunEveryPacket: true},
		SOL: fakebmc.SOLConfig{RetryInterval: 100 * time.Millisecond}})
	logFile := filepath.Join(t.TempDir(), "console.log")
	in := make([]byte, 128<<10)
	if _, err := rand.Read(in); err != nil {
		t.Fatal(err)
	}
	p := startOnPipes(t, "password", attachArgs(srv.Addr(), "--log", logFile)...)
	go func() {
		_, _ = p.stdin.Write(in)
		p.stdin.Close()
	}()
	if code := p.wait(t, long); code != ExitOK {
		t.Fatalf("exit status %d, want 0%s", code, p.output())
	}
	if !bytes.Equal(p.stdout.Bytes(), in) {
		t.Errorf("stdout: %d bytes, not the %d sent", len(p.stdout.Bytes()), len(in))
	}
	stderr := p.stderr.String()
	lines := strings.Count(stderr, "\n")
	t.Logf("stderr:\n%s", stderr)
	// connected, disconnected; per kind the first note and a summary.
	if lines > 8 {
		t.Errorf("%d lines on stderr, want at most 8", lines)
	}
	for _, want := range []string{"host powered off", "BREAK from the host", "overrun", "more host power or serial port changes"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(log, []byte("[ghmicons] ")); n > 5 {
		t.Errorf("%d marked lines in the log, want at most 5", n)
	}
}

// ---- 6. end of input through a lossy network ----

// startImpairedBMC serves cfg through pkg/impair, impairment off until the
// test turns it on.
func startImpairedBMC(t *testing.T, cfg fakebmc.Config) (addr string, ic *impair.Conn, ev *fakebmctest.Events) {
	t.Helper()
	b := fakebmctest.New(t, cfg, fakebmctest.UDP(""), fakebmctest.Impair(impair.Config{Seed: 8}))
	return b.Addr, b.Link, b.Events
}

// Through 10% loss each way, with the BMC retrying every 500 ms: every echoed
// byte arrives before the end of input exits 0. Before issue 8 it gave up
// after 0.5 s of quiet output, one retry interval (1,275 of 60,790 bytes).
func TestE2EEndOfInputThroughLoss(t *testing.T) {
	addr, ic, _ := startImpairedBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{RetryInterval: 500 * time.Millisecond}})
	in := make([]byte, 8<<10)
	if _, err := rand.Read(in); err != nil {
		t.Fatal(err)
	}
	p := startOnPipes(t, "password", attachArgs(addr)...)
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	ic.SetConfig(impair.Config{Drop: 0.1})
	p.write(t, string(in))
	p.stdin.Close()
	if code := p.wait(t, 2*long); code != ExitOK {
		t.Fatalf("exit status %d, want 0%s", code, p.output())
	}
	out := p.stdout.Bytes()
	t.Logf("%d of %d bytes echoed; %d datagrams dropped", len(out), len(in), ic.Stats().Dropped)
	if !bytes.Equal(out, in) {
		t.Errorf("stdout: %d bytes, not the %d sent", len(out), len(in))
	}
}

// ---- 7. write errors ----

// </dev/null >/dev/full: the failed write is one line, exit 1, session
// closed. Before issue 8: exit 0, nothing said.
func TestE2EStdoutFull(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		testenv.Missing(t, "no /dev/full here: %v", err)
	}
	defer full.Close()
	// The host writes its banner at once (the BMC keeps it for the first
	// console), then echoes.
	host := fakebmctest.NewHost()
	host.Echo = true
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	if _, err := host.Write([]byte("host banner\r\n")); err != nil {
		t.Fatal(err)
	}
	p := startWithStdout(t, full, "password", attachArgs(srv.Addr())...)
	p.stdin.Close()
	if code := p.wait(t, long); code != ExitError {
		t.Errorf("exit status %d, want %d%s", code, ExitError, p.output())
	}
	if n := strings.Count(p.stderr.String(), "no space left on device"); n != 1 {
		t.Errorf("the write error is said %d times, want once%s", n, p.output())
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// --log /dev/full: the same for the log.
func TestE2ELogFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		testenv.Missing(t, "no /dev/full here: %v", err)
	}
	srv, ev := startBMC(t, fakebmc.Config{})
	p := startOnPipes(t, "password", attachArgs(srv.Addr(), "--log", "/dev/full")...)
	p.stdin.Close()
	if code := p.wait(t, long); code != ExitError {
		t.Errorf("exit status %d, want %d%s", code, ExitError, p.output())
	}
	stderr := p.stderr.String()
	if n := strings.Count(stderr, "no space left on device"); n != 1 || !strings.Contains(stderr, "ghmicons: writing the log") {
		t.Errorf("want the log's write error said once%s", p.output())
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// ---- 8. a reader that goes away: ghmicons | head -c 100 ----

// SIGPIPE must not kill the program: the write fails with EPIPE, the
// session is closed (Deactivate, Close Session), exit 1. Before issue 8 it
// died of SIGPIPE (141) and left the console active on the BMC.
func TestE2EBrokenPipe(t *testing.T) {
	host, start := newFloodHost(8<<20, 0)
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startWithStdout(t, w, "password", attachArgs(srv.Addr())...)
	w.Close()
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	close(start)
	head := make([]byte, 100)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatalf("reading the first 100 bytes: %v", err)
	}
	r.Close()
	code := p.wait(t, short)
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("killed by %v%s", ws.Signal(), p.output())
	}
	if code != ExitError {
		t.Errorf("exit status %d, want %d%s", code, ExitError, p.output())
	}
	// Written to first (EPIPE) or seen hung up first (watchHangup).
	if e := p.stderr.String(); !strings.Contains(e, "broken pipe") && !strings.Contains(e, "its reader has gone") {
		t.Errorf("stderr does not say why%s", p.output())
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
}

// --keep-open with nothing to write (the host is silent, or the BMC is gone
// and --reconnect waits for it) still ends when its output's reader goes:
// as conserver's exec consoles, whose ghmicons outlived conserver before.
func TestE2EKeepOpenReaderGone(t *testing.T) {
	for _, bmcGone := range []bool{false, true} {
		name := map[bool]string{false: "attached", true: "reconnecting"}[bmcGone]
		t.Run(name, func(t *testing.T) {
			var addr string
			var ev *fakebmctest.Events
			if bmcGone {
				// A BMC that never answers: ghmicons retries for ever.
				c, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				addr = c.LocalAddr().String()
			} else {
				b := fakebmctest.New(t, fakebmc.Config{}, fakebmctest.UDP(""))
				addr, ev = b.Server.Addr(), b.Events
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			p := startWithStdout(t, w, "password", attachArgs(addr, "--keep-open", "--reconnect")...)
			w.Close()
			p.stdin.Close() // end of input: --keep-open stays
			if bmcGone {
				p.stderr.waitFor(t, "a failed attempt", "cannot connect", long)
			} else {
				p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
			}
			select {
			case <-p.done:
				t.Fatalf("exited before its reader went%s", p.output())
			default:
			}
			r.Close()
			if code := p.wait(t, short); code != ExitError {
				t.Errorf("exit status %d, want %d%s", code, ExitError, p.output())
			}
			if e := p.stderr.String(); !strings.Contains(e, "its reader has gone") {
				t.Errorf("stderr does not say why%s", p.output())
			}
			if ev != nil {
				ev.WaitFor(t, short, "deactivate", "session-close")
			}
		})
	}
}

// ---- 10. an error that ends the stream is said once ----

// Taken over without --reconnect: one line on stderr (before issue 8:
// "disconnected: X" and then "ghmicons: X"), and a marked line in the log.
func TestE2EErrorSaidOnce(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{})
	logFile := filepath.Join(t.TempDir(), "a.log")
	a := startOnPipes(t, "password", attachArgs(srv.Addr(), "--log", logFile)...)
	a.stderr.waitFor(t, "A connected", "ghmicons: connected to", short)
	b := startOnPipes(t, "password", attachArgs(srv.Addr())...)
	b.stderr.waitFor(t, "B connected", "ghmicons: connected to", short)
	if code := a.wait(t, short); code != ExitInUse {
		t.Errorf("A: exit status %d, want %d%s", code, ExitInUse, a.output())
	}
	// The BMC's "deactivating" bit does not say who took the console.
	const reason = "deactivated by the BMC or another session"
	if n := strings.Count(a.stderr.String(), reason); n != 1 {
		t.Errorf("A says %q %d times, want once%s", reason, n, a.output())
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("\n[ghmicons] disconnected: ")) || !bytes.Contains(log, []byte(reason)) {
		t.Errorf("the log does not end with the reason:\n%s", log)
	}
	b.stdin.Close()
	if code := b.wait(t, long); code != ExitOK {
		t.Errorf("B: exit status %d, want 0%s", code, b.output())
	}
}

// ---- 11. signals in every state ----

// listeningBMC is a UDP port that never answers; recv is told of every
// datagram that arrives.
func listeningBMC(t *testing.T) (addr string, recv <-chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	ch := make(chan struct{}, 64)
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return pc.LocalAddr().String(), ch
}

// While the session is being set up (the BMC does not answer, and would not
// for 14 s): SIGTERM ends it at once.
func TestE2ESignalWhileConnecting(t *testing.T) {
	addr, recv := listeningBMC(t)
	p := startOnPipes(t, "password", attachArgs(addr, "--timeout", "2s", "--retries", "3")...)
	select {
	case <-recv:
	case <-time.After(short):
		t.Fatalf("ghmicons sent nothing%s", p.output())
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d, want %d%s", code, ExitSignal, p.output())
	}
}

// While waiting to reconnect: the same.
func TestE2ESignalWhileWaitingToReconnect(t *testing.T) {
	p := startOnPipes(t, "password", attachArgs(silentBMC(t), "--reconnect", "--timeout", "100ms", "--retries", "0")...)
	p.stderr.waitFor(t, "retry message", "cannot connect", short)
	p.signal(t, syscall.SIGINT)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d, want %d%s", code, ExitSignal, p.output())
	}
}

// A second signal while the first one's way out waits for a BMC that has
// gone silent: out at once.
func TestE2ESecondSignalHurries(t *testing.T) {
	addr, ic, _ := startImpairedBMC(t, fakebmc.Config{})
	p := startOnPipes(t, "password", attachArgs(addr, "--timeout", "3s", "--debug")...)
	p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
	ic.SetSilent(true)
	p.signal(t, syscall.SIGTERM)
	// The way out has begun: Deactivate and Close Session would wait 4 × 3 s
	// for the silent BMC.
	p.stderr.waitFor(t, "the way out", "debug: ended by SIGTERM", short)
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d, want %d%s", code, ExitSignal, p.output())
	}
}

// ---- input read before a signal still goes out ----

// ssh writes its last packet to its ProxyCommand, closes its stdin and sends
// it SIGHUP at once: the packet must still reach the host (before, the
// signal dropped it and the sshd behind the console never heard the
// disconnect, so the next ssh through the same console failed).
func TestE2ESignalRightAfterInput(t *testing.T) {
	host := fakebmctest.NewHost() // keeps what the console sends
	srv, ev := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	p := startOnPipes(t, "password", attachArgs(srv.Addr())...)
	p.stderr.waitFor(t, "connected", "ghmicons: connected to", short)
	p.write(t, "first\n")
	waitReceived(t, host, "first\n")
	// More than the stream's and the program's buffers hold, so that much
	// of it still waits in them (and in the pipe) when the signal comes.
	last := strings.Repeat("last packet ", 20000)
	p.write(t, last)
	p.stdin.Close()
	p.signal(t, syscall.SIGHUP)
	if code := p.wait(t, short); code != ExitSignal {
		t.Errorf("exit status %d, want %d%s", code, ExitSignal, p.output())
	}
	ev.WaitFor(t, short, "deactivate", "session-close")
	waitReceived(t, host, last)
	if got, want := host.Input(), []byte("first\n"+last); !bytes.Equal(got, want) {
		t.Errorf("the host got %d bytes, want %d", len(got), len(want))
	}
}

func waitReceived(t *testing.T, h *fakebmctest.Host, want string) {
	t.Helper()
	got, ok := h.Await(short, func(in []byte) bool { return bytes.HasSuffix(in, []byte(want)) })
	if !ok {
		t.Fatalf("the host did not get the %d bytes it waits for; it got %d bytes, ending %q", len(want), len(got), quoteTail(got))
	}
}

// Its reader gone and its input ended at the same moment (ssh exiting
// around a ProxyCommand): what was written before still reaches the host,
// with and without --keep-open; then the exit is 1.
func TestE2EReaderGoneDeliversInput(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "pipe", true: "keep-open"}[keep], func(t *testing.T) {
			host := fakebmctest.NewHost()
			b := fakebmctest.New(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}}, fakebmctest.UDP(""))
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			args := attachArgs(b.Server.Addr())
			if keep {
				args = append(args, "--keep-open")
			}
			p := startWithStdout(t, w, "password", args...)
			w.Close()
			p.stderr.waitFor(t, "connected message", "ghmicons: connected to", short)
			msg := bytes.Repeat([]byte("last words before the end; "), 40)
			if _, err := p.stdin.Write(msg); err != nil {
				t.Fatal(err)
			}
			p.stdin.Close()
			r.Close()
			code := p.wait(t, long)
			if got := host.Input(); !bytes.Equal(got, msg) {
				t.Errorf("the host got %d of the %d bytes written%s", len(got), len(msg), p.output())
			}
			if code != ExitError && code != ExitOK {
				t.Errorf("exit status %d, want %d (reader gone) or 0 (end of input first)%s", code, ExitError, p.output())
			}
			b.Events.WaitFor(t, short, "deactivate", "session-close")
		})
	}
}
