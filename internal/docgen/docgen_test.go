package docgen

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func sample() *pflag.FlagSet {
	fs := pflag.NewFlagSet("prog", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringP("host", "H", "", "BMC `ADDR` to use")
	fs.BoolP("env", "E", false, "read it from the environment")
	fs.String("level", "admin", "privilege level")
	fs.Duration("timeout", time.Second, "wait this long")
	fs.Int("port", 0, "UDP port")
	fs.String("debug", "", "trace to `FILE`")
	fs.Lookup("debug").NoOptDefVal = "-"
	fs.Bool("secret", false, "not shown")
	_ = fs.MarkHidden("secret")
	return fs
}

func TestFlags(t *testing.T) {
	got := Flags(sample())
	want := []Flag{
		{Short: "H", Long: "host", Arg: "ADDR", Usage: "BMC ADDR to use", TakesValue: true},
		{Short: "E", Long: "env", Usage: "read it from the environment"},
		{Long: "level", Arg: "string", Usage: `privilege level (default "admin")`, TakesValue: true},
		{Long: "timeout", Arg: "duration", Usage: "wait this long (default 1s)", TakesValue: true},
		{Long: "port", Arg: "int", Usage: "UDP port", TakesValue: true},
		{Long: "debug", Arg: `FILE[="-"]`, Usage: "trace to FILE", OptionalValue: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d flags %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("flag %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"--log FILE":    `\-\-log FILE`,
		`a\b`:           `a\eb`,
		"IV ‖ data":     `IV \[u2016] data`,
		"one\ntwo":      "one two",
		"plain, (text)": "plain, (text)",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestManNoRequestsFromText: text lines never start with "." or "'", so
// that prose cannot turn into a roff request.
func TestManNoRequestsFromText(t *testing.T) {
	page := Man(Page{Name: "prog", Section: "1", Date: "2026-01-01", Source: "prog", Manual: "User Commands",
		Summary: "a program", Synopsis: []string{"prog [flags]"},
		Sections: []Section{{Title: "Description", Blocks: []Block{
			Para(".TH looks like a request"), Para("'quoted at the start"), Literal{".hidden", "'x"},
			List{{Term: "a", Text: ". dot"}}, Options(Flags(sample())),
		}}}})
	requests := map[string]bool{}
	for _, line := range strings.Split(string(page), "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			requests[strings.Fields(line)[0]] = true
		}
	}
	for r := range requests {
		switch r {
		case `.\"`, ".TH", ".SH", ".PP", ".TP", ".RS", ".RE", ".nf", ".fi", ".br":
		default:
			t.Errorf("unexpected request %q in\n%s", r, page)
		}
	}
	for _, want := range []string{`\&.TH looks like`, `\&'quoted`, `\&.hidden`, `\fB\-H\fR, \fB\-\-host\fR \fIADDR\fR`, `\fB\-\-debug\fR \fIFILE[="\-"]\fR`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "secret") {
		t.Error("a hidden flag is documented")
	}
}

func TestZshSpec(t *testing.T) {
	fl := Flags(sample())
	for i, want := range []string{
		`'(-H --host)'{-H+,--host=}'[BMC ADDR to use]:addr:_hosts'`,
		`'(-E --env)'{-E,--env}'[read it from the environment]'`,
		`'--level=[privilege level (default "admin")]:level:(admin it\'\''s)'`,
		`'--timeout=[wait this long (default 1s)]:timeout: '`,
		`'--port=[UDP port]:port: '`,
		`'--debug=-[trace to FILE]::file:_files'`,
	} {
		v := map[int]Values{0: {Hosts: true}, 2: {Words: []string{"admin", "it's"}}, 5: {Files: true}}[i]
		if got := zshSpec(fl[i], v); got != want {
			t.Errorf("flag %s: %s, want %s", fl[i].Long, got, want)
		}
	}
}
