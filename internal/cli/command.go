package cli

import (
	"errors"
	"fmt"
	"strings"

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

// usageCommands is the usage text's list of command lines: the console,
// each one-shot command's forms, the demo.
func usageCommands() string {
	var b strings.Builder
	line := func(cmd, help string) {
		if help != "" && len(cmd) <= 41 {
			fmt.Fprintf(&b, "  %-41s %s\n", cmd, help)
		} else {
			fmt.Fprintf(&b, "  %s\n", cmd)
		}
	}
	line("ghmicons [flags]", "attach to the console")
	for _, c := range command.Commands(command.OneShot) {
		for i, u := range c.Usage {
			help := ""
			if i == 0 && len(c.Usage) == 1 {
				help = c.Help
			}
			line("ghmicons [flags] "+u, help)
		}
	}
	line("ghmicons --demo", "try it against a built-in simulated BMC")
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
