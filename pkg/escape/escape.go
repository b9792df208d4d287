// Package escape is the ssh-style escape filter of the console: bytes typed
// in, bytes to send and commands out. As in openssh's clientloop.c, the
// escape character is special only at the start of the session and right
// after CR or LF; the escape character twice sends one; the escape character
// followed by anything else sends both. A sequence split across reads works:
// the state lives in the Filter.
package escape

import (
	"fmt"
	"strings"
)

// Command is an escape command.
type Command int

// Escape commands (after the escape character, "~" by default).
const (
	Quit      Command = iota + 1 // ~.
	Break                        // ~B
	Help                         // ~?
	Suspend                      // ~^Z
	Status                       // ~#
	Reconnect                    // ~R
	Prompt                       // ~C
)

func (c Command) String() string {
	switch c {
	case Quit:
		return "quit"
	case Break:
		return "break"
	case Help:
		return "help"
	case Suspend:
		return "suspend"
	case Status:
		return "status"
	case Reconnect:
		return "reconnect"
	case Prompt:
		return "prompt"
	}
	return fmt.Sprintf("command-%d", int(c))
}

// Action is one step of the filter's output: bytes to send, or a command.
// Keeping them in order lets the program send what was typed before a
// command before it runs the command.
type Action struct {
	Data    []byte
	Command Command
}

// Filter recognises escape sequences. The zero value is disabled (passes
// everything through); use New.
type Filter struct {
	char      byte
	enabled   bool
	lineStart bool
	pending   bool // the escape character was seen at line start
}

// New returns a filter for escape character c.
func New(c byte) *Filter { return &Filter{char: c, enabled: true, lineStart: true} }

// Disabled returns a filter that passes everything through.
func Disabled() *Filter { return &Filter{} }

// Char is the escape character, 0 when disabled.
func (f *Filter) Char() byte {
	if !f.enabled {
		return 0
	}
	return f.char
}

// Enabled reports whether escapes are recognised.
func (f *Filter) Enabled() bool { return f.enabled }

// Process filters in. The returned Data slices alias in, except a held-back
// escape character, which gets its own slice.
func (f *Filter) Process(in []byte) []Action {
	if !f.enabled {
		if len(in) == 0 {
			return nil
		}
		return []Action{{Data: in}}
	}
	var acts []Action
	start := 0 // first byte of the current run to forward
	flush := func(end int) {
		if end > start {
			acts = append(acts, Action{Data: in[start:end]})
		}
	}
	for i, b := range in {
		if f.pending {
			f.pending = false
			cmd := f.command(b)
			switch {
			case cmd != 0:
				acts = append(acts, Action{Command: cmd})
				start = i + 1
				f.lineStart = true // as in ssh: another escape may follow at once
				continue
			case b == f.char:
				// ~~ sends one ~: this byte is it.
				start = i
				f.lineStart = false
				continue
			default:
				// ~x sends both.
				acts = append(acts, Action{Data: []byte{f.char}})
				start = i
			}
		} else if f.lineStart && b == f.char {
			flush(i)
			start = i + 1
			f.pending = true
			continue
		}
		f.lineStart = b == '\r' || b == '\n'
	}
	flush(len(in))
	return acts
}

func (f *Filter) command(b byte) Command {
	switch b {
	case '.':
		return Quit
	case 'B':
		return Break
	case '?':
		return Help
	case 0x1A:
		return Suspend
	case '#':
		return Status
	case 'R':
		return Reconnect
	case 'C':
		return Prompt
	}
	return 0
}

// HelpText is the text ~? prints, for escape character c; prompt says what
// the command prompt (~C) offers ("command prompt: power, bootdev, …",
// from the program's command table).
func HelpText(c byte, prompt string) string {
	e := Printable(c)
	lines := []string{
		"Supported escape sequences:",
		e + ".   quit (deactivates SOL and closes the session)",
		e + "B   send a BREAK to the host",
		e + "C   " + prompt,
		e + "R   reconnect now",
		e + "#   session status",
		e + "^Z  suspend ghmicons",
		e + "?   this help",
		e + e + "  send the escape character itself",
		"(Escapes are recognised only after a newline.)",
	}
	return strings.Join(lines, "\n")
}

// Printable shows an escape character as typed: "~", or "^]" for control
// characters.
func Printable(c byte) string {
	if c < 0x20 {
		return "^" + string(rune(c+'@'))
	}
	if c == 0x7F {
		return "^?"
	}
	return string(rune(c))
}

// Parse reads an -e value: a single character, "^X" notation, or "none".
func Parse(s string) (c byte, enabled bool, err error) {
	switch {
	case s == "none":
		return 0, false, nil
	case len(s) == 1:
		return s[0], true, nil
	case len(s) == 2 && s[0] == '^':
		u := s[1] &^ 0x20
		if s[1] == '?' {
			return 0x7F, true, nil
		}
		if u >= '@' && u <= '_' {
			return u - '@', true, nil
		}
	}
	return 0, false, fmt.Errorf("escape: bad escape character %q (want one character, ^X or none)", s)
}
