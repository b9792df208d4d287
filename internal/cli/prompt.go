package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/escape"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

const promptHelp = `Commands:
  power on|off|cycle|reset|soft|diag|status
  bootdev none|pxe|disk|safe|diag|cdrom|bios [persistent] [efi]
  bootdev status
  break
  help
Enter runs the command; Ctrl-C or an empty line cancels.`

func (c *console) echo(s string) { c.msgs.print(s) }

func (c *console) startPrompt() {
	c.prompting = true
	c.confirm = nil
	c.editor.Reset()
	if c.tty {
		c.echo("\r\nghmicons> ")
	} else {
		c.echo("ghmicons> ")
	}
}

// promptKeys feeds keys to the ~C prompt (or its y/N question).
func (c *console) promptKeys(b []byte) {
	for i, k := range b {
		if c.confirm != nil {
			yes := k == 'y' || k == 'Y'
			c.echo(map[bool]string{true: "y\r\n", false: "n\r\n"}[yes])
			fn := c.confirm
			c.confirm, c.prompting = nil, false
			fn(yes)
			c.rest(b[i+1:])
			return
		}
		res, echo := c.editor.Feed(k)
		if !c.tty {
			echo = strings.ReplaceAll(echo, "\r\n", "\n")
		}
		c.echo(echo)
		switch res {
		case escape.Cancelled:
			c.prompting = false
			c.rest(b[i+1:])
			return
		case escape.Submitted:
			line := strings.TrimSpace(c.editor.Line())
			c.prompting = false
			if line != "" {
				c.runCommand(line)
			}
			c.rest(b[i+1:])
			return
		}
	}
}

// rest handles keys typed after the prompt closed in the same read.
func (c *console) rest(b []byte) {
	if len(b) > 0 {
		c.handleInput(b)
	}
}

// runCommand runs a prompt command. What talks to the BMC runs on a
// goroutine of its own, bounded by a timeout and by the stream's end, so
// that a BMC that does not answer holds up neither ~. nor a signal.
func (c *console) runCommand(line string) {
	words := strings.Fields(strings.ToLower(line))
	if c.att == nil {
		c.say("not connected")
		return
	}
	s, ctx := c.att.st.Session(), c.att.ctx
	bmc := func(fn func(ctx context.Context)) {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			fn(ctx)
		}()
	}
	switch words[0] {
	case "help", "?":
		c.say("%s", promptHelp)
	case "break":
		c.queueInput(inputItem{brk: true})
	case "power":
		if len(words) != 2 {
			c.say("usage: power on|off|cycle|reset|soft|diag|status")
			return
		}
		if words[1] == "status" {
			bmc(func(ctx context.Context) {
				cs, err := s.ChassisStatus(ctx)
				if err != nil {
					c.say("power status: %v", err)
					return
				}
				c.say("host power is %s", onOff(cs.PowerOn))
			})
			return
		}
		a, err := ipmi.ParseChassisAction(words[1])
		if err != nil {
			c.say("%v", err)
			return
		}
		do := func() {
			bmc(func(ctx context.Context) {
				if err := s.ChassisControl(ctx, a); err != nil {
					c.note("power %s failed: %v", a, err)
					return
				}
				c.note("power %s sent", a)
			})
		}
		switch a {
		case ipmi.PowerOff, ipmi.PowerCycle, ipmi.HardReset, ipmi.DiagInterrupt:
			// Destructive: ask first.
			c.prompting = true
			c.confirm = func(yes bool) {
				if yes {
					do()
				} else {
					c.say("power %s cancelled", a)
				}
			}
			if c.tty {
				c.echo(fmt.Sprintf("\r\npower %s the host? [y/N] ", a))
			} else {
				c.echo(fmt.Sprintf("power %s the host? [y/N] ", a))
			}
		default:
			do()
		}
	case "bootdev":
		if len(words) == 2 && words[1] == "status" {
			bmc(func(ctx context.Context) {
				f, err := s.BootFlags(ctx)
				if err != nil {
					c.say("bootdev status: %v", err)
					return
				}
				c.say("boot device: %s", f)
			})
			return
		}
		f, err := command.ParseBoot(words[1:])
		if err != nil {
			c.say("%v", err)
			return
		}
		bmc(func(ctx context.Context) {
			if err := s.SetBootFlags(ctx, f); err != nil {
				c.note("bootdev %s failed: %v", f.Device, err)
				return
			}
			f.Valid = true
			c.note("boot device set to %s", f)
		})
	default:
		c.say("unknown command %q; try help", words[0])
	}
}
