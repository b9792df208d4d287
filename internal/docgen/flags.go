// Package docgen renders a program's man page (man(7) macros) and its bash
// and zsh completion from the same pflag.FlagSet its --help prints, plus
// text blocks the program shares with --help. So the documentation of a flag
// cannot say something else than --help: both are made from the flag's
// definition. internal/tools/gendocs writes the results into the repository,
// and each program's tests fail when the committed files are out of date.
package docgen

import (
	"strings"

	"github.com/spf13/pflag"
)

// Flag is one flag as --help shows it.
type Flag struct {
	Short, Long string // without dashes; Short may be empty
	Arg         string // the value as --help names it ("string", "FILE", `FILE[="-"]`), empty for a bool
	Usage       string // the usage text with pflag's "(default …)" note
	// TakesValue: the flag needs a value, given in the next word or after
	// "=". OptionalValue: a value may follow "=" only (NoOptDefVal).
	TakesValue, OptionalValue bool
}

// Flags lists the visible flags of fs in their order in --help, each
// rendered by pflag itself (a one-flag FlagSet's FlagUsages), so that
// defaults and value names are exactly those of --help.
func Flags(fs *pflag.FlagSet) []Flag {
	var out []Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		one := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
		one.AddFlag(f)
		// One line: "  -H, --host string  usage (default …)"; the name
		// part has no two spaces in a row once its indent is gone.
		line := strings.TrimRight(strings.TrimLeft(one.FlagUsagesWrapped(0), " "), "\n")
		head, usage, _ := strings.Cut(line, "  ")
		names := "--" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			names = "-" + f.Shorthand + ", " + names
		}
		isBool := f.Value.Type() == "bool"
		out = append(out, Flag{
			Short:         shortOf(f),
			Long:          f.Name,
			Arg:           strings.TrimSpace(strings.TrimPrefix(head, names)),
			Usage:         strings.TrimSpace(usage),
			TakesValue:    !isBool && f.NoOptDefVal == "",
			OptionalValue: !isBool && f.NoOptDefVal != "",
		})
	})
	return out
}

func shortOf(f *pflag.Flag) string {
	if f.ShorthandDeprecated != "" {
		return ""
	}
	return f.Shorthand
}
