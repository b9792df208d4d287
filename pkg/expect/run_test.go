package expect_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/expect"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// host is a fake console: what the script sends is handed to answer, whose
// reply is the console's output; say adds output from the test.
type host struct {
	out    chan []byte
	mu     sync.Mutex
	sent   bytes.Buffer
	answer func(in string) string
	closed chan struct{}
	once   sync.Once
}

func newHost(answer func(string) string) *host {
	return &host{out: make(chan []byte, 64), answer: answer, closed: make(chan struct{})}
}

func (h *host) Write(p []byte) (int, error) {
	h.mu.Lock()
	h.sent.Write(p)
	h.mu.Unlock()
	if h.answer != nil {
		if r := h.answer(string(p)); r != "" {
			h.say(r)
		}
	}
	return len(p), nil
}

func (h *host) say(s string) { h.out <- []byte(s) }
func (h *host) end()         { h.once.Do(func() { close(h.closed) }) }

func (h *host) Next(ctx context.Context) ([]byte, error) {
	select {
	case b := <-h.out:
		return b, nil
	case <-h.closed:
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func parse(t *testing.T, src string) *expect.Script {
	t.Helper()
	s, err := expect.Parse("t.exp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunSendExpectCapture(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var h *host
		h = newHost(func(in string) string {
			switch in {
			case "root\r":
				return "Password: "
			case "pw-from-env\r":
				return "Welcome\r\nroot@node7:~# "
			case "ip addr\r":
				// The answer comes in pieces, the pattern split across them.
				go func() {
					for _, p := range []string{"2: eth0    inet 192.0.", "2.50/24 brd", " 192.0.2.255\r\nroot@node7:~# "} {
						time.Sleep(10 * time.Millisecond)
						h.say(p)
					}
				}()
			}
			return ""
		})
		var printed bytes.Buffer
		s := parse(t, `
expect /login: $/
send "root\r"
expect /Password: /
send "${env:PW}\r"
expect /root@(\w+):~# $/
send "ip addr\r"
expect /inet (?P<ip>[0-9.]+)\/(?P<len>\d+)/
print "host=$1 ip=${ip}/${len}"
expect /# $/
`)
		h.say("\r\nDemo Linux\r\n\r\ndemo lo")
		h.say("gin: ")
		res, err := s.Run(context.Background(), expect.Env{Output: h, Input: h, Print: &printed,
			Getenv: func(k string) (string, bool) { return map[string]string{"PW": "pw-from-env"}[k], k == "PW" }})
		if err != nil {
			t.Fatal(err)
		}
		// $1 is the latest expect's first group (named groups have numbers too).
		if got, want := printed.String(), "host=192.0.2.50 ip=192.0.2.50/24\n"; got != want {
			t.Errorf("printed %q, want %q", got, want)
		}
		if res.Named["ip"] != "192.0.2.50" || res.Named["len"] != "24" {
			t.Errorf("captures %v", res.Named)
		}
		if got := h.sent.String(); got != "root\rpw-from-env\rip addr\r" {
			t.Errorf("sent %q", got)
		}
	})
}

func TestRunTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(nil)
		s := parse(t, "timeout 3s\nexpect /login:/\nexpect /never/")
		go func() {
			for i := range 40 {
				h.say("boot line " + strings.Repeat("x", i%5) + "\r\n")
				time.Sleep(50 * time.Millisecond)
			}
			h.say("demo login: ")
		}()
		start := time.Now()
		_, err := s.Run(context.Background(), expect.Env{Output: h, Input: h})
		var te *expect.TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("Run: %v, want a *TimeoutError", err)
		}
		// The first expect took 2 s of the boot, the second its 3 s.
		if d := time.Since(start); d != 2*time.Second+3*time.Second {
			t.Errorf("timed out after %v, want 5s", d)
		}
		if te.Where != "t.exp:3" || te.After != 3*time.Second || te.Error() != "t.exp:3: /never/ not seen within 3s" {
			t.Errorf("error %q (%+v)", te, te)
		}
		if lines := strings.Split(te.Tail, "\n"); len(lines) != expect.TailLines || lines[len(lines)-1] != "demo login:" {
			t.Errorf("tail %q: want the last %d lines", te.Tail, expect.TailLines)
		}
	})
}

func TestRunDefaultTimeoutAndPerExpect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			src  string
			env  time.Duration
			want time.Duration
		}{
			{"expect /x/", 0, expect.DefaultTimeout},
			{"expect /x/", 7 * time.Second, 7 * time.Second},
			{"expect /x/ timeout 2s", 7 * time.Second, 2 * time.Second},
			{"timeout 1m\nexpect /x/", 7 * time.Second, time.Minute},
		} {
			h := newHost(nil)
			start := time.Now()
			_, err := parse(t, tc.src).Run(context.Background(), expect.Env{Output: h, Input: h, Timeout: tc.env})
			var te *expect.TimeoutError
			if !errors.As(err, &te) || time.Since(start) != tc.want {
				t.Errorf("%q with Env.Timeout %v: %v after %v, want a timeout after %v", tc.src, tc.env, err, time.Since(start), tc.want)
			}
		}
	})
}

func TestRunOutputEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(nil)
		h.say("partial")
		go func() {
			time.Sleep(time.Second)
			h.end()
		}()
		_, err := parse(t, "expect /login/").Run(context.Background(), expect.Env{Output: h, Input: h})
		var se *expect.StepError
		if !errors.As(err, &se) || !errors.Is(err, expect.ErrOutputEnded) || se.Error() != "t.exp:1: expect /login/: the console's output ended" {
			t.Fatalf("Run: %v, want a StepError at t.exp:1 for the end of the output", err)
		}
	})
}

func TestRunContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(nil)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		start := time.Now()
		_, err := parse(t, "delay 1m").Run(ctx, expect.Env{Output: h, Input: h})
		if !errors.Is(err, context.Canceled) || time.Since(start) != time.Second {
			t.Fatalf("Run: %v after %v, want cancelled after 1s", err, time.Since(start))
		}
		// Run has stopped its reader: nothing of the bubble is left running
		// (synctest.Test fails on a goroutine that outlives it).
	})
}

func TestRunDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(nil)
		var at []time.Duration
		start := time.Now()
		s := parse(t, "send \"a\"\ndelay 1500ms\nsend \"b\"")
		_, err := s.Run(context.Background(), expect.Env{Output: h, Input: writerFunc(func(p []byte) {
			at = append(at, time.Since(start))
		})})
		if err != nil || len(at) != 2 || at[0] != 0 || at[1] != 1500*time.Millisecond {
			t.Fatalf("sends at %v (%v), want 0 and 1.5s", at, err)
		}
	})
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// The whole thing on a real console: the demo host behind a simulated BMC
// over memnet, the script's power cycle and bootdev through the console's
// own session, the login and a captured value.
func TestRunOnConsole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.NewDemoHost()}})
		con, err := console.New(console.Config{Addr: b.Addr, Dial: b.DialTransport, Session: fakebmctest.Admin()})
		if err != nil {
			t.Fatal(err)
		}
		out := con.NewReader(console.ReaderConfig{Name: "expect"})
		events := con.Events(0)
		if err := con.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		for ev := range events.C {
			if ev.Kind == console.Connected {
				break
			}
		}
		w, err := con.NewWriter(console.WriterConfig{Name: "script"})
		if err != nil {
			t.Fatal(err)
		}
		s := parse(t, `
bootdev pxe persistent
power cycle
expect /Boot device: pxe/ timeout 10s
expect /PXE: DHCP\.+ got (?P<ip>[0-9.]+)/
expect /login: $/ timeout 30s
send "root\r"
expect /Password: $/
send "secret\r"
expect /# $/
send "bootdev\r"
expect /next boot: (\w+)/
print "dhcp=${ip} next=$1"
`)
		var printed bytes.Buffer
		var notes []string
		res, err := s.Run(context.Background(), expect.Env{Output: expect.ConsoleSource(out), Input: w, Target: con,
			Print: &printed, Note: func(r command.Result) { notes = append(notes, r.Note) }})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := printed.String(), "dhcp=192.0.2.50 next=pxe\n"; got != want {
			t.Errorf("printed %q, want %q", got, want)
		}
		if res.Named["ip"] != "192.0.2.50" {
			t.Errorf("captures %v", res.Named)
		}
		if len(notes) != 2 || !strings.Contains(notes[1], "cycle") {
			t.Errorf("command notes %q", notes)
		}
		if n := b.Events.Count(fakebmc.EventChassisControl); n != 1 {
			t.Errorf("%d chassis controls, want 1", n)
		}
		if err := con.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		_ = ipmi.PowerCycle
	})
}
