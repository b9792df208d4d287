package fakebmccli

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

const exampleConfig = `# a rack
[defaults]
cipher_suites = [3, 17]
serial = "echo"
users = [
  { name = "admin", password_file = "secrets/admin" },
  { name = "op", password = "oppass", privilege = "operator" },
]
history = 8192

[[bmc]]
name = "vm1"
listen = "127.0.0.1:20300"
provider = "providers/qm.conf"
kg = "rackkey"

[[bmc]]
name = "vm2"
listen = "127.0.0.1:20301"
serial = "unix-connect:/run/vms/%(name)s.sock"
session_timeout = "30s"
faults = { drop = 0.1, seed = 7, chassis_delay = "1s" }

[[range]]
count = 3
name = "node%02d"
first = 0
listen = "127.0.0.1:20310"
serial = "exec:virsh console {name}"
hooks = { power-on = "echo on %(name)s" }
`

// memFiles reads files from a map, by their path under /etc/rack.
func memFiles(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("open %s: %w", p, fs.ErrNotExist)
	}
}

var exampleFiles = map[string]string{
	"/etc/rack/rack.toml":          exampleConfig,
	"/etc/rack/secrets/admin":      "s3cret\n",
	"/etc/rack/providers/qm.conf":  "[POWER]\nstatus=qm status %(name)s\n[CONSOLE]\nserial=unix-connect:/run/qm/%(name)s.serial\n",
	"/etc/rack/providers/old.hook": "power-on = echo on\n",
}

func exampleEnv() configEnv {
	return configEnv{readFile: memFiles(exampleFiles), defaultPassword: "password"}
}

func TestConfigExample(t *testing.T) {
	specs, err := loadConfig("/etc/rack/rack.toml", exampleEnv())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sp := range specs {
		got = append(got, fmt.Sprintf("%s %s %s %s", sp.Name, sp.Listen, sp.providerName(), sp.Serial))
	}
	want := []string{
		"vm1 127.0.0.1:20300 /etc/rack/providers/qm.conf unix-connect:/run/qm/vm1.serial",
		"vm2 127.0.0.1:20301 builtin unix-connect:/run/vms/vm2.sock",
		"node00 127.0.0.1:20310 hooks exec:virsh console node00",
		"node01 127.0.0.1:20311 hooks exec:virsh console node01",
		"node02 127.0.0.1:20312 hooks exec:virsh console node02",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("BMCs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	vm1, vm2, n0 := specs[0], specs[1], specs[2]
	if len(vm1.Users) != 2 || string(vm1.Users[0].Password) != "s3cret" || vm1.Users[1].MaxPrivilege != ipmi.PrivilegeOperator {
		t.Errorf("vm1 users %+v", vm1.Users)
	}
	if string(vm1.Kg) != "rackkey" || vm2.Kg != nil {
		t.Errorf("kg: vm1 %q, vm2 %q", vm1.Kg, vm2.Kg)
	}
	if fmt.Sprint(vm1.Suites) != "[3 17]" || vm1.History != 8192 || vm1.SessionTimeout != time.Minute {
		t.Errorf("vm1: suites %v, history %d, timeout %v", vm1.Suites, vm1.History, vm1.SessionTimeout)
	}
	if vm2.SessionTimeout != 30*time.Second || vm2.Faults.Drop != 0.1 || vm2.Faults.Seed != 7 || vm2.ChassisDelay != time.Second {
		t.Errorf("vm2: %+v", vm2)
	}
	if n0.Hooks["power-on"] != "echo on %(name)s" {
		t.Errorf("node00 hooks %v", n0.Hooks)
	}
	// --list of it: the provider's status command cannot run here (no
	// qm): its power says so.
	var out strings.Builder
	if err := printList(&out, specs[1:3]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "vm2     127.0.0.1  20301  builtin   on") {
		t.Errorf("--list:\n%s", out.String())
	}
}

// Errors name the file, and the line or the entry.
func TestConfigErrors(t *testing.T) {
	base := "[[bmc]]\nname = \"a\"\nlisten = \"127.0.0.1:1\"\n"
	for _, tc := range []struct{ text, want string }{
		{base + "serail = \"demo\"\n", "rack.toml:4: unknown key bmc.serail"},
		{"[defaults]\nlisen = \"x\"\n" + base, "rack.toml:2: unknown key defaults.lisen"},
		{base + "[bmc.faults]\ndorp = 1.0\n", "rack.toml:5: unknown key bmc.faults.dorp"},
		{"[[bmc]]\nname = \"a\"\n", `bmc 1 (a): needs listen`},
		{"[[bmc]]\nlisten = \"127.0.0.1:1\"\n", "bmc 1: needs a name"},
		{base + base, `two BMCs are called "a"`},
		{base + "[[bmc]]\nname = \"b\"\nlisten = \"127.0.0.1:1\"\n", `BMCs "a" and "b" both listen on 127.0.0.1:1`},
		{base + "serial = \"tcp\"\n", "needs an address"},
		{base + "cipher_suites = [0, 99]\n", "suite 99 not implemented"},
		{base + "users = [{ name = \"x\" }]\n", "user x needs password or password_file"},
		{base + "users = [{ name = \"x\", password = \"123456789012345678901\" }]\n", "longer than 20 bytes"},
		{base + "users = [{ name = \"x\", password_file = \"nope\" }]\n", "/etc/rack/nope"},
		{base + "provider = \"providers/qm.conf\"\nhooks = { power-on = \"x\" }\n", "provider or hooks, not both"},
		{base + "hooks = { power-up = \"x\" }\n", `unknown hook "power-up"`},
		{base + "session_timeout = \"soon\"\n", "rack.toml"},
		{"[[range]]\ncount = 2\nname = \"same\"\nlisten = \"127.0.0.1:1\"\n", "integer verb"},
		{"[[range]]\ncount = 0\nlisten = \"127.0.0.1:1\"\n", "count must be 1 to 65535"},
		{"[[range]]\ncount = 2\n", "needs listen"},
		{"", "no [[bmc]] or [[range]]"},
		{"[[bmc]\n", "rack.toml:2:"},
	} {
		_, err := parseConfig("/etc/rack/rack.toml", []byte(tc.text), exampleEnv())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}

// The old KEY = COMMAND hook file works as a provider in a config too.
func TestConfigOldHookProvider(t *testing.T) {
	specs, err := parseConfig("/etc/rack/rack.toml", []byte("[[bmc]]\nname = \"a\"\nlisten = \"127.0.0.1:0\"\nprovider = \"providers/old.hook\"\n"), exampleEnv())
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].Provider != nil || specs[0].Hooks["power-on"] != "echo on" {
		t.Fatalf("%+v", specs[0])
	}
}

// FuzzParseConfig: any file decodes to BMCs or an error, never a panic,
// and the BMCs it gives are valid (named, listening somewhere, one
// user at least).
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(exampleConfig))
	f.Add([]byte("[[bmc]]\nname = \"a\"\nlisten = \"127.0.0.1:0\"\n"))
	f.Add([]byte("[[range]]\ncount = 4\nlisten = \"127.0.0.1:20000\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := parseConfig("/etc/rack/rack.toml", data, exampleEnv())
		if err != nil {
			return
		}
		for _, sp := range specs {
			if sp.Name == "" || sp.Listen == "" || len(sp.Users) == 0 {
				t.Fatalf("invalid BMC %+v from %q", sp, data)
			}
		}
	})
}

// FuzzParseProvider: any provider file parses or fails, and a parsed INI
// provider's commands all substitute.
func FuzzParseProvider(f *testing.F) {
	if b, err := os.ReadFile("testdata/shipmi/vm.conf"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("power-on = echo on\n"))
	f.Add([]byte("[CONSOLE]\nexec = virsh console %(name)s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseProviderFile("p.conf", data)
		if err != nil || p.ini == nil {
			return
		}
		for k, v := range p.ini.Power {
			if _, err := substitute(v, map[string]string{"name": "n", "bootdev": "hd", "boot_device": "hd"}); err != nil {
				t.Fatalf("[POWER] %s = %q parsed but does not substitute: %v", k, v, err)
			}
		}
	})
}
