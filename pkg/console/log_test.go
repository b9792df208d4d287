package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/internal/testenv"
)

// fakeClock returns t0, t0+1s, t0+2s, … on successive calls.
func fakeClock() func() time.Time {
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	n := 0
	return func() time.Time {
		t := t0.Add(time.Duration(n) * time.Second)
		n++
		return t
	}
}

// stamp is the clock's i-th reading as the log writes it.
func stamp(i int) string {
	return time.Date(2025, 3, 4, 5, 6, 7+i, 890_000_000, time.UTC).Format(LogTimeFormat) + " "
}

// logOps feeds writes (and marks, as "\x00MARK:msg") to a fresh log and
// returns the file's contents.
func logOps(t *testing.T, stamps bool, ops ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log")
	l, err := OpenLog(path, LogConfig{Timestamps: stamps, MarkPrefix: "[ghmicons] ", Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if msg, ok := strings.CutPrefix(op, "\x00MARK:"); ok {
			l.Mark(msg)
			continue
		}
		n, err := l.Write([]byte(op))
		if err != nil || n != len(op) {
			t.Fatalf("Write(%q) = %d, %v", op, n, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mark(msg string) string { return "\x00MARK:" + msg }

func TestLogTimestampFormat(t *testing.T) {
	s := strings.TrimSuffix(stamp(0), " ")
	if s != "2025-03-04T05:06:07.890Z" {
		t.Errorf("stamp %q", s)
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		t.Errorf("stamp %q is not RFC 3339: %v", s, err)
	}
}

func TestLogWriter(t *testing.T) {
	tests := []struct {
		name   string
		stamps bool
		ops    []string
		want   string
	}{
		{"plain: bytes as written", false,
			[]string{"a\r\nb", "c\x00\xff\n", ""},
			"a\r\nbc\x00\xff\n"},
		{"plain: mark mid-line starts a new line", false,
			[]string{"login: ", mark("power cycle sent"), "x\n"},
			"login: \n[ghmicons] power cycle sent\nx\n"},
		{"plain: mark at line start adds no blank line", false,
			[]string{"done\n", mark("disconnected")},
			"done\n[ghmicons] disconnected\n"},
		{"plain: mark first", false,
			[]string{mark("connected"), "x"},
			"[ghmicons] connected\nx"},
		{"stamps: one per line in one write", true,
			[]string{"one\ntwo\n"},
			stamp(0) + "one\n" + stamp(0) + "two\n"},
		{"stamps: a line split across writes gets one stamp", true,
			[]string{"ab", "c\nde", "f\n"},
			stamp(0) + "abc\n" + stamp(1) + "def\n"},
		{"stamps: a newline at the end of a write defers the stamp", true,
			[]string{"a\n", "b\n"},
			stamp(0) + "a\n" + stamp(1) + "b\n"},
		{"stamps: CR is not a line end", true,
			[]string{"a\rb\r\n"},
			stamp(0) + "a\rb\r\n"},
		{"stamps: blank lines are stamped", true,
			[]string{"\n\n"},
			stamp(0) + "\n" + stamp(0) + "\n"},
		{"stamps: mark mid-line", true,
			[]string{"login: ", mark("power cycle sent"), "x\n"},
			stamp(0) + "login: \n" + stamp(1) + "[ghmicons] power cycle sent\n" + stamp(2) + "x\n"},
		{"stamps: mark at line start", true,
			[]string{mark("connected"), "x\n", mark("disconnected")},
			stamp(0) + "[ghmicons] connected\n" + stamp(1) + "x\n" + stamp(2) + "[ghmicons] disconnected\n"},
		{"stamps: an empty write writes nothing", true,
			[]string{""},
			""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logOps(t, tt.stamps, tt.ops...); got != tt.want {
				t.Errorf("log\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLogAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLog(path, LogConfig{MarkPrefix: "[ghmicons] "})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("later\n")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if b, _ := os.ReadFile(path); string(b) != "earlier\nlater\n" {
		t.Errorf("log %q: not appended", b)
	}
}

// A failed write is kept, signalled on Failed and returned by Close: a log
// that lost data is an error (issue 8: --log /dev/full exited 0).
func TestLogWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		testenv.Missing(t, "no /dev/full here: %v", err)
	}
	l, err := OpenLog("/dev/full", LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	l.Mark("connected")
	select {
	case <-l.Failed():
	case <-time.After(5 * time.Second):
		t.Fatal("the failed write was not reported")
	}
	if _, err := l.Write([]byte("more")); err == nil {
		t.Error("Write after a failure returned no error")
	}
	l.Mark("still quiet") // never blocks, never panics
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("Close = %v, want the write error", err)
	}
}

// Close writes everything queued before closing.
func TestLogCloseFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := OpenLog(path, LogConfig{MarkPrefix: "[ghmicons] "})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("0123456789\n", 50000)
	for i := 0; i < len(want); i += 1000 {
		if _, err := l.Write([]byte(want[i:min(i+1000, len(want))])); err != nil {
			t.Fatal(err)
		}
	}
	l.Mark("end")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != want+"[ghmicons] end\n" {
		t.Errorf("log has %d bytes, want %d", len(b), len(want)+len("[ghmicons] end\n"))
	}
}
