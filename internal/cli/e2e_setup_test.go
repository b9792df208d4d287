//go:build unix

package cli

import (
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// Session setup as the program reports it: exit 4 only when nothing
// answered; a setup the BMC answered but that could not be completed is
// exit 1 with one line saying where and why; --debug traces setup without
// secrets.

func never(r fakebmc.SetupRequest) []fakebmc.Loss {
	var l []fakebmc.Loss
	for n := 1; n <= 50; n++ {
		l = append(l, fakebmc.Loss{Request: r, N: n})
	}
	return l
}

func TestE2ESetupExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults fakebmc.Faults
		code   int
		says   string
	}{
		{"nothing answers", fakebmc.Faults{LoseRequests: never(fakebmc.ReqAuthCaps)}, ExitUnreachable,
			"Get Channel Authentication Capabilities: no answer"},
		{"Open Session unanswered", fakebmc.Faults{LoseRequests: never(fakebmc.ReqOpenSession)}, ExitError,
			"failed at Open Session (cipher suite 17)"},
		{"short RAKP 2", fakebmc.Faults{Malform: map[fakebmc.SetupRequest]fakebmc.Malformation{
			fakebmc.ReqRAKP1: {Length: 30}}}, ExitError, "RAKP 2 of 30 bytes, want at least 40"},
		{"privilege refused", fakebmc.Faults{RefuseSetPrivilege: 0x81}, ExitAuth, "privilege level not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ev := startBMC(t, fakebmc.Config{Faults: tc.faults})
			p := startOnPipes(t, "password", attachArgs(srv.Addr(), "--timeout", "100ms", "--retries", "1", "power", "status")...)
			code := p.wait(t, short)
			if code != tc.code {
				t.Errorf("exit status %d, want %d%s", code, tc.code, p.output())
			}
			stderr := p.stderr.String()
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.says) {
				t.Errorf("stderr %q, want one line saying %q", stderr, tc.says)
			}
			if n := ev.Count("session-open") - ev.Count("session-close"); n != 0 {
				t.Errorf("%d sessions left open on the BMC; events:%s", n, ev)
			}
		})
	}
}

func TestE2EDebugTracesSetup(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{Kg: []byte("kg-secret-value")})
	p := startOnPipes(t, "password", attachArgs(srv.Addr(), "-k", "kg-secret-value", "--debug", "power", "status")...)
	if code := p.wait(t, short); code != ExitOK {
		t.Fatalf("exit status %d%s", code, p.output())
	}
	stderr := p.stderr.String()
	for _, want := range []string{"setup Get Channel Authentication Capabilities request", "setup Open Session Request",
		"setup Open Session Response", "setup RAKP 1", "setup RAKP 2", "setup RAKP 3", "setup RAKP 4",
		"IPMI Set Session Privilege Level"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--debug output has no %q:\n%s", want, stderr)
		}
	}
	for _, secret := range []string{"password", "kg-secret-value"} {
		if strings.Contains(stderr, secret) {
			t.Errorf("--debug output shows %q:\n%s", secret, stderr)
		}
	}
}
