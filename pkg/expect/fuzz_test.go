package expect

import (
	"strings"
	"testing"
)

// FuzzParse: any text parses or is refused with a *ParseError naming a
// line, never a panic; what parses reads back the same from its Strings.
func FuzzParse(f *testing.F) {
	f.Add([]byte("power cycle\nexpect /login: $/ timeout 30s\nsend \"root\\r\"\n"))
	f.Add([]byte("expect /(?P<ip>[0-9.]+)/\nprint \"${ip} $1 ${env:X}\"\ndelay 2s # c\n"))
	f.Add([]byte("send \"\\x03\\e[A\"\ntimeout 1m\nbootdev pxe persistent efi\nbreak\n"))
	f.Add([]byte("expect /a\\/b/\r\nsend \"$\"\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("f", src)
		if err != nil {
			pe, ok := err.(*ParseError)
			if !ok || !strings.HasPrefix(pe.Where, "f") {
				t.Fatalf("error %T %v: want a *ParseError at f:LINE", err, err)
			}
			return
		}
		var lines []string
		for _, st := range s.Steps {
			lines = append(lines, st.String())
		}
		s2, err := Parse("again", []byte(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatalf("%q parsed, its steps %q do not: %v", src, lines, err)
		}
		if len(s2.Steps) != len(s.Steps) {
			t.Fatalf("%d steps read back as %d", len(s.Steps), len(s2.Steps))
		}
		for i := range s.Steps {
			if a, b := s.Steps[i].String(), s2.Steps[i].String(); a != b {
				t.Fatalf("step %q reads back as %q", a, b)
			}
		}
	})
}

// FuzzMatcher: output cut into chunks anywhere is stripped and matched as
// in one piece, and the buffers stay bounded.
func FuzzMatcher(f *testing.F) {
	f.Add([]byte("\x1b[1;31mdemo login: \x1b[0m"), uint8(5))
	f.Add([]byte("\x1b]0;t\x07root@demo:~# \x1b[K"), uint8(1))
	f.Add([]byte("Boot\x1b[5;10HMenu\x00\x1b(B"), uint8(9))
	f.Fuzz(func(t *testing.T, out []byte, cut uint8) {
		whole := NewMatcher(64)
		_, _ = whole.Write(out)
		parts := NewMatcher(64)
		step := int(cut%16) + 1
		for i := 0; i < len(out); i += step {
			_, _ = parts.Write(out[i:min(i+step, len(out))])
		}
		if string(whole.buf) != string(parts.buf) || whole.Tail() != parts.Tail() {
			t.Fatalf("in one piece %q, in pieces of %d %q", whole.buf, step, parts.buf)
		}
		if len(parts.buf) > 64 || len(parts.tail) > TailBytes {
			t.Fatalf("buffers of %d and %d bytes", len(parts.buf), len(parts.tail))
		}
	})
}
