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
closes the sessions, stops the host and exits 0.`

	manProvider = `--provider FILE reads KEY = COMMAND lines, one hook each; KEY is one of the
*-cmd flags without -cmd (power-on, power-off, power-cycle, power-reset, power-soft,
power-diag, bootdev). Empty lines and lines starting with # are skipped. A hook runs
while the BMC goes on serving every other request and the console; the change takes
effect, and the request is answered, when it ends.`

	manExitStatus = `0 after --help, or when ended by a signal; 2 for a bad flag or argument, an address
that cannot be listened on, a serial host that cannot be started, or a provider
file that cannot be read.`

	manSeeAlso = `ghmicons(1), ipmitool(1), ipmiconsole(8), ipmi_sim(1)`
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
	{Term: "GHMICONS_ACTION", Text: "set for a power hook: on, off, cycle, reset, soft or diag"},
	{Term: "GHMICONS_BOOTDEV, GHMICONS_BOOT_PERSISTENT, GHMICONS_BOOT_EFI", Text: "set for the bootdev hook: the device (none, pxe, disk, safe, diag, cdrom, bios) and true or false"},
}

var examples = docgen.Literal{
	"fakebmc --listen 127.0.0.1:9623 --user admin --password password",
	"ipmitool -I lanplus -H 127.0.0.1 -p 9623 -U admin -P password -C 17 chassis power status",
	"ghmicons -H 127.0.0.1:9623 -U admin -P password",
	"fakebmc --serial 'exec:/usr/sbin/sshd -i -f sshd_config' --power-cycle-cmd 'logger cycled'",
	"fakebmc --drop 0.1 --delay 50ms --seed 7 --verbose",
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
			{Title: "Hooks", Blocks: []docgen.Block{docgen.Para(hooksHelp), docgen.Para(manProvider)}},
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
