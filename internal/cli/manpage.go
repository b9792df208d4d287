package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ghmicons/ghmicons/internal/docgen"
	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The man page ghmicons(1) and the bash and zsh completion are generated
// from the FlagSet that parseOptions builds (so every flag, its value name,
// default and text are those of --help), from the texts --help prints
// (usageHead(), environmentHelp, exitCodesHelp) and from escape.HelpText,
// which ~? prints. internal/tools/gendocs writes them into man/ and
// completions/; TestManPageUpToDate fails when the committed files differ.

// manDate is the date on the man page; change it with the page's text.
const manDate = "2026-12-02"

// environmentHelp is printed by --help and is the man page's ENVIRONMENT
// section.
const environmentHelp = `Environment:
  IPMI_PASSWORD      the password, with -E
  IPMITOOL_PASSWORD  the password, with -E, when IPMI_PASSWORD is not set
  IPMI_KGKEY         the BMC key K_g, with -K (text, or hex after 0x)`

// Text only the man page has.
const (
	manDescription = `ghmicons attaches to the serial console of a machine through its baseboard
management controller (BMC), over IPMI 2.0 Serial-over-LAN in an RMCP+ ("lanplus")
session: what ipmitool sol activate and FreeIPMI's ipmiconsole do. It never loses or
repeats a character, survives lossy networks, BMC reboots and BMCs that misbehave, and
always gives the terminal back. Through the same session it powers the machine on,
off or through a cycle and chooses its boot device, from the command line or from
the console's command prompt (~C).`

	manDescription2 = `Without a command ghmicons attaches to the console. On a terminal it puts the
terminal in raw mode and reads escapes (see ESCAPES). When standard input and output
are not a terminal it is a binary-clean pipe: console bytes only on standard output,
messages on standard error, escapes off unless -e is given; end of input ends the
session once the BMC has taken every byte and has sent nothing for its whole
retransmission span, unless --keep-open is given. This is how conserver (a console of
type exec), ssh (a ProxyCommand or a forced command) and logging scripts use it.`

	manDescription3 = `Every flag is checked before a password is asked for or a datagram sent; a value
out of range is a usage error (exit status 2), never silently clamped. The password
never has to be on the command line: -E takes it from the environment, -f from a
file, and on a terminal ghmicons prompts for it. -P, -k and -y work but warn, since
other users can see them. By default an active console is taken over; --no-steal
makes that an error instead. SIGINT, SIGTERM, SIGHUP and SIGQUIT end ghmicons in
every state with the session closed and the terminal restored (exit status 8); a
second signal stops waiting for the BMC.`

	manEscapes2 = `Off, cycle, reset and diag at the ~C prompt ask for confirmation. -e sets another
escape character (one character, ^X for a control character) or none; when standard
input is not a terminal escapes are off unless -e is given.`

	manFiles = `ghmicons reads no configuration file. The files it uses are those named on its
command line: the password file (-f) and the K_g file (--kg-file), of which only
the first line counts; the log (--log), appended to, with connects, disconnects,
power actions and the final error as lines of their own starting with [ghmicons];
and the protocol trace (--debug=FILE), which never shows key-exchange codes or
randoms.`

	manSeeAlso = `fakebmc(1), ipmitool(1), ipmiconsole(8), conserver(8). The notes in the source
tree's docs/ directory describe what ghmicons does in each situation and why.`
)

// manCommands describes the commands usageHead lists without a text, by
// their first two words.
//
// TODO(lead): take these from the command table's usage texts.
var manCommands = map[string]string{
	"power on|off|cycle|reset|soft|diag|status": "power the machine on or off, power-cycle it, reset it, shut it " +
		"down through ACPI (soft) or send it a diagnostic interrupt (diag, an NMI); status prints whether it is on",
	"bootdev none|pxe|disk|safe|diag|cdrom|bios": "choose the device the machine boots from next: none (no override), " +
		"pxe, disk, safe (the disk in safe mode), diag (the diagnostic partition), cdrom or bios (BIOS setup); " +
		"persistent keeps it for every boot, efi asks for an EFI boot",
	"bootdev status": "print the boot device the BMC holds, with its persistent and EFI flags",
}

// helpBlock returns the lines of the block of help text that starts with
// the line heading (e.g. "Usage:"), up to the next blank line.
func helpBlock(text, heading string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case line == heading:
			in = true
		case in && strings.TrimSpace(line) == "":
			return out
		case in:
			out = append(out, line)
		}
	}
	return out
}

// helpList reads "  TERM  TEXT" lines (TEXT after two or more spaces,
// continued on lines indented further) as a list; lines without indent end
// it and are returned as notes.
func helpList(lines []string) (list docgen.List, notes []string) {
	for _, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		switch {
		case indent == 0:
			notes = append(notes, trimmed)
		case indent > 2 && len(list) > 0:
			list[len(list)-1].Text += " " + trimmed
		default:
			term, text, _ := strings.Cut(trimmed, "  ")
			list = append(list, docgen.Item{Term: term, Text: strings.TrimSpace(text)})
		}
	}
	return list, notes
}

// escapeList is the ~? help as a list.
func escapeList() (list docgen.List, notes []string) {
	for _, line := range strings.Split(escape.HelpText('~', promptSummary()), "\n") {
		if strings.HasPrefix(line, "~") {
			term, text, _ := strings.Cut(line, " ")
			list = append(list, docgen.Item{Term: term, Text: strings.TrimSpace(text)})
		} else if !strings.HasSuffix(line, ":") {
			notes = append(notes, strings.TrimSuffix(strings.TrimPrefix(line, "("), ")"))
		}
	}
	return list, notes
}

// helpFlags returns the FlagSet of --help.
func helpFlags() []docgen.Flag {
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		panic("cli: the default options do not parse: " + err.Error())
	}
	return docgen.Flags(o.fs)
}

// ManPage is ghmicons(1).
func ManPage() []byte {
	summary, _ := strings.CutPrefix(strings.SplitN(usageHead(), "\n", 2)[0], "ghmicons: ")
	// TODO(lead): derive SYNOPSIS and COMMANDS from the command table once
	// the engine has it; today they are read from usageHead's Usage block.
	forms, formNotes := helpList(helpBlock(usageHead(), "Usage:"))
	var synopsis []string
	for _, f := range forms {
		synopsis = append(synopsis, f.Term)
	}
	synopsis = append(synopsis, "ghmicons serve --config FILE [--listen ADDR:PORT] [--host-key FILE]")
	var commands docgen.List
	for _, f := range forms {
		words, ok := strings.CutPrefix(f.Term, "ghmicons [flags] ")
		if !ok {
			continue // attaching, --demo: see DESCRIPTION and OPTIONS
		}
		if f.Text == "" {
			f.Text = manCommands[strings.Join(strings.Fields(words)[:min(2, len(strings.Fields(words)))], " ")]
		}
		commands = append(commands, docgen.Item{Term: words, Text: f.Text})
	}
	examples := docgen.Literal(trimAll(helpBlock(usageHead(), "Examples:")))
	escapes, escapeNotes := escapeList()
	env, _ := helpList(helpBlock(environmentHelp, "Environment:"))
	exits, _ := helpList(helpBlock(exitCodesHelp, "Exit codes:"))
	commandsSection := []docgen.Block{docgen.Para(`Without a command ghmicons attaches to the console. A command is run through
its own session, printed and done; its result is the exit status.`), commands}
	for _, n := range formNotes {
		commandsSection = append(commandsSection, docgen.Para(n))
	}
	escapeSection := []docgen.Block{docgen.Para(strings.Join(escapeNotes, " ")), escapes, docgen.Para(manEscapes2)}
	return docgen.Man(docgen.Page{
		Name: "ghmicons", Section: "1", Date: manDate, Source: "ghmicons", Manual: "User Commands",
		Summary:  summary,
		Synopsis: synopsis,
		Sections: []docgen.Section{
			{Title: "Description", Blocks: []docgen.Block{docgen.Para(manDescription), docgen.Para(manDescription2), docgen.Para(manDescription3)}},
			{Title: "Commands", Blocks: commandsSection},
			{Title: "Options", Blocks: []docgen.Block{docgen.Options(helpFlags())}},
			{Title: "Escapes", Blocks: escapeSection},
			serveManSection(),
			{Title: "Environment", Blocks: []docgen.Block{env}},
			{Title: "Files", Blocks: []docgen.Block{docgen.Para(manFiles)}},
			{Title: "Exit status", Blocks: []docgen.Block{exits}},
			{Title: "Examples", Blocks: []docgen.Block{examples}},
			{Title: "See also", Blocks: []docgen.Block{docgen.Para(manSeeAlso)}},
		},
	})
}

func trimAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// completion describes ghmicons for its shell completion.
//
// TODO(lead): take Commands from the engine's command table.
func completion() docgen.Completion {
	var suites, privs, actions, devices []string
	for _, id := range ipmi.SupportedCipherSuites() {
		if id != 0 { // only with --insecure-cipher-suite-0: not offered
			suites = append(suites, fmt.Sprint(id))
		}
	}
	for p := ipmi.PrivilegeCallback; p <= ipmi.PrivilegeAdministrator; p++ {
		privs = append(privs, p.String())
	}
	for _, a := range []ipmi.ChassisAction{ipmi.PowerOn, ipmi.PowerOff, ipmi.PowerCycle, ipmi.HardReset, ipmi.SoftShutdown, ipmi.DiagInterrupt} {
		actions = append(actions, a.String())
	}
	for d := ipmi.BootNone; d <= ipmi.BootBIOS; d++ {
		devices = append(devices, d.String())
	}
	return docgen.Completion{
		Program: "ghmicons",
		Flags:   helpFlags(),
		Values: map[string]docgen.Values{
			"host":          {Hosts: true},
			"password-file": {Files: true},
			"kg-file":       {Files: true},
			"log":           {Files: true},
			"debug":         {Files: true},
			"cipher-suite":  {Words: suites},
			"privilege":     {Words: privs},
			"interface":     {Words: []string{"lanplus"}},
			"escape":        {Words: []string{"~", "^]", "none"}},
			"bootdev":       {Words: devices},
			"power":         {Words: actions},
		},
		Commands: []docgen.Command{
			{Name: "power", Args: [][]string{slices.Concat(actions, []string{"status"})}},
			{Name: "bootdev", Args: [][]string{slices.Concat(devices, []string{"status"}), {"persistent", "efi"}}, Repeat: true},
			{Name: "info"},
		},
	}
}

// Docs returns the generated files for ghmicons, by path from the
// repository's root.
func Docs() map[string][]byte {
	c := completion()
	return map[string][]byte{
		"man/ghmicons.1":            ManPage(),
		"completions/bash/ghmicons": docgen.Bash(c),
		"completions/zsh/_ghmicons": docgen.Zsh(c),
	}
}
