package serve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
)

// Commands on a console: the table of pkg/command at the console's prompt
// scope (the same as ghmicons's ~C), from `ssh GW CONSOLE COMMAND...` and
// the ^Ec: command line. What changes the machine (power and boot changes,
// BREAK) needs the rw role; what only reads (status, info, power status,
// bootdev status, help) a spy may run.

// needsWrite says whether a call changes the machine or the console.
func needsWrite(c *command.Call) bool {
	switch c.Command.Name {
	case "power", "bootdev":
		return !c.Status
	case "break":
		return true
	}
	return false
}

var errRoleTooLow = errors.New("role too low")

// parseFor parses words for a viewer or key of role r on e.
func (ss *session) parseFor(e *entry, r Role, words []string) (*command.Call, error) {
	if command.Lookup(command.Prompt, words[0]) == nil {
		return nil, &command.UsageError{Msg: fmt.Sprintf("unknown command %q; the commands: %s", strings.ToLower(words[0]), commandNames())}
	}
	call, err := command.Parse(command.Prompt, words)
	if err != nil {
		return nil, err
	}
	if needsWrite(call) && r < RoleRW {
		return nil, fmt.Errorf("%s: %w: %s needs rw, this key may only spy", e.spec.Name, errRoleTooLow, call)
	}
	return call, nil
}

// runCall runs call through e's console and notes in the log what changed
// the machine (or failed to), with who asked.
func (ss *session) runCall(ctx context.Context, e *entry, call *command.Call) (string, error) {
	d := ss.srv.CommandTimeout
	if d <= 0 {
		d = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	res, err := call.Run(ctx, e.con)
	if res.Logged || (err != nil && needsWrite(call)) {
		note := res.Note
		if err != nil && note == "" {
			note = err.Error()
		}
		_ = e.con.Annotate(fmt.Sprintf("%s by %s: %s", call, ss.grant.Who, oneLine(note)))
	}
	if err != nil {
		if errors.Is(err, console.ErrNotConnected) {
			return "", fmt.Errorf("%s: %s: not connected to the BMC now (try: list)", e.spec.Name, call)
		}
		return "", fmt.Errorf("%s: %s: %v", e.spec.Name, call, err)
	}
	out := res.Output
	if out == "" {
		out = res.Note
	}
	return out, nil
}

// command runs one command from an exec request and gives its exit status.
func (ss *session) command(ctx context.Context, spec string, words []string) int {
	name, mode := target(spec)
	e := ss.srv.Fleet.lookup(name)
	if e == nil {
		return ss.exitf(ExitRefused, "%s: no such console for this key (try: list)", name)
	}
	role := ss.grant.For(name, e.groupsNow())
	if role == RoleNone {
		return ss.exitf(ExitRefused, "%s: no such console for this key (try: list)", name)
	}
	if mode == "ro" || mode == "spy" {
		role = RoleSpy
	}
	call, err := ss.parseFor(e, role, words)
	if err != nil {
		if errors.Is(err, errRoleTooLow) {
			return ss.exitf(ExitRefused, "%v", err)
		}
		return ss.exitf(ExitUsage, "%s: %v", name, err)
	}
	out, err := ss.runCall(ctx, e, call)
	if err != nil {
		return ss.exitf(ExitFailed, "%v", err)
	}
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	fmt.Fprint(ss.ch, out)
	return ExitOK
}
