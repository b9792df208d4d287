package fakebmccli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// testdata/shipmi/vm.conf is a shipmi provider in the form shipmi's README
// gives (proxmox-qm.conf's shape), driving testdata/shipmi/vm.sh by a
// relative path; the script keeps the VM's state in files of the
// provider's folder. scripts/interop-rack.sh uses them too.
func copyShipmi(t *testing.T, dir string) {
	t.Helper()
	for name, mode := range map[string]os.FileMode{"vm.conf": 0o644, "vm.sh": 0o755} {
		b, err := os.ReadFile(filepath.Join("testdata", "shipmi", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), string(b), mode)
	}
}

func writeFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

func readState(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// providerBMC serves one BMC of a rack with the provider at path.
func providerBMC(t *testing.T, path string, hookTimeout time.Duration) *ipmi.Session {
	t.Helper()
	pf, err := loadProviderFile(path, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if pf.ini == nil {
		t.Fatalf("%s not taken for a shipmi provider", path)
	}
	sp := &bmcSpec{Name: "vm1", Listen: "127.0.0.1:0", Users: []fakebmc.User{{Name: "admin", Password: []byte("password")}},
		Suites: []uint8{17}, SessionTimeout: time.Minute, HookTimeout: hookTimeout, Serial: "echo", Provider: pf.ini}
	b, err := sp.build(io.Discard, false, true)
	if err != nil {
		t.Fatal(err)
	}
	r := fakebmc.NewRack()
	t.Cleanup(func() { r.Close() })
	m, err := r.Add(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := ipmi.Dial(ctx, "udp", m.Addr(), ipmi.Config{Username: "admin", Password: []byte("password"), CipherSuites: []uint8{17}, Timeout: 3 * time.Second, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantCode(t *testing.T, what string, err error, code ipmi.CompletionCode) {
	t.Helper()
	var ce *ipmi.CompletionError
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("%s: %v, want completion code 0x%02X", what, err, byte(code))
	}
}

// The provider's commands do what the IPMI requests ask, in the
// provider's folder; the power state and boot device reported are what
// its status and get commands print, not what the BMC remembers.
func TestShipmiProviderDrivesScripts(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shipmi providers are sh scripts")
	}
	dir := t.TempDir()
	copyShipmi(t, dir)
	writeFile(t, filepath.Join(dir, "vm1.state"), "running\n", 0o644)
	writeFile(t, filepath.Join(dir, "vm1.boot"), "hd\n", 0o644)
	s := providerBMC(t, filepath.Join(dir, "vm.conf"), 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if st, err := s.ChassisStatus(ctx); err != nil || !st.PowerOn {
		t.Fatalf("status with vm1 running: %+v, %v", st, err)
	}
	if err := s.ChassisControl(ctx, ipmi.PowerOff); err != nil {
		t.Fatal(err)
	}
	if got := readState(t, filepath.Join(dir, "vm1.state")); got != "stopped" {
		t.Errorf("after power off the script's state is %q, want stopped", got)
	}
	if st, err := s.ChassisStatus(ctx); err != nil || st.PowerOn {
		t.Fatalf("status after power off: %+v, %v", st, err)
	}
	// Started behind the BMC's back: the status says so.
	writeFile(t, filepath.Join(dir, "vm1.state"), "running\n", 0o644)
	if st, err := s.ChassisStatus(ctx); err != nil || !st.PowerOn {
		t.Fatalf("status after an outside start: %+v, %v", st, err)
	}
	if err := s.ChassisControl(ctx, ipmi.HardReset); err != nil {
		t.Fatal(err)
	}
	if got := readState(t, filepath.Join(dir, "vm1.resets")); got != "reset" {
		t.Errorf("reset left %q", got)
	}
	if err := s.SetBootFlags(ctx, ipmi.BootFlags{Valid: true, Device: ipmi.BootPXE}); err != nil {
		t.Fatal(err)
	}
	if got := readState(t, filepath.Join(dir, "vm1.boot")); got != "network" {
		t.Errorf("bootdev pxe gave the script %q, want shipmi's name network", got)
	}
	writeFile(t, filepath.Join(dir, "vm1.boot"), "optical\n", 0o644)
	if f, err := s.BootFlags(ctx); err != nil || f.Device != ipmi.BootCDROM || !f.Valid {
		t.Fatalf("boot flags with the script saying optical: %+v, %v", f, err)
	}
	// Devices shipmi has no name for: invalid data field, as shipmi.
	wantCode(t, "bootdev bios", s.SetBootFlags(ctx, ipmi.BootFlags{Valid: true, Device: ipmi.BootBIOS}), ipmi.CCInvalidDataField)
	// Output that is no state: 0xCC too.
	writeFile(t, filepath.Join(dir, "vm1.state"), "paused\n", 0o644)
	_, err := s.ChassisStatus(ctx)
	wantCode(t, "status paused", err, ipmi.CCInvalidDataField)
	calls := readState(t, filepath.Join(dir, "calls"))
	for _, want := range []string{"stop vm1", "reset vm1", "bootset vm1 network", "bootget vm1"} {
		if !strings.Contains(calls, want) {
			t.Errorf("the script was not called for %q; calls:\n%s", want, calls)
		}
	}
}

// A command that fails answers 0xD5, one that runs past the hook timeout
// is killed and answers 0xC3, and neither holds the BMC: another request
// is answered meanwhile.
func TestShipmiProviderFailures(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shipmi providers are sh scripts")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.conf")
	writeFile(t, path, "[POWER]\nstatus=echo on\non=exit 3\noff=sleep 30\n[BOOT]\nget=exit 1\n", 0o644)
	s := providerBMC(t, path, 500*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wantCode(t, "power on (exit 3)", s.ChassisControl(ctx, ipmi.PowerOn), ipmi.CCNotSupportedNow)
	t0 := time.Now()
	wantCode(t, "power off (sleep 30)", s.ChassisControl(ctx, ipmi.PowerOff), ipmi.CCTimeout)
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("the slow command was answered after %v, want about the 500ms hook timeout", d)
	}
	if st, err := s.ChassisStatus(ctx); err != nil || !st.PowerOn {
		t.Fatalf("status after the failures: %+v, %v", st, err)
	}
	_, err := s.BootFlags(ctx)
	wantCode(t, "boot get (exit 1)", err, ipmi.CCNotSupportedNow)
}

func TestParseProviderFile(t *testing.T) {
	p, err := parseProviderFile("/etc/shipmi/providers/x.conf", []byte("; comment\n[POWER]\nStatus : echo on\non=start %(name)s \\\n  --now\n  --really\n[CONSOLE]\nexec = virsh console %(name)s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.ini == nil || p.ini.Power["status"] != "echo on" || p.ini.Power["on"] != "start %(name)s \\\n--now\n--really" ||
		p.ini.Console != "exec:virsh console %(name)s" || p.ini.Dir != "/etc/shipmi/providers" {
		t.Fatalf("parsed %+v", p.ini)
	}
	old, err := parseProviderFile("h", []byte("# hooks\npower-on = echo on\nbootdev = echo $GHMICONS_BOOTDEV\n"))
	if err != nil || old.ini != nil || old.hooks["power-on"] != "echo on" || old.hooks["bootdev"] != "echo $GHMICONS_BOOTDEV" {
		t.Fatalf("the KEY = COMMAND format: %+v, %v", old, err)
	}
	for _, bad := range []string{
		"[POWER]\nstart=x\n", "[FAN]\n", "on=x\n", "[POWER]\non=echo %(nme)s\n", "[POWER]\non=printf %d\n",
		"[CONSOLE]\nserial=bogus\n", "[CONSOLE]\nexec=a\nserial=demo\n", "[POWER\n", "power-up = x\n",
	} {
		if _, err := parseProviderFile("p", []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if got, err := substitute("a %(name)s %% %(bootdev)s", map[string]string{"name": "n", "bootdev": "hd"}); err != nil || got != "a n % hd" {
		t.Errorf("substitute: %q, %v", got, err)
	}
}
