package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Scope says where a command is offered; a row may have several.
type Scope uint8

// Scopes.
const (
	// OneShot: on the command line (ghmicons [flags] CMD …) and to tools that
	// run a command on many BMCs; the target is a plain session.
	OneShot Scope = 1 << iota
	// Prompt: at a console's command prompt (~C); the target is a console.
	Prompt
)

// Target is what a command runs on: a session for a one-shot command
// (OnSession), or a *console.Console, which runs it through the session it
// has and says console.ErrNotConnected while it has none.
type Target interface {
	Do(ctx context.Context, fn func(ctx context.Context, s *ipmi.Session) error) error
}

// ConsoleTarget is a Target with a console behind it: what break and status
// need. *console.Console is one.
type ConsoleTarget interface {
	Target
	SendBreak() error
	Stats() console.Stats
}

// OnSession makes a target of an established session.
func OnSession(s *ipmi.Session) Target { return sessionTarget{s} }

type sessionTarget struct{ s *ipmi.Session }

func (t sessionTarget) Do(ctx context.Context, fn func(ctx context.Context, s *ipmi.Session) error) error {
	return fn(ctx, t.s)
}

// ErrNeedsConsole: a console command (break, status) given a plain session.
var ErrNeedsConsole = errors.New("command: this command needs a console")

// Command is one row of the table: everything a front end needs to offer,
// parse, explain and run a command.
type Command struct {
	// Name is the first word. Aliases are other first words for it.
	Name    string
	Aliases []string
	// Usage lists the forms of the command, each a line starting with the
	// name ("bootdev DEV [persistent] [efi]"); Synopsis is all of them in
	// one short line, for lists.
	Usage    []string
	Synopsis string
	// Help says in one line what the command does.
	Help string
	// Doc says at length what each form of Usage does (Doc[i] is
	// Usage[i]'s), for the man page; nil: Help says it.
	Doc []string
	// Args lists the words each argument can be, by position, for
	// completion (Tab at the prompt, the shell's); with RepeatArgs the last
	// list serves every later argument too. A line that is a whole form of
	// Usage ("bootdev status") takes no more words.
	Args       [][]string
	RepeatArgs bool
	// Destructive says which forms ask y/N at a prompt (Call.Destructive
	// decides for a parsed call).
	Destructive string
	// Scope says where the command is offered.
	Scope Scope
	// Local commands need no request to the BMC (help, break): a front end
	// runs them at once, in order with the input around them.
	Local bool

	parse func(c *Command, args []string) (*Call, error)
}

// complete returns the words argument len(args) can be, after args.
func (c *Command) complete(args []string) []string {
	if slices.Contains(c.Usage, strings.Join(append([]string{c.Name}, args...), " ")) {
		return nil // a whole form
	}
	switch i := len(args); {
	case i < len(c.Args):
		return c.Args[i]
	case c.RepeatArgs && len(c.Args) > 0:
		return c.Args[len(c.Args)-1]
	}
	return nil
}

// Call is a parsed command, ready to run.
type Call struct {
	Command *Command
	Words   []string // as typed
	// Destructive calls change the machine in a way that loses its state
	// (power off, cycle, reset, diag): a prompt asks Question first.
	Destructive bool
	Question    string

	// The arguments, typed.
	Status bool // power status, bootdev status
	Action ipmi.ChassisAction
	Boot   ipmi.BootFlags

	run func(ctx context.Context, c *Call, t Target) (Result, error)
}

// String is the call as a line ("power cycle").
func (c *Call) String() string { return strings.Join(c.Words, " ") }

// Run runs the call on t. On failure the error says why, and Result.Note
// says what failed for a console.
func (c *Call) Run(ctx context.Context, t Target) (Result, error) {
	r, err := c.run(ctx, c, t)
	r.Call = c
	return r, err
}

// PowerState is the host's power as the BMC reports it.
type PowerState int

// Power states.
const (
	PowerUnknown PowerState = iota
	PowerOff
	PowerOn
)

func (p PowerState) String() string {
	switch p {
	case PowerOff:
		return "off"
	case PowerOn:
		return "on"
	}
	return "unknown"
}

func powerOf(on bool) PowerState {
	if on {
		return PowerOn
	}
	return PowerOff
}

// Result is what a call did, typed for tools that act on it (a fleet's
// "host: on" lines) and as text for the two kinds of front end.
type Result struct {
	Call *Call
	// Power is the host's power (power status; status when known).
	Power PowerState
	// Action is the power action sent (power on|off|…).
	Action ipmi.ChassisAction
	// Boot is the boot device read or set (bootdev).
	Boot ipmi.BootFlags
	// Device is the BMC's identity (info).
	Device *ipmi.DeviceID
	// Output is what a one-shot command prints, lines ending in "\n".
	Output string
	// Note is what a console says: a line (help and status: a few).
	Note string
	// Logged: the note belongs in the console's log (it changed the
	// machine, or failed to).
	Logged bool
}

// UsageError is a command line that does not parse; its text says what to
// give instead.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error { return &UsageError{fmt.Sprintf(format, args...)} }

// table is the vocabulary: every command of every front end, one row each
// (commands.go). Built in init, as help reads the table.
var table []*Command

// Commands returns the rows offered in scope s, in table order.
func Commands(s Scope) []*Command {
	var out []*Command
	for _, c := range table {
		if c.Scope&s != 0 {
			out = append(out, c)
		}
	}
	return out
}

// Lookup finds the row named (or aliased) name in scope s, any case.
func Lookup(s Scope, name string) *Command {
	name = strings.ToLower(name)
	for _, c := range Commands(s) {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}

// Parse reads a command line given as words, case-insensitively; messages
// quote the words as typed. Errors are *UsageError.
func Parse(s Scope, words []string) (*Call, error) {
	if len(words) == 0 {
		return nil, usagef("no command given")
	}
	c := Lookup(s, words[0])
	if c == nil {
		return nil, usagef("unknown command %q (want %s)", words[0], names(s))
	}
	call, err := c.parse(c, words[1:])
	if err != nil {
		return nil, err
	}
	call.Command = c
	call.Words = append([]string{c.Name}, lower(words[1:])...)
	return call, nil
}

// names is "power, bootdev or info".
func names(s Scope) string {
	var n []string
	for _, c := range Commands(s) {
		n = append(n, c.Name)
	}
	if len(n) == 0 {
		return "no command"
	}
	return list(n, "or")
}

// list is "a, b or c" (with and: "a, b and c").
func list(words []string, and string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + and + " " + words[len(words)-1]
}

// Names lists the names of the commands in scope s ("power, bootdev or
// info"), for messages.
func Names(s Scope) string { return names(s) }

func lower(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = strings.ToLower(w)
	}
	return out
}

// HelpText is what help prints at a prompt: the usage of every command in
// scope s, then how the prompt works.
func HelpText(s Scope) string {
	var b strings.Builder
	b.WriteString("Commands:")
	const col = 8 // a short usage and its help on one line
	for _, c := range Commands(s) {
		if len(c.Usage) == 1 && len(c.Usage[0]) <= col {
			fmt.Fprintf(&b, "\n  %-*s  %s", col, c.Usage[0], c.Help)
			continue
		}
		for _, u := range c.Usage {
			b.WriteString("\n  " + u)
		}
		b.WriteString("\n      " + c.Help)
	}
	if d := destructive(s); d != "" {
		b.WriteString("\n" + d + " ask y/N first.")
	}
	b.WriteString("\nEnter runs the command; Tab completes; Ctrl-C or an empty line cancels.")
	return b.String()
}

// destructive lists what asks y/N ("power off, cycle, reset and diag").
func destructive(s Scope) string {
	var d []string
	for _, c := range Commands(s) {
		if c.Destructive != "" {
			d = append(d, c.Destructive)
		}
	}
	return strings.Join(d, "; ")
}

// Summary lists the names of the commands in scope s in one line ("power,
// bootdev, break, status, help"), for escape help and usage texts.
func Summary(s Scope) string {
	var n []string
	for _, c := range Commands(s) {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// Complete returns the words that can complete the last word of line at a
// prompt of scope s: command names first, then each row's arguments.
func Complete(s Scope, line string) []string {
	words := strings.Fields(line)
	if len(words) == 0 || strings.TrimRightFunc(line, unicode.IsSpace) != line {
		words = append(words, "") // a new word begins
	}
	last := strings.ToLower(words[len(words)-1])
	var cands []string
	if len(words) == 1 {
		for _, c := range Commands(s) {
			cands = append(cands, c.Name)
		}
	} else if c := Lookup(s, words[0]); c != nil {
		cands = c.complete(lower(words[1 : len(words)-1]))
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, last) {
			out = append(out, c)
		}
	}
	return out
}

// Row is a command's description for documentation (man pages, --help).
type Row struct {
	Name        string
	Aliases     []string
	Usage       []string
	Synopsis    string
	Help        string
	Doc         []string // per form of Usage; nil: Help
	Args        [][]string
	RepeatArgs  bool
	Destructive string
	OneShot     bool // on the command line
	Prompt      bool // at the ~C prompt
}

// Rows describes every command of the table, for generated documentation.
func Rows() []Row {
	out := make([]Row, 0, len(table))
	for _, c := range table {
		out = append(out, Row{Name: c.Name, Aliases: c.Aliases, Usage: c.Usage, Synopsis: c.Synopsis, Help: c.Help,
			Doc: c.Doc, Args: c.Args, RepeatArgs: c.RepeatArgs, Destructive: c.Destructive,
			OneShot: c.Scope&OneShot != 0, Prompt: c.Scope&Prompt != 0})
	}
	return out
}
