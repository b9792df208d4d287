package escape

import (
	"bytes"
	"reflect"
	"testing"
)

// run feeds chunks and flattens the result: data concatenated between
// commands, commands as "<name>".
func run(f *Filter, chunks ...string) []string {
	var out []string
	var cur []byte
	for _, c := range chunks {
		for _, a := range f.Process([]byte(c)) {
			if a.Command != 0 {
				if len(cur) > 0 {
					out = append(out, string(cur))
					cur = nil
				}
				out = append(out, "<"+a.Command.String()+">")
				continue
			}
			cur = append(cur, a.Data...)
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"quit at session start", []string{"~."}, []string{"<quit>"}},
		{"quit after newline", []string{"ls\r~."}, []string{"ls\r", "<quit>"}},
		{"quit after LF", []string{"ls\n~."}, []string{"ls\n", "<quit>"}},
		{"not mid-line", []string{"a~."}, []string{"a~."}},
		{"tilde tilde sends one", []string{"~~"}, []string{"~"}},
		{"tilde tilde then dot is not quit", []string{"~~."}, []string{"~."}},
		{"tilde other sends both", []string{"~x"}, []string{"~x"}},
		{"tilde CR sends both, then line start", []string{"~\r~."}, []string{"~\r", "<quit>"}},
		{"split across reads", []string{"echo\r", "~", "."}, []string{"echo\r", "<quit>"}},
		{"split tilde tilde", []string{"~", "~"}, []string{"~"}},
		{"break", []string{"~B"}, []string{"<break>"}},
		{"help", []string{"~?"}, []string{"<help>"}},
		{"suspend", []string{"~\x1a"}, []string{"<suspend>"}},
		{"status", []string{"~#"}, []string{"<status>"}},
		{"reconnect", []string{"~R"}, []string{"<reconnect>"}},
		{"prompt", []string{"~C"}, []string{"<prompt>"}},
		{"commands in a row", []string{"~B~."}, []string{"<break>", "<quit>"}},
		{"data after command", []string{"~Bhello"}, []string{"<break>", "hello"}},
		{"lower-case b is not break", []string{"~b"}, []string{"~b"}},
		{"no escapes", []string{"plain text\r\nmore"}, []string{"plain text\r\nmore"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(New('~'), tc.chunks...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOtherEscapeAndDisabled(t *testing.T) {
	if got := run(New(0x1D), "\x1d."); !reflect.DeepEqual(got, []string{"<quit>"}) {
		t.Errorf("^] escape: %q", got)
	}
	if got := run(New(0x1D), "~."); !reflect.DeepEqual(got, []string{"~."}) {
		t.Errorf("~ with ^] escape: %q", got)
	}
	if got := run(Disabled(), "~.", "\r~."); !reflect.DeepEqual(got, []string{"~.\r~."}) {
		t.Errorf("disabled: %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		c       byte
		enabled bool
		bad     bool
	}{
		{"~", '~', true, false}, {"&", '&', true, false}, {"^]", 0x1D, true, false},
		{"^?", 0x7F, true, false}, {"none", 0, false, false}, {"ab", 0, false, true}, {"", 0, false, true},
	} {
		c, en, err := Parse(tc.in)
		if (err != nil) != tc.bad || c != tc.c || en != tc.enabled {
			t.Errorf("Parse(%q) = %q %v %v", tc.in, c, en, err)
		}
	}
	if Printable(0x1D) != "^]" || Printable('~') != "~" {
		t.Error("Printable")
	}
}

func TestLineEditor(t *testing.T) {
	var e LineEditor
	feed := func(s string) (KeyResult, string) {
		var r KeyResult
		var echo string
		for i := range len(s) {
			var o string
			r, o = e.Feed(s[i])
			echo += o
		}
		return r, echo
	}
	if r, _ := feed("power cyclx\x7fe\r"); r != Submitted || e.Line() != "power cycle" {
		t.Errorf("backspace: %v %q", r, e.Line())
	}
	e.Reset()
	if r, _ := feed("garbage\x15boot pxe\r"); r != Submitted || e.Line() != "boot pxe" {
		t.Errorf("ctrl-u: %v %q", r, e.Line())
	}
	e.Reset()
	if r, _ := feed("bootdev pxe\x17disk\r"); r != Submitted || e.Line() != "bootdev disk" {
		t.Errorf("ctrl-w: %v %q", r, e.Line())
	}
	e.Reset()
	if r, _ := feed("power off\x03"); r != Cancelled {
		t.Errorf("ctrl-c: %v", r)
	}
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{"~.", "a\r~B~.", "~~", "~x", "\n~?", "plain", "~\x1a", "~C", "~"} {
		f.Add([]byte(s), byte(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, split byte) {
		fl := New('~')
		var fwd []byte
		cmds := 0
		// Split the input at a fuzzed point: the result must not depend on it.
		k := int(split) % (len(in) + 1)
		for _, part := range [][]byte{in[:k], in[k:]} {
			for _, a := range fl.Process(part) {
				if a.Command != 0 {
					cmds++
				}
				fwd = append(fwd, a.Data...)
			}
		}
		whole := New('~')
		var fwd2 []byte
		cmds2 := 0
		for _, a := range whole.Process(in) {
			if a.Command != 0 {
				cmds2++
			}
			fwd2 = append(fwd2, a.Data...)
		}
		if !bytes.Equal(fwd, fwd2) || cmds != cmds2 {
			t.Fatalf("split at %d changes the result: %q/%d vs %q/%d", k, fwd, cmds, fwd2, cmds2)
		}
		// Every input byte is accounted for: a command consumes two bytes,
		// "~~" one more than it forwards, a trailing pending "~" one.
		tildes := bytes.Count(in, []byte("~")) - bytes.Count(fwd, []byte("~"))
		other := len(in) - bytes.Count(in, []byte("~")) - (len(fwd) - bytes.Count(fwd, []byte("~")))
		if other != cmds || tildes < cmds {
			t.Fatalf("bytes unaccounted: in %q fwd %q cmds %d", in, fwd, cmds)
		}
		if !bytes.Contains(in, []byte("~")) && (!bytes.Equal(fwd, in) || cmds != 0) {
			t.Fatalf("input without the escape character changed: %q → %q", in, fwd)
		}
	})
}
