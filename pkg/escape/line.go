package escape

import "strings"

// LineEditor collects the ~C command line from raw keystrokes: printable
// characters, backspace (BS or DEL), Ctrl-U (erase line) and Ctrl-W (erase
// word), Tab (completion, when Complete is set); Enter submits, Ctrl-C or
// Escape cancels.
type LineEditor struct {
	// Complete, if set, returns the words that can complete the last word
	// of the line (the program's command table knows them). Tab then adds
	// what they have in common; when that is nothing, it lists them and
	// shows Prompt and the line again.
	Complete func(line string) []string
	Prompt   string

	buf []byte
}

// maxLine bounds the line.
const maxLine = 256

// Key results.
type KeyResult int

// What a key did.
const (
	Editing   KeyResult = iota // keep reading
	Submitted                  // Line() is the command
	Cancelled                  // Ctrl-C / ESC
)

// Feed processes one key and returns what to echo to the terminal.
func (e *LineEditor) Feed(b byte) (KeyResult, string) {
	switch b {
	case '\r', '\n':
		return Submitted, "\r\n"
	case 0x03, 0x1B:
		e.buf = e.buf[:0]
		return Cancelled, "^C\r\n"
	case 0x08, 0x7F:
		if len(e.buf) == 0 {
			return Editing, ""
		}
		e.buf = e.buf[:len(e.buf)-1]
		return Editing, "\b \b"
	case 0x15: // Ctrl-U
		n := len(e.buf)
		e.buf = e.buf[:0]
		return Editing, erase(n)
	case '\t':
		return Editing, e.complete()
	case 0x17: // Ctrl-W
		n := len(e.buf)
		for n > 0 && e.buf[n-1] == ' ' {
			n--
		}
		for n > 0 && e.buf[n-1] != ' ' {
			n--
		}
		k := len(e.buf) - n
		e.buf = e.buf[:n]
		return Editing, erase(k)
	}
	if b < 0x20 || b >= 0x7F || len(e.buf) >= maxLine {
		return Editing, ""
	}
	e.buf = append(e.buf, b)
	return Editing, string(b)
}

func erase(n int) string {
	s := make([]byte, 0, 3*n)
	for range n {
		s = append(s, '\b', ' ', '\b')
	}
	return string(s)
}

// Line is the text collected so far.
func (e *LineEditor) Line() string { return string(e.buf) }

// Reset clears the editor.
func (e *LineEditor) Reset() { e.buf = e.buf[:0] }

// complete handles Tab and returns what to echo.
func (e *LineEditor) complete() string {
	if e.Complete == nil {
		return ""
	}
	cands := e.Complete(string(e.buf))
	start := len(e.buf)
	for start > 0 && e.buf[start-1] != ' ' {
		start--
	}
	typed := len(e.buf) - start
	switch len(cands) {
	case 0:
		return "\a"
	case 1:
		add := cands[0][min(typed, len(cands[0])):] + " "
		return e.add(add)
	}
	common := cands[0]
	for _, c := range cands[1:] {
		n := 0
		for n < len(common) && n < len(c) && common[n] == c[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) > typed {
		return e.add(common[typed:])
	}
	return "\r\n" + strings.Join(cands, "  ") + "\r\n" + e.Prompt + string(e.buf)
}

// add appends s to the line as far as it fits, and returns the echo.
func (e *LineEditor) add(s string) string {
	var out []byte
	for i := 0; i < len(s) && len(e.buf) < maxLine; i++ {
		e.buf = append(e.buf, s[i])
		out = append(out, s[i])
	}
	return string(out)
}
