package escape

import (
	"strings"
	"testing"
)

func TestLineEditorComplete(t *testing.T) {
	words := []string{"power", "bootdev", "break", "status", "help"}
	args := map[string][]string{"power": {"on", "off", "cycle", "reset", "soft", "diag", "status"}}
	complete := func(line string) []string {
		f := strings.Fields(line)
		if line == "" || strings.HasSuffix(line, " ") {
			f = append(f, "")
		}
		cands := words
		if len(f) > 1 {
			cands = args[f[0]]
		}
		var out []string
		for _, c := range cands {
			if strings.HasPrefix(c, strings.ToLower(f[len(f)-1])) {
				out = append(out, c)
			}
		}
		return out
	}
	feed := func(e *LineEditor, keys string) string {
		var echo strings.Builder
		for i := range len(keys) {
			_, s := e.Feed(keys[i])
			echo.WriteString(s)
		}
		return echo.String()
	}
	tests := []struct {
		keys, line, echo string
	}{
		{"po\t", "power ", "power "},               // one candidate: the word and a space
		{"PO\t", "POwer ", "POwer "},               // any case
		{"b\t", "b", "b\r\nbootdev  break\r\n> b"}, // nothing in common: the list
		{"bo\t", "bootdev ", "bootdev "},
		{"power c\t", "power cycle ", "power cycle "},
		{"power s\t", "power s", "power s\r\nsoft  status\r\n> power s"},
		{"power so\t", "power soft ", "power soft "},
		{"x\t", "x", "x\a"}, // no candidate: a bell
	}
	for _, tt := range tests {
		e := LineEditor{Complete: complete, Prompt: "> "}
		echo := feed(&e, tt.keys)
		if e.Line() != tt.line || echo != tt.echo {
			t.Errorf("%q: line %q, echo %q; want %q, %q", tt.keys, e.Line(), echo, tt.line, tt.echo)
		}
	}
	// Without Complete, Tab does nothing.
	var e LineEditor
	if _, echo := e.Feed('\t'); echo != "" || e.Line() != "" {
		t.Errorf("Tab without completion: echo %q, line %q", echo, e.Line())
	}
}
