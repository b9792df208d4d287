package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ghmicons/ghmicons/internal/docgen"
	"github.com/ghmicons/ghmicons/pkg/command"
)

// The program's use of the command table (pkg/command): one-shot commands,
// --power and --bootdev, and the texts that list the commands.

// parseCommand checks a one-shot command's words before anything talks to
// the BMC. Its words are case-insensitive, like ipmitool's.
func parseCommand(args []string) (*command.Call, error) {
	if command.Lookup(command.OneShot, args[0]) == nil {
		return nil, usagef("unknown command %q (want %s; no command attaches to the console)", args[0], command.Names(command.OneShot))
	}
	return asUsage(command.Parse(command.OneShot, args))
}

// parseAttachCommand reads --power or --bootdev: a command run once the
// console is attached. The flag's value is the command's words, split at
// commas or spaces ("pxe,persistent").
func parseAttachCommand(flag, name, value string) (*command.Call, error) {
	words := append([]string{name}, strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' })...)
	c, err := asUsage(command.Parse(command.Prompt, words))
	if err != nil {
		return nil, usagef("%s: %s", flag, strings.TrimPrefix(err.Error(), name+": "))
	}
	return c, nil
}

// asUsage makes the table's parse errors usage errors (exit 2).
func asUsage(c *command.Call, err error) (*command.Call, error) {
	var ue *command.UsageError
	if errors.As(err, &ue) {
		return nil, &usageError{ue.Msg}
	}
	return c, err
}

// usageForms are the ways to run ghmicons, for --help's Usage and the man
// page's SYNOPSIS: the console, each form of each one-shot command of the
// table (with the command's help when it has one form), the demo.
func usageForms() []docgen.Item {
	forms := []docgen.Item{{Term: "ghmicons [flags]", Text: "attach to the console"}}
	for _, c := range command.Commands(command.OneShot) {
		for _, u := range c.Usage {
			help := ""
			if len(c.Usage) == 1 {
				help = c.Help
			}
			forms = append(forms, docgen.Item{Term: "ghmicons [flags] " + u, Text: help})
		}
	}
	return append(forms, docgen.Item{Term: "ghmicons --demo", Text: "try it against a built-in simulated BMC"})
}

// usageCommands is the usage text's list of command lines (usageForms).
func usageCommands() string {
	var b strings.Builder
	for _, f := range usageForms() {
		if f.Text != "" && len(f.Term) <= 41 {
			fmt.Fprintf(&b, "  %-41s %s\n", f.Term, f.Text)
		} else {
			fmt.Fprintf(&b, "  %s\n", f.Term)
		}
	}
	return b.String()
}

// attachWords are the values --power or --bootdev (the command name) take
// as their first word: those of the table's row, but status, which changes
// nothing once attached.
func attachWords(name string) []string {
	return slices.DeleteFunc(slices.Clone(command.Lookup(command.Prompt, name).Args[0]),
		func(w string) bool { return w == "status" })
}

// bootOptionsUsage is bootdev's option words as --bootdev takes them
// ("[,persistent][,efi]").
func bootOptionsUsage() string {
	var b strings.Builder
	for _, w := range command.Lookup(command.Prompt, "bootdev").Args[1] {
		b.WriteString("[," + w + "]")
	}
	return b.String()
}

// promptSummary describes ~C in escape help.
func promptSummary() string {
	return "command prompt: " + command.Summary(command.Prompt)
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(w) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
