package expect

import (
	"strings"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
)

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		in, lit, refs, err string
	}{
		{in: `root\r`, lit: "root\r"},
		{in: `a\nb\tc\\d\"e\$f\/g`, lit: "a\nb\tc\\d\"e$f/g"},
		{in: `\x03\x1B\e`, lit: "\x03\x1b\x1b"},
		{in: `ip=${ip}`, lit: "ip=", refs: "ip"},
		{in: `$1-$2`, lit: "-", refs: "1,2"},
		{in: `${12}x`, lit: "x", refs: "12"},
		{in: `${007}`, refs: "7"},
		{in: `${env:PW}\r`, lit: "\r", refs: "env:PW"},
		{in: `$`, err: "a $ starts"},
		{in: `$x`, err: "a $ starts"},
		{in: `${`, err: "without its }"},
		{in: `${}`, err: "a name is letters"},
		{in: `${a-b}`, err: "a name is letters"},
		{in: `${env:1X}`, err: "does not start with a digit"},
		{in: `${1234}`, err: "no such group"},
		{in: `\`, err: `a \ at the end`},
		{in: `\q`, err: `unknown escape \q`},
		{in: `\x4`, err: `two hex digits`},
		{in: `\xzz`, err: `two hex digits`},
		{in: `\x+1`, err: `two hex digits`},
	} {
		txt, err := ParseText(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseText(%q): %v, want an error saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseText(%q): %v", tc.in, err)
			continue
		}
		lit := txt.expand(func(string) string { return "" })
		if lit != tc.lit || strings.Join(txt.refs(), ",") != tc.refs {
			t.Errorf("ParseText(%q) = literal %q refs %q, want %q and %q", tc.in, lit, txt.refs(), tc.lit, tc.refs)
		}
		// String writes it back in a form that reads the same.
		again, err := ParseText(txt.String())
		if err != nil || again.String() != txt.String() {
			t.Errorf("ParseText(%q).String() = %q reads back as %q, %v", tc.in, txt.String(), again.String(), err)
		}
	}
}

func TestParseScript(t *testing.T) {
	src := `# log in and find the address
timeout 2m
power cycle          # the table's command
bootdev pxe persistent
expect /login: $/
send "root\r"
expect /Password:/ timeout 10s
send "${env:PW}\r"
expect /(?m)^root@(\w+):/
send "echo $1\r"
delay 1.5s
expect /inet (?P<ip>[0-9.]+)\/(\d+)/
print "ip=${ip} prefix=$2"
  EXPECT /a\/b/   # keywords in any case
break
`
	s, err := Parse("boot.exp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range s.Steps {
		got = append(got, st.Where+" "+st.String())
	}
	want := []string{
		"boot.exp:2 timeout 2m0s",
		"boot.exp:3 power cycle",
		"boot.exp:4 bootdev pxe persistent",
		"boot.exp:5 expect /login: $/",
		`boot.exp:6 send "root\r"`,
		"boot.exp:7 expect /Password:/ timeout 10s",
		`boot.exp:8 send "${env:PW}\r"`,
		`boot.exp:9 expect /(?m)^root@(\w+):/`,
		`boot.exp:10 send "echo ${1}\r"`,
		"boot.exp:11 delay 1.5s",
		`boot.exp:12 expect /inet (?P<ip>[0-9.]+)\/(\d+)/`,
		`boot.exp:13 print "ip=${ip} prefix=${2}"`,
		`boot.exp:14 expect /a\/b/`,
		"boot.exp:15 break",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := s.Steps[2].Call; c.Boot.Device.String() != "pxe" || !c.Boot.Persistent {
		t.Errorf("bootdev call %+v, want pxe persistent", c.Boot)
	}
	if env := s.Env(); len(env) != 1 || env[0] != "PW" {
		t.Errorf("Env() = %q, want [PW]", env)
	}
	// Every step reads back from its String as the same step.
	var back []string
	for _, st := range s.Steps {
		back = append(back, st.String())
	}
	s2, err := Parse("again", []byte(strings.Join(back, "\n")))
	if err != nil {
		t.Fatalf("the steps' Strings do not parse: %v", err)
	}
	for i := range s.Steps {
		if s2.Steps[i].String() != s.Steps[i].String() {
			t.Errorf("step %d reads back as %q, want %q", i, s2.Steps[i], s.Steps[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, err string }{
		{"sned \"x\"", `x.exp:1: unknown statement "sned"`},
		{"\n\nsend root", `x.exp:3: send: give a string in double quotes`},
		{`send "root`, `x.exp:1: send: no closing "`},
		{`send "a" "b"`, `x.exp:1: send: "\"b\"" after the statement`},
		{`send "\q"`, `unknown escape \q`},
		{`expect login`, `x.exp:1: expect: give a pattern between slashes`},
		{`expect /a(/`, `expect: pattern /a(/: missing closing )`},
		{`expect /a*/`, `matches the empty text`},
		{`expect //`, `an empty pattern`},
		{`expect /a/ tmeout 3s`, `then "tmeout"?`},
		{`expect /a/ timeout`, `give a duration`},
		{`expect /a/ timeout 3`, `"3" is not a duration`},
		{`expect /a/ timeout 10ms`, `timeout 10ms: give 1s to 24h0m0s`},
		{`expect /a/ timeout 25h`, `give 1s to 24h0m0s`},
		{`delay 0s`, `delay 0s: give more than 0`},
		{`delay 2h`, `at most 1h0m0s`},
		{`delay -1s`, `give more than 0`},
		{`timeout 0s`, `timeout 0s: give 1s`},
		{`power sideways`, `x.exp:1: `},
		{`bootdev`, `x.exp:1: `},
		{`power cycle "now"`, `a command's words are plain words`},
		{`"send"`, `a line starts with a statement`},
		{`send "$1"`, `x.exp:1: $1: no expect before this one`},
		{"expect /(a)/\nsend \"$2\"", `x.exp:2: $2: the expect before has 1 group(s)`},
		{"send \"${ip}\"\nexpect /(?P<ip>x)/", `x.exp:1: ${ip}: no expect before this one has a group (?P<ip>…)`},
		{"print \"${nope}\"", `${nope}: no expect`},
	} {
		_, err := Parse("x.exp", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Parse(%q): %v, want an error saying %q", tc.src, err, tc.err)
		}
		var pe *ParseError
		if err != nil && !asParseError(err, &pe) {
			t.Errorf("Parse(%q): %T, want a *ParseError", tc.src, err)
		}
	}
	if _, err := Parse("big", make([]byte, MaxScript+1)); err == nil {
		t.Error("a script over MaxScript parsed")
	}
}

func asParseError(err error, pe **ParseError) bool {
	p, ok := err.(*ParseError)
	*pe = p
	return ok
}

// The script's keywords are no commands of the table: a new row named
// "send" would be shadowed.
func TestKeywordsAreNoCommands(t *testing.T) {
	for k := range keywords {
		if command.Lookup(command.Prompt, k) != nil {
			t.Errorf("the command table has a %q, which scripts read as their own statement", k)
		}
	}
}

func TestNewSteps(t *testing.T) {
	e, err := NewExpect("--expect", `ip (?P<ip>\S+)`, 0)
	if err != nil {
		t.Fatal(err)
	}
	snd, err := NewSend("--send", `echo ${ip}\r`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New([]Step{snd, e}); err == nil || !strings.Contains(err.Error(), "--send: ${ip}") {
		t.Errorf("a --send before the --expect that captures: %v", err)
	}
	if _, err := New([]Step{e, snd}); err != nil {
		t.Error(err)
	}
	if _, err := NewExpect("--expect", "(", 0); err == nil || !strings.HasPrefix(err.Error(), "--expect: pattern /(/") {
		t.Errorf("bad --expect: %v", err)
	}
	if _, err := NewExpect("--expect", "x", time.Millisecond); err == nil {
		t.Error("a 1ms bound was taken")
	}
	if _, err := NewSend("--send", `\z`); err == nil || !strings.HasPrefix(err.Error(), "--send: ") {
		t.Errorf("bad --send: %v", err)
	}
}
