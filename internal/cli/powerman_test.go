package cli

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestParsePowermanLine(t *testing.T) {
	for _, tc := range []struct {
		line, verb, hosts, err string
	}{
		{"", "", "", ""},
		{"   ", "", "", ""},
		{"stat", "stat", "", ""},
		{"STATUS n[1-2]", "stat", "n[1-2]", ""},
		{"on n[1-3]", "on", "n[1-3]", ""},
		{"off  n1 n2", "off", "n1,n2", ""},
		{"cycle n1", "cycle", "n1", ""},
		{"reset n1\r", "reset", "n1", ""},
		{"quit", "quit", "", ""},
		{"exit", "quit", "", ""},
		{"help", "help", "", ""},
		{"on", "", "", "on: which hosts?"},
		{"quit now", "", "", "quit takes no hosts"},
		{"diag n1", "", "", `unknown command "diag"`},
	} {
		r, err := parsePowermanLine(tc.line)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %+v, %v; want error %q", tc.line, r, err, tc.err)
			}
		case err != nil || r.verb != tc.verb || r.hosts != tc.hosts:
			t.Errorf("%q: %+v, %v; want %s %q", tc.line, r, err, tc.verb, tc.hosts)
		}
	}
}

// FuzzPowermanLine: the parser never panics; what it accepts is a known
// verb, and an action always names hosts.
func FuzzPowermanLine(f *testing.F) {
	for _, s := range []string{"stat", "on n[1-3]", "off a b", "cycle x", "reset y", "quit", "help me", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parsePowermanLine(line)
		if err != nil {
			return
		}
		switch r.verb {
		case "", "stat", "help", "quit":
		case "on", "off", "cycle", "reset":
			if r.hosts == "" {
				t.Fatalf("%q: %s without hosts", line, r.verb)
			}
		default:
			t.Fatalf("%q: verb %q", line, r.verb)
		}
	})
}

// The protocol against a rack: one line per host, states only as the BMC
// reports them, an error line for a silent BMC and for a host that is not
// one of -H's.
func TestPowermanServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rack, hosts, r := memRack(t, 3, 5*time.Second)
		rack[2].Link.SetSilent(true)
		var out strings.Builder
		s := newPMServer(r, hosts, &out)
		sc := &signalScope{ctx: context.Background()}
		for _, tc := range []struct{ line, want string }{
			{"stat", "n1: on\nn2: on\nn3: error: "},
			{"off n[1-2]", "n1: off\nn2: off\n"},
			{"stat n2,n9", "n9: error: not one of this device's hosts (-H)\nn2: off\n"},
			{"cycle n1", "n1: on\n"},
			{"on n[1-3]", "n1: on\nn2: on\nn3: error: "},
			{"bogus", "error: unknown command \"bogus\""},
			{"on n[2-1]", "error: hostlist \"n[2-1]\": [2-1]: 2-1 counts down"},
			{"", ""},
		} {
			out.Reset()
			quit, err := s.serve(sc, tc.line)
			if err != nil || quit {
				t.Fatalf("%q: quit %v, %v", tc.line, quit, err)
			}
			if got := out.String(); !strings.HasPrefix(got, tc.want) || !strings.HasSuffix(got, "\n") && got != "" {
				t.Errorf("%q: replied %q, want %q…", tc.line, got, tc.want)
			}
		}
		if !rack[1].Server.Chassis().PoweredOn() {
			t.Error("n2 is off after on n[1-3]")
		}
		if quit, err := s.serve(sc, "quit"); !quit || err != nil {
			t.Errorf("quit: %v, %v", quit, err)
		}
	})
}
