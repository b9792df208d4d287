package expect

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func feed(m *Matcher, chunks ...string) {
	for _, c := range chunks {
		_, _ = m.Write([]byte(c))
	}
}

func TestMatcherSplitAcrossChunks(t *testing.T) {
	re := regexp.MustCompile(`login: $`)
	text := "Demo Linux 1.0 demo ttyS0\r\n\r\ndemo login: "
	// Every way of cutting the text in two, and one byte a chunk.
	for cut := 0; cut <= len(text); cut++ {
		m := NewMatcher(0)
		feed(m, text[:cut])
		if _, ok := m.Match(re); ok {
			if cut < len(text) {
				t.Fatalf("matched %q before its end", text[:cut])
			}
			continue
		}
		feed(m, text[cut:])
		if _, ok := m.Match(re); !ok {
			t.Fatalf("no match cutting at %d", cut)
		}
	}
	m := NewMatcher(0)
	for i := range len(text) {
		feed(m, text[i:i+1])
	}
	if _, ok := m.Match(re); !ok {
		t.Fatal("no match a byte at a time")
	}
}

func TestMatcherConsumes(t *testing.T) {
	m := NewMatcher(0)
	feed(m, "a=1 a=2 ")
	re := regexp.MustCompile(`a=(\d)`)
	for _, want := range []string{"1", "2"} {
		g, ok := m.Match(re)
		if !ok || g[1] != want {
			t.Fatalf("Match = %q %v, want group %q", g, ok, want)
		}
	}
	if g, ok := m.Match(re); ok {
		t.Fatalf("a third match %q of output consumed already", g)
	}
	feed(m, "a=3")
	m.Forget()
	if _, ok := m.Match(re); ok {
		t.Fatal("matched output Forget dropped")
	}
	// A group that took no part is "".
	feed(m, "y")
	g, ok := m.Match(regexp.MustCompile(`(x)|(y)`))
	if !ok || len(g) != 3 || g[1] != "" || g[2] != "y" {
		t.Fatalf("Match = %q, want [y  y]", g)
	}
}

func TestMatcherWindow(t *testing.T) {
	m := NewMatcher(64)
	feed(m, "START", strings.Repeat(".", 100), "END")
	if _, ok := m.Match(regexp.MustCompile(`START`)); ok {
		t.Error("matched text that slid out of the 64-byte window")
	}
	if _, ok := m.Match(regexp.MustCompile(`\.END$`)); !ok {
		t.Error("no match at the end of the window")
	}
	if len(m.buf) > 64 || cap(m.buf) > 1024 {
		t.Errorf("buffer len %d cap %d: not bounded", len(m.buf), cap(m.buf))
	}
}

func TestStripEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\r\n", "plain\r\n"},
		{"\x1b[1;31mred\x1b[0m", "red"},
		{"root@demo:~# \x1b[K", "root@demo:~# "},
		{"Boot\x1b[5;10HMenu", "Boot Menu"},
		{"Enter\x1b[1CSetup", "Enter Setup"},
		{"\x1b]0;title\x07prompt", "prompt"},
		{"\x1b]0;title\x1b\\prompt", "prompt"},
		{"\x1bPdcs\x1b\\x", "x"},
		{"\x1b(Bx\x1b=y\x1b7z", "xyz"},
		{"a\x00b", "ab"},
		{"\x1b[12\r\nm", "\r\n"},      // a control inside a CSI is done as it comes
		{"\x1b\x1b[1mx", "x"},         // ESC ESC [
		{"\x1b[?25lhidden", "hidden"}, // private parameters
		{"\x1b[" + strings.Repeat("1", 300) + "Xtail", strings.Repeat("1", 300-maxSeq+2) + "Xtail"},
	} {
		var s stripper
		if got := string(s.appendText(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("strip(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// Cut anywhere, the same.
		for cut := 0; cut <= len(tc.in); cut++ {
			var s stripper
			got := string(s.appendText(s.appendText(nil, []byte(tc.in[:cut])), []byte(tc.in[cut:])))
			if got != tc.want {
				t.Errorf("strip(%q) cut at %d = %q, want %q", tc.in, cut, got, tc.want)
				break
			}
		}
	}
}

func TestTail(t *testing.T) {
	m := NewMatcher(0)
	for i := range 30 {
		feed(m, "line ", strings.Repeat("x", i%3), "\x1b[0m  \r\n")
	}
	feed(m, "demo login: ")
	tail := m.Tail()
	lines := strings.Split(tail, "\n")
	if len(lines) != TailLines || lines[len(lines)-1] != "demo login:" || strings.ContainsAny(tail, "\r\x1b") {
		t.Errorf("tail %q: want %d lines without CR or escapes, ending in the prompt", tail, TailLines)
	}
	m = NewMatcher(0)
	feed(m, strings.Repeat("y", 5000))
	if n := len(m.Tail()); n != TailBytes {
		t.Errorf("tail of one long line: %d bytes, want %d", n, TailBytes)
	}
}

// BenchmarkMatcherFlood: output that never matches, in SOL-sized chunks,
// against a full window: the cost of waiting through a flood.
func BenchmarkMatcherFlood(b *testing.B) {
	line := []byte("00001234 the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n")
	chunk := bytes.Repeat(line, 3)[:255]
	re := regexp.MustCompile(`login: $`)
	m := NewMatcher(0)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		_, _ = m.Write(chunk)
		if _, ok := m.Match(re); ok {
			b.Fatal("matched")
		}
	}
}
