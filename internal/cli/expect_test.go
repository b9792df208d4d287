package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The scripted console's flags: every mistake is a usage error before
// anything is read or sent (the BMC never answers: a case wrongly accepted
// shows as a timeout).
func TestScriptFlagValidation(t *testing.T) {
	addr, heard := deafBMC(t)
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.exp", "# a comment\nexpect /login:/\nsned \"root\\r\"\n")
	envScript := write("env.exp", "expect /Password:/\nsend \"${env:ROOT_PW}\\r\"\n")
	good := write("good.exp", "expect /x/\n")
	big := write("big.exp", strings.Repeat("#\n", 600_000))
	base := []string{"-H", addr, "-U", "admin", "-E", "--timeout", "100ms", "--retries", "0"}
	for _, tc := range []usageCase{
		{"a script line that does not parse", withPassword, []string{"--script", bad}, bad + `:3: unknown statement "sned"`},
		{"no script file", withPassword, []string{"--script", filepath.Join(dir, "none")}, "--script: open"},
		{"a script too big", withPassword, []string{"--script", big}, "over 1048576 bytes"},
		{"a script and --send", withPassword, []string{"--script", good, "--send", "x"}, "--script and --send both give the steps"},
		{"a bad pattern", withPassword, []string{"--expect", "a("}, "--expect: pattern /a(/: missing closing )"},
		{"a pattern that matches nothing at all", withPassword, []string{"--expect", ".*"}, "matches the empty text"},
		{"a bad escape", withPassword, []string{"--send", `\q`, "--expect", "x"}, `--send: unknown escape \q`},
		{"a capture before its expect", withPassword, []string{"--send", "$1", "--expect", "(x)"}, "--send: $1: no expect before"},
		{"a --print of a group nobody has", withPassword, []string{"--expect", "(x)", "--print", "${ip}"}, "--print: ${ip}: no expect before"},
		{"a script and --print", withPassword, []string{"--script", good, "--print", "x"}, "--script and --print both"},
		{"--expect-timeout too short", withPassword, []string{"--expect", "x", "--expect-timeout", "10ms"}, "--expect-timeout 10ms: give 1s to 24h0m0s"},
		{"--expect-timeout too long", withPassword, []string{"--expect", "x", "--expect-timeout", "25h"}, "give 1s to 24h0m0s"},
		{"--expect-timeout alone", withPassword, []string{"--expect-timeout", "1m"}, "--expect-timeout apply to --expect and --script"},
		{"--quiet-console alone", withPassword, []string{"--quiet-console"}, "--quiet-console apply to --expect and --script"},
		{"with a one-shot command", withPassword, []string{"--expect", "x", "power", "status"}, `with the command "power"`},
		{"with --keep-open", withPassword, []string{"--expect", "x", "--keep-open"}, "--keep-open"},
		{"a variable not set", withPassword, []string{"--script", envScript}, "${env:ROOT_PW}, which is not set"},
		{"a bad --power still", withPassword, []string{"--expect", "x", "--power", "sideways"}, "--power: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.args = append(append([]string(nil), base...), tc.args...)
			checkUsage(t, tc)
		})
	}
	select {
	case <-heard:
		t.Error("a refused command line sent a datagram to the BMC")
	default:
	}
}

// The order of --send and --expect on the command line is the script's;
// --bootdev and --power run first, wherever they are.
func TestScriptFlagOrder(t *testing.T) {
	o, err := parseOptions([]string{"-H", "bmc", "--expect", "login:", "--power", "cycle", "--send", `root\r`,
		"--expect", "Password:", "--bootdev", "pxe", "--send", `pw\r`, "--expect", `(?P<p>#) $`, "--print", "got ${p}"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range o.script.Steps {
		got = append(got, st.Where+" "+st.String())
	}
	want := []string{"--bootdev bootdev pxe", "--power power cycle", "--expect expect /login:/", `--send send "root\r"`,
		"--expect expect /Password:/", `--send send "pw\r"`, "--expect expect /(?P<p>#) $/", `--print print "got ${p}"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if o, err := parseOptions([]string{"-H", "bmc", "--power", "cycle"}, os.Stderr); err != nil || o.script != nil {
		t.Errorf("--power alone made a script (%v)", err)
	}
}
