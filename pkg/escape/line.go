package escape

// LineEditor collects the ~C command line from raw keystrokes: printable
// characters, backspace (BS or DEL), Ctrl-U (erase line) and Ctrl-W (erase
// word); Enter submits, Ctrl-C or Escape cancels.
type LineEditor struct {
	buf []byte
}

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
	if b < 0x20 || b >= 0x7F || len(e.buf) >= 256 {
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
