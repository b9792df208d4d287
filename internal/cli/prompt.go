package cli

import (
	"fmt"
	"strings"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/escape"
)

// The ~C prompt: a line editor whose line is a command of the table
// (pkg/command), run through the console's own session. Destructive
// commands ask y/N first.

const promptText = "ghmicons> "

func (f *frontend) echo(s string) {
	if !f.tty {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	f.msgs.print(s)
}

func (f *frontend) startPrompt() {
	f.prompting = true
	f.confirm = nil
	f.editor.Reset()
	f.editor.Prompt = promptText
	f.editor.Complete = func(line string) []string { return command.Complete(command.Prompt, line) }
	f.echo(f.newLine() + promptText)
}

// newLine starts a line of our own on a terminal, where the host's output
// may have left the cursor anywhere.
func (f *frontend) newLine() string {
	if f.tty {
		return "\r\n"
	}
	return ""
}

// closePrompt ends the prompt (the console is gone), saying why.
func (f *frontend) closePrompt(why string) {
	if f.prompting {
		f.prompting, f.confirm = false, nil
		f.say("%s", why)
	}
}

// promptKeys feeds keys to the ~C prompt (or its y/N question).
func (f *frontend) promptKeys(b []byte) {
	for i, k := range b {
		if f.confirm != nil {
			yes := k == 'y' || k == 'Y'
			f.echo(map[bool]string{true: "y\r\n", false: "n\r\n"}[yes])
			fn := f.confirm
			f.confirm, f.prompting = nil, false
			fn(yes)
			f.rest(b[i+1:])
			return
		}
		res, echo := f.editor.Feed(k)
		f.echo(echo)
		switch res {
		case escape.Cancelled:
			f.prompting = false
			f.rest(b[i+1:])
			return
		case escape.Submitted:
			line := strings.TrimSpace(f.editor.Line())
			f.prompting = false
			if line != "" {
				f.runLine(line)
			}
			f.rest(b[i+1:])
			return
		}
	}
}

// rest handles keys typed after the prompt closed in the same read.
func (f *frontend) rest(b []byte) {
	if len(b) > 0 {
		f.handleInput(b)
	}
}

// runLine runs a prompt command line.
func (f *frontend) runLine(line string) {
	words := strings.Fields(line)
	if !f.attached {
		f.say("not connected")
		return
	}
	if command.Lookup(command.Prompt, words[0]) == nil {
		f.say("unknown command %q; try help", strings.ToLower(words[0]))
		return
	}
	call, err := command.Parse(command.Prompt, words)
	if err != nil {
		f.say("%v", err)
		return
	}
	if !call.Destructive {
		f.runCall(call)
		return
	}
	f.prompting = true
	f.confirm = func(yes bool) {
		if yes {
			f.runCall(call)
		} else {
			f.say("%s cancelled", call)
		}
	}
	f.echo(fmt.Sprintf("%s%s [y/N] ", f.newLine(), call.Question))
}
