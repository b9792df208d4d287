package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/ghmicons/ghmicons/internal/docgen"
	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The man page ghmicons(1) and the bash and zsh completion are generated
// from the FlagSet that parseOptions builds (so every flag, its value name,
// default and text are those of --help), from the texts --help prints
// (usageHead(), environmentHelp, exitCodesHelp), from escape.HelpText,
// which ~? prints, and from the command table (pkg/command): SYNOPSIS,
// COMMANDS and the completion's command words are its rows, so that no
// list of commands is written out here. internal/tools/gendocs writes them into man/ and
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
retransmission span, unless --keep-open is given. When the reader of standard output
goes away (a pipe's reader, a socket's peer, a pty's master), ghmicons closes the
session and exits 1 without waiting for something to write. This is how conserver (a
console of type exec), ssh (a ProxyCommand or a forced command) and logging scripts
use it.`

	manDescription3 = `Every flag is checked before a password is asked for or a datagram sent; a value
out of range is a usage error (exit status 2), never silently clamped. The password
never has to be on the command line: -E takes it from the environment, -f from a
file, and on a terminal ghmicons prompts for it. -P, -k and -y work but warn, since
other users can see them. By default an active console is taken over; --no-steal
makes that an error instead. SIGINT, SIGTERM, SIGHUP and SIGQUIT end ghmicons in
every state with the session closed and the terminal restored (exit status 8); a
second signal stops waiting for the BMC.`

	manEscapes2 = `-e sets another escape character (one character, ^X for a control character) or
none; when standard input is not a terminal escapes are off unless -e is given.`

	manFiles = `ghmicons reads no configuration file. The files it uses are those named on its
command line: the password file (-f) and the K_g file (--kg-file), of which only
the first line counts; the log (--log), appended to, with connects, disconnects,
power actions and the final error as lines of their own starting with [ghmicons];
and the protocol trace (--debug=FILE), which never shows key-exchange codes or
randoms.`

	manScripted = `--send, --expect and --script drive the console without a terminal, for
pipelines: ghmicons attaches, runs --bootdev and --power, then the steps (each --send,
--expect and --print in command-line order, or the statements of the script FILE), and exits 0
once they are done and the BMC has taken the input. An expect waits for a regular
expression (RE2 syntax) in the output since the previous match, escape sequences left
out; --expect-timeout bounds each wait, and when one passes ghmicons prints the last
20 lines of output on standard error and exits 9. Standard input is not read and
escapes are off. The console output still goes to standard output (unless
--quiet-console) and to --log. A script has one statement a line: send "TEXT",
expect /REGEX/ [timeout DURATION], delay DURATION, timeout DURATION, print "TEXT"
(to standard output), # comments, and the ~C prompt's commands (power cycle, bootdev
pxe, break); TEXT takes the escapes \r \n \t \e \xHH and the captures $1 and
${name} of earlier expects, and ${env:NAME}. The source tree's docs/expect.md
describes the language.`

	manFleet = `-H takes a hostlist as pdsh and FreeIPMI write them (node[01-64]-bmc,node[100-110]:
ranges keep their zero padding; host:port and [IPv6]:port entries; 10.0.0.1:[28000-28255]
gives ports), -H @FILE or --hostfile FILE a file of hosts, one a line, # comments. A
command then runs on every host in parallel, at most --fanout at once, each with its
own session; each host's result is one line, HOST: RESULT (on, off, ok, or the
command's output), printed in the hostlist's order. A failure is HOST: error: WHY,
which no script can read as a state. With --wait, power on, off, cycle, reset and
soft return once the BMC reports the new state (bounded by --wait-timeout). The exit
status is 0 when every host succeeded, else the failed hosts' status when they share
one (4: all unreachable), else 1; standard error names the failed hosts. --powerman
serves the hosts to powermand as a coprocess device (scripts/powerman/ghmicons.dev,
docs/powerman.md): commands stat, on, off, cycle and reset with a hostlist on standard
input, one line per host back, then the prompt "ghmicons> ".`

	manSeeAlso = `fakebmc(1), ipmitool(1), ipmiconsole(8), ipmipower(8), powerman(1), powermand(8), conserver(8). The notes in the source
tree's docs/ directory describe what ghmicons does in each situation and why.`
)

// manCommands is the COMMANDS list: every form of every one-shot command
// of the table, with its Doc (or its Help).
func manCommands() docgen.List {
	var list docgen.List
	for _, r := range command.Rows() {
		if !r.OneShot {
			continue
		}
		for i, u := range r.Usage {
			text := r.Help
			if i < len(r.Doc) {
				text = r.Doc[i]
			}
			list = append(list, docgen.Item{Term: u, Text: text})
		}
	}
	return list
}

// manConfirm says which prompt commands ask first, from the table.
func manConfirm() string {
	var d []string
	for _, r := range command.Rows() {
		if r.Prompt && r.Destructive != "" {
			d = append(d, r.Destructive)
		}
	}
	return "At the ~C prompt " + strings.Join(d, "; ") + " ask for confirmation."
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
	var synopsis []string
	for _, f := range usageForms() {
		synopsis = append(synopsis, f.Term)
	}
	synopsis = append(synopsis, "ghmicons serve --config FILE [--listen ADDR:PORT] [--host-key FILE]")
	examples := docgen.Literal(trimAll(helpBlock(usageHead(), "Examples:")))
	escapes, escapeNotes := escapeList()
	env, _ := helpList(helpBlock(environmentHelp, "Environment:"))
	exits, _ := helpList(helpBlock(exitCodesHelp, "Exit codes:"))
	commandsSection := []docgen.Block{docgen.Para(`Without a command ghmicons attaches to the console. A command is run through
its own session, printed and done; its result is the exit status.`), manCommands(), docgen.Para(caseNote)}
	escapeSection := []docgen.Block{docgen.Para(strings.Join(escapeNotes, " ")), escapes,
		docgen.Para(manConfirm() + " " + manEscapes2)}
	return docgen.Man(docgen.Page{
		Name: "ghmicons", Section: "1", Date: manDate, Source: "ghmicons", Manual: "User Commands",
		Summary:  summary,
		Synopsis: synopsis,
		Sections: []docgen.Section{
			{Title: "Description", Blocks: []docgen.Block{docgen.Para(manDescription), docgen.Para(manDescription2), docgen.Para(manDescription3)}},
			{Title: "Commands", Blocks: commandsSection},
			{Title: "Many hosts", Blocks: []docgen.Block{docgen.Para(manFleet)}},
			{Title: "Options", Blocks: []docgen.Block{docgen.Options(helpFlags())}},
			{Title: "Escapes", Blocks: escapeSection},
			{Title: "Scripted consoles", Blocks: []docgen.Block{docgen.Para(manScripted)}},
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

// completion describes ghmicons for its shell completion; the commands and
// the values of --power and --bootdev are the command table's.
func completion() docgen.Completion {
	var suites, privs []string
	for _, id := range ipmi.SupportedCipherSuites() {
		if id != 0 { // only with --insecure-cipher-suite-0: not offered
			suites = append(suites, fmt.Sprint(id))
		}
	}
	for p := ipmi.PrivilegeCallback; p <= ipmi.PrivilegeAdministrator; p++ {
		privs = append(privs, p.String())
	}
	var commands []docgen.Command
	for _, r := range command.Rows() {
		if r.OneShot {
			commands = append(commands, docgen.Command{Name: r.Name, Args: r.Args, Repeat: r.RepeatArgs})
		}
	}
	return docgen.Completion{
		Program: "ghmicons",
		Flags:   helpFlags(),
		Values: map[string]docgen.Values{
			"host":          {Hosts: true},
			"password-file": {Files: true},
			"kg-file":       {Files: true},
			"log":           {Files: true},
			"script":        {Files: true},
			"debug":         {Files: true},
			"cipher-suite":  {Words: suites},
			"privilege":     {Words: privs},
			"interface":     {Words: []string{"lanplus"}},
			"escape":        {Words: []string{"~", "^]", "none"}},
			"bootdev":       {Words: attachWords("bootdev")},
			"power":         {Words: attachWords("power")},
		},
		Commands: commands,
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
