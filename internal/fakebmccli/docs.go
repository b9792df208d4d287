package fakebmccli

import (
	"fmt"
	"strings"

	"github.com/ghmicons/ghmicons/internal/docgen"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// manDate is the date on the man page; change it with the page's text.
const manDate = "2026-12-02"

// Text only the man page has (--help has the summary, the flags and
// hooksHelp, which the page takes as they are).
const (
	manDescription = `fakebmc serves RMCP+ ("lanplus") on a UDP port: session setup with cipher
suites 1, 2, 3, 15, 16 and 17 (0 only if listed), users with their privileges, a BMC key
K_g, Get Chassis Status, Chassis Control, boot options that read back what was set,
and a Serial-over-LAN console connected to a simulated host. It is the BMC the
ghmicons tests use, as a command for trying ghmicons, ipmitool, FreeIPMI or pyghmi
without hardware, and for experiments with a lossy network or a misbehaving BMC.`

	manDescription2 = `It logs one line when it starts (and, with --verbose, one per session event
and request) to standard error. It runs until SIGINT, SIGTERM or SIGHUP and then
closes the sessions, stops the host and exits 0; with --config, SIGHUP reloads
the file instead.`

	manRack = `--count N serves N identical BMCs from one process, on consecutive UDP ports
from --listen, named by --name-pattern (numbered from 1); {name} or %(name)s in
--serial and in hook commands is each BMC's name. --config FILE serves the BMCs a
TOML file describes. --list prints the rack's table (name, address, port,
provider, power, serial) and exits without serving. Each BMC keeps up to
--history bytes of serial output produced while no console is attached and
replays them to the console that activates SOL.`

	manConfig = `The file has a [defaults] table with what every BMC has unless it says
otherwise, any number of [[bmc]] tables (name and listen required), and any
number of [[range]] tables of count identical BMCs (name is a printf pattern,
default bmc%d; first, default 1; listen is the first address). Keys of a BMC:
listen, users (an array of {name, password or password_file, privilege}), kg or
kg_hex, cipher_suites, provider, hooks (a table of the *-cmd hooks by key),
serial, history, sol_inbound, session_timeout, hook_timeout ("5s"),
no_cipher_suite_list, reject_boot_param0, faults (drop, duplicate, reorder,
corrupt, delay, seed, chassis_delay). Relative paths are relative to the file's
folder. An unknown key is an error naming it and its line. Without users, a BMC
has admin with the password of FAKEBMC_PASSWORD, else password. On SIGHUP the
file is read again: BMCs no longer in it stop, new ones start, changed ones
restart, and the others keep their sessions; a file that does not decode changes
nothing.`

	manShipmi = `A provider file whose first line that is not blank or a comment is a
[SECTION] is a shipmi provider, used unchanged: [POWER] status, on, off,
shutdown, reset, diag (and fakebmc's cycle; else off then on), [BOOT] get, set,
and fakebmc's [CONSOLE] exec = COMMAND or serial = SERIAL, the BMC's serial host
when it sets none itself. Commands run with sh -c in the provider's folder after
%(name)s and %(bootdev)s (or %(boot_device)s) are substituted. status prints on
or off (1 or 0) and is run for every Get Chassis Status; get prints the boot
device, run for every read of the boot flags; boot devices are named network,
hd and optical, as shipmi names them. A command that fails answers 0xD5, one
that runs past --hook-timeout is killed and answers 0xC3, output that is not a
state or a device and a device shipmi has no name for answer 0xCC, and a power or
boot command arriving while another runs answers 0xC0 (IPMI v2.0 section 5.2,
table 5-2). Commands never run under the BMC's lock: it goes on serving
meanwhile.`

	manProvider = `--provider FILE is a shipmi provider (see SHIPMI PROVIDERS) or reads
KEY = COMMAND lines, one hook each; KEY is one of the
*-cmd flags without -cmd (%s). Empty lines and lines starting with # are skipped. A hook runs
while the BMC goes on serving every other request and the console; the change takes
effect, and the request is answered, when it ends.`

	manExitStatus = `0 after --help, or when ended by a signal; 2 for a bad flag or argument, an address
that cannot be listened on, a serial host that cannot be started, a provider
file that cannot be read, or a configuration file that cannot be read or used
(also after --list). A failed reload is logged and changes nothing.`

	manSeeAlso = `ghmicons(1), ipmitool(1), ipmiconsole(8), ipmi_sim(1), shipmi, docs/fakebmc-rack.md`
)

// serialHosts are the --serial values.
var serialHosts = docgen.List{
	{Term: "demo", Text: "a simulated machine: a boot log that names the boot device, a login prompt (any user name and password) and a small shell (help)"},
	{Term: "echo", Text: "echoes what it receives"},
	{Term: "exec:COMMAND", Text: "runs COMMAND (sh -c; cmd /C on Windows) with its standard input and output as the serial line, in a process group of its own: started at power on, killed with all it started at power off and when fakebmc exits, and started again when it exits by itself, 1 s later, the pause doubling up to 30 s while it keeps exiting without having been given console input"},
	{Term: "tcp:ADDR, unix:PATH", Text: "listens there; the program that connects is the host"},
	{Term: "pty", Text: "creates a pseudo-terminal and prints its path (Linux, macOS, FreeBSD)"},
	{Term: "unix-connect:PATH, tcp-connect:ADDR", Text: "connects there as a client: the serial port of a virtual machine, a QEMU chardev socket (-serial unix:PATH,server=on,wait=off) or libvirt's <serial type='unix'> in bind mode; when the connection ends (the VM restarts) it connects again, 100 ms later, the pause doubling up to 5 s while it keeps failing"},
}

var environment = docgen.List{
	{Term: "FAKEBMC_PASSWORD", Text: "the password of --user, unless --password is given"},
	{Term: "GHMICONS_ACTION", Text: "set for a power hook: " + orList(hookActions)},
	{Term: "GHMICONS_BOOTDEV, GHMICONS_BOOT_PERSISTENT, GHMICONS_BOOT_EFI", Text: "set for the bootdev hook: the device (" +
		strings.Join(bootDevices(), ", ") + ") and true or false"},
}

// orList is "on, off … or diag".
func orList(actions []ipmi.ChassisAction) string {
	var w []string
	for _, a := range actions {
		w = append(w, a.String())
	}
	return strings.Join(w[:len(w)-1], ", ") + " or " + w[len(w)-1]
}

// bootDevices are the names of the boot devices (IPMI v2.0 §28.12).
func bootDevices() (names []string) {
	for d := ipmi.BootNone; d <= ipmi.BootBIOS; d++ {
		names = append(names, d.String())
	}
	return names
}

var examples = docgen.Literal{
	"fakebmc --listen 127.0.0.1:9623 --user admin --password password",
	"ipmitool -I lanplus -H 127.0.0.1 -p 9623 -U admin -P password -C 17 chassis power status",
	"ghmicons -H 127.0.0.1:9623 -U admin -P password",
	"fakebmc --serial 'exec:/usr/sbin/sshd -i -f sshd_config' --power-cycle-cmd 'logger cycled'",
	"fakebmc --drop 0.1 --delay 50ms --seed 7 --verbose",
	"fakebmc --count 256 --listen 127.0.0.1:20000 --name-pattern 'node%03d' --serial 'unix-connect:/run/vms/{name}.sock'",
	"fakebmc --config rack.toml --list",
	"fakebmc --config rack.toml & kill -HUP $!",
}

// ManPage is fakebmc(1).
func ManPage() []byte {
	return docgen.Man(docgen.Page{
		Name: "fakebmc", Section: "1", Date: manDate, Source: "ghmicons", Manual: "User Commands",
		Summary:  strings.TrimSuffix(strings.ToLower(Summary[:1])+Summary[1:], "."),
		Synopsis: []string{"fakebmc [flags]"},
		Sections: []docgen.Section{
			{Title: "Description", Blocks: []docgen.Block{docgen.Para(manDescription), docgen.Para(manDescription2)}},
			{Title: "Options", Blocks: []docgen.Block{docgen.Options(docgen.Flags(FlagSet()))}},
			{Title: "Serial hosts", Blocks: []docgen.Block{docgen.Para("--serial chooses the host behind the serial line:"), serialHosts}},
			{Title: "Racks", Blocks: []docgen.Block{docgen.Para(manRack)}},
			{Title: "Configuration file", Blocks: []docgen.Block{docgen.Para(manConfig)}},
			{Title: "Hooks", Blocks: []docgen.Block{docgen.Para(hooksHelp), docgen.Para(fmt.Sprintf(manProvider, strings.Join(hookKeys, ", ")))}},
			{Title: "Shipmi providers", Blocks: []docgen.Block{docgen.Para(manShipmi)}},
			{Title: "Environment", Blocks: []docgen.Block{environment}},
			{Title: "Exit status", Blocks: []docgen.Block{docgen.Para(manExitStatus)}},
			{Title: "Examples", Blocks: []docgen.Block{examples}},
			{Title: "See also", Blocks: []docgen.Block{docgen.Para(manSeeAlso)}},
		},
	})
}

// completion describes fakebmc for its shell completion.
func completion() docgen.Completion {
	var suites []string
	for _, id := range ipmi.SupportedCipherSuites() {
		suites = append(suites, fmt.Sprint(id))
	}
	v := map[string]docgen.Values{
		"provider":      {Files: true},
		"config":        {Files: true},
		"serial":        {Words: []string{"demo", "echo", "exec:", "tcp:", "unix:", "pty", "tcp-connect:", "unix-connect:"}},
		"cipher-suites": {Words: []string{strings.Join(suites, ",")}},
	}
	for _, k := range hookKeys {
		v[k+"-cmd"] = docgen.Values{Commands: true}
	}
	return docgen.Completion{Program: "fakebmc", Flags: docgen.Flags(FlagSet()), Values: v}
}

// Docs returns the generated files for fakebmc, by path from the
// repository's root.
func Docs() map[string][]byte {
	c := completion()
	return map[string][]byte{
		"man/fakebmc.1":            ManPage(),
		"completions/bash/fakebmc": docgen.Bash(c),
		"completions/zsh/_fakebmc": docgen.Zsh(c),
	}
}
