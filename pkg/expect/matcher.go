package expect

import (
	"regexp"
	"strings"
)

// DefaultWindow bounds the output an expect searches: the latest 32 KiB
// not yet consumed by a match.
const DefaultWindow = 32 << 10

// Bounds of the tail: the last output, as errors show it.
const (
	TailLines = 20
	TailBytes = 2 << 10
)

// Matcher holds the console output not yet consumed by a match, with the
// escape sequences left out, in a bounded sliding window. Write feeds it
// chunks as they come: a pattern split across chunks is found once its
// last byte is in. It is not safe for concurrent use.
type Matcher struct {
	window  int
	buf     []byte // unconsumed output, the latest window bytes of it
	tail    []byte // the latest TailBytes of output, consumed or not
	strip   stripper
	scratch []byte
}

// NewMatcher returns a matcher with a window of n bytes (0: DefaultWindow).
func NewMatcher(n int) *Matcher {
	if n <= 0 {
		n = DefaultWindow
	}
	return &Matcher{window: n}
}

// Write adds console output. It never fails.
func (m *Matcher) Write(p []byte) (int, error) {
	m.scratch = m.strip.appendText(m.scratch[:0], p)
	m.buf = slide(append(m.buf, m.scratch...), m.window)
	m.tail = slide(append(m.tail, m.scratch...), TailBytes)
	return len(p), nil
}

// slide keeps the last n bytes of b, reusing b's array.
func slide(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return b[:copy(b, b[len(b)-n:])]
}

// Match looks for re in the unconsumed output. On a match it consumes the
// output up to the match's end and returns the text of every group (0 is
// the whole match; a group that took no part is "").
func (m *Matcher) Match(re *regexp.Regexp) ([]string, bool) {
	loc := re.FindSubmatchIndex(m.buf)
	if loc == nil {
		return nil, false
	}
	groups := make([]string, len(loc)/2)
	for i := range groups {
		if loc[2*i] >= 0 {
			groups[i] = string(m.buf[loc[2*i]:loc[2*i+1]])
		}
	}
	m.buf = m.buf[:copy(m.buf, m.buf[loc[1]:])]
	return groups, true
}

// Forget drops the unconsumed output: an expect after this waits for
// output still to come.
func (m *Matcher) Forget() { m.buf = m.buf[:0] }

// Tail is the latest output for a person to read: at most TailLines lines
// and TailBytes bytes, carriage returns and other control characters left
// out, trailing blanks trimmed.
func (m *Matcher) Tail() string {
	var b strings.Builder
	for _, c := range string(m.tail) {
		switch {
		case c == '\n' || c == '\t':
			b.WriteRune(c)
		case c < 0x20 || c == 0x7f || c == '\uFFFD':
		default:
			b.WriteRune(c)
		}
	}
	lines := strings.Split(b.String(), "\n")
	if len(lines) > TailLines {
		lines = lines[len(lines)-TailLines:]
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// ---- escape sequences ----

// stripper leaves ECMA-48 escape sequences and NULs out of console output,
// across chunk boundaries: CSI (ESC [ … final), OSC and the other strings
// (ESC ] P X ^ _ … BEL or ESC \), and the two- and three-byte escapes.
// Cursor motions become one space. A sequence longer than maxSeq bytes is
// taken to be broken and ends there, so that a stray ESC cannot swallow
// the output after it.
type stripper struct {
	state stripState
	n     int // bytes of the sequence so far
}

type stripState uint8

const (
	ground   stripState = iota
	escape              // after ESC
	escInter            // ESC, intermediate bytes
	csi                 // ESC [
	str                 // ESC ] (OSC), ESC P (DCS), ESC X, ESC ^, ESC _
	strEsc              // ESC inside a string: ESC \ ends it
)

const maxSeq = 256

func (s *stripper) appendText(dst, p []byte) []byte {
	for _, c := range p {
		if s.state != ground {
			s.n++
			if s.n > maxSeq {
				s.state = ground
			}
		}
		switch s.state {
		case ground:
			switch c {
			case 0x1b:
				s.state, s.n = escape, 1
			case 0:
			default:
				dst = append(dst, c)
			}
		case escape:
			switch {
			case c == '[':
				s.state = csi
			case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
				s.state = str
			case c >= 0x20 && c <= 0x2f:
				s.state = escInter
			case c == 0x1b:
				s.n = 1
			default: // a final byte, or a control character that cancels it
				s.state = ground
			}
		case escInter:
			if c < 0x20 || c > 0x2f {
				s.state = ground
			}
		case csi:
			switch {
			case c >= 0x40 && c <= 0x7e:
				s.state = ground
				if strings.IndexByte("ABCDEFGHfd`aej", c) >= 0 {
					dst = append(dst, ' ') // a cursor motion
				}
			case c >= 0x20 && c <= 0x3f:
			case c == 0x1b:
				s.state, s.n = escape, 1
			case c < 0x20:
				if c != 0 {
					dst = append(dst, c) // a control character inside: done as it comes
				}
			default:
				s.state = ground
			}
		case str:
			switch c {
			case 0x07:
				s.state = ground
			case 0x1b:
				s.state = strEsc
			}
		case strEsc:
			if c == '\\' {
				s.state = ground
			} else {
				s.state = str
			}
		}
	}
	return dst
}
