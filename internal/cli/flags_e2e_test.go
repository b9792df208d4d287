//go:build unix

package cli

import (
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// TestCommandWordsAnyCase runs the one-shot commands, spelt in capitals,
// against the simulated BMC.
func TestCommandWordsAnyCase(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{})
	tests := []struct {
		words []string
		want  string // on stdout
	}{
		{[]string{"POWER", "STATUS"}, "Chassis Power is on\n"},
		{[]string{"Power", "Status"}, "Chassis Power is on\n"},
		{[]string{"BOOTDEV", "PXE", "PERSISTENT"}, "Set boot device to "},
		{[]string{"BOOTDEV", "STATUS"}, "Boot device: pxe"},
		{[]string{"INFO"}, "Privilege:      administrator\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runInProcess(t, withPassword, append([]string{"-H", srv.Addr(), "-U", "admin", "-E"}, tt.words...)...)
		if code != ExitOK || !strings.Contains(stdout, tt.want) || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and %q", tt.words, code, stdout, stderr, tt.want)
		}
	}
}

// TestKgEnvAgainstBMC: -K takes K_g from IPMI_KGKEY; a wrong one is an
// authentication failure.
func TestKgEnvAgainstBMC(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{Kg: []byte{0x01, 0x02, 0xff}})
	args := []string{"-H", srv.Addr(), "-U", "admin", "-E", "-K", "power", "status"}
	code, stdout, stderr := runInProcess(t, map[string]string{"IPMI_PASSWORD": "password", "IPMI_KGKEY": "0x0102ff"}, args...)
	if code != ExitOK || stdout != "Chassis Power is on\n" {
		t.Errorf("right K_g: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runInProcess(t, map[string]string{"IPMI_PASSWORD": "password", "IPMI_KGKEY": "wrong"}, args...)
	if code != ExitAuth {
		t.Errorf("wrong K_g: exit %d, want %d (stderr %q)", code, ExitAuth, stderr)
	}
}

// TestSOLEncryptionRefusedIsIncompatible: a BMC that insists on encrypted
// SOL, reached with a cipher suite without encryption, answers Activate
// Payload with 0x84: exit 7, not 1.
func TestSOLEncryptionRefusedIsIncompatible(t *testing.T) {
	srv, _ := startBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{ForceEncryption: true}})
	code, _, stderr := runInProcess(t, withPassword, "-H", srv.Addr(), "-U", "admin", "-E", "-C", "2")
	if code != ExitIncompat {
		t.Errorf("exit %d, want %d (stderr %q)", code, ExitIncompat, stderr)
	}
}
