package command_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

func TestParse(t *testing.T) {
	tests := []struct {
		scope  command.Scope
		words  []string
		name   string
		status bool
		action ipmi.ChassisAction
		boot   ipmi.BootFlags
		destr  bool
		bad    string // in the usage error
	}{
		{command.OneShot, []string{"power", "status"}, "power", true, 0, ipmi.BootFlags{}, false, ""},
		{command.OneShot, []string{"POWER", "STATUS"}, "power", true, 0, ipmi.BootFlags{}, false, ""},
		{command.OneShot, []string{"Power", "On"}, "power", false, ipmi.PowerOn, ipmi.BootFlags{}, false, ""},
		{command.OneShot, []string{"power", "CYCLE"}, "power", false, ipmi.PowerCycle, ipmi.BootFlags{}, true, ""},
		{command.Prompt, []string{"power", "soft"}, "power", false, ipmi.SoftShutdown, ipmi.BootFlags{}, false, ""},
		{command.Prompt, []string{"power", "off"}, "power", false, ipmi.PowerOff, ipmi.BootFlags{}, true, ""},
		{command.Prompt, []string{"power", "reset"}, "power", false, ipmi.HardReset, ipmi.BootFlags{}, true, ""},
		{command.Prompt, []string{"power", "diag"}, "power", false, ipmi.DiagInterrupt, ipmi.BootFlags{}, true, ""},
		{command.OneShot, []string{"BOOTDEV", "STATUS"}, "bootdev", true, 0, ipmi.BootFlags{}, false, ""},
		{command.OneShot, []string{"bootdev", "PXE", "Persistent", "EFI"}, "bootdev", false, 0,
			ipmi.BootFlags{Device: ipmi.BootPXE, Persistent: true, EFI: true}, false, ""},
		{command.OneShot, []string{"bootdev", "disk", "legacy", "once"}, "bootdev", false, 0, ipmi.BootFlags{Device: ipmi.BootDisk}, false, ""},
		{command.OneShot, []string{"INFO"}, "info", false, 0, ipmi.BootFlags{}, false, ""},
		{command.Prompt, []string{"?"}, "help", false, 0, ipmi.BootFlags{}, false, ""},
		{command.Prompt, []string{"break"}, "break", false, 0, ipmi.BootFlags{}, false, ""},
		{command.Prompt, []string{"status"}, "status", false, 0, ipmi.BootFlags{}, false, ""},
		// Errors: each says what is wrong, quoting the words as typed.
		{command.OneShot, []string{"info", "extra"}, "", false, 0, ipmi.BootFlags{}, false, `info takes no more words (got "extra")`},
		{command.OneShot, []string{"BOOTDEV", "STATUS", "EXTRA"}, "", false, 0, ipmi.BootFlags{}, false, `"EXTRA"`},
		{command.OneShot, []string{"power", "status", "extra"}, "", false, 0, ipmi.BootFlags{}, false, "one word"},
		{command.OneShot, []string{"power"}, "", false, 0, ipmi.BootFlags{}, false, "one word"},
		{command.OneShot, []string{"POWER", "FLY"}, "", false, 0, ipmi.BootFlags{}, false, `unknown power action "FLY"`},
		{command.OneShot, []string{"bootdev"}, "", false, 0, ipmi.BootFlags{}, false, "which device"},
		{command.OneShot, []string{"bootdev", "floppy-disk"}, "", false, 0, ipmi.BootFlags{}, false, `"floppy-disk"`},
		{command.OneShot, []string{"bootdev", "pxe", "sideways"}, "", false, 0, ipmi.BootFlags{}, false, `"sideways"`},
		{command.OneShot, []string{"reboot"}, "", false, 0, ipmi.BootFlags{}, false, `unknown command "reboot" (want power, bootdev or info)`},
		// Console commands are not one-shot commands.
		{command.OneShot, []string{"break"}, "", false, 0, ipmi.BootFlags{}, false, `unknown command "break"`},
		{command.OneShot, []string{"help"}, "", false, 0, ipmi.BootFlags{}, false, `unknown command "help"`},
	}
	for _, tt := range tests {
		c, err := command.Parse(tt.scope, tt.words)
		if tt.bad != "" {
			var ue *command.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.bad) {
				t.Errorf("%q: %v, %v; want a usage error saying %q", tt.words, c, err, tt.bad)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.words, err)
			continue
		}
		if c.Command.Name != tt.name || c.Status != tt.status || c.Action != tt.action || c.Boot != tt.boot || c.Destructive != tt.destr {
			t.Errorf("%q: %+v; want %s status=%v action=%v boot=%+v destructive=%v", tt.words, c, tt.name, tt.status, tt.action, tt.boot, tt.destr)
		}
	}
	c, _ := command.Parse(command.Prompt, []string{"Power", "Cycle"})
	if c.String() != "power cycle" || c.Question != "power cycle the host?" {
		t.Errorf("call %q, question %q", c.String(), c.Question)
	}
}

// Every row is complete, and every list is made from the rows.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range command.Rows() {
		if seen[r.Name] {
			t.Errorf("%s: two rows", r.Name)
		}
		seen[r.Name] = true
		if r.Help == "" || r.Synopsis == "" || len(r.Usage) == 0 || !r.OneShot && !r.Prompt {
			t.Errorf("%s: incomplete row %+v", r.Name, r)
		}
		for _, u := range r.Usage {
			if !strings.HasPrefix(u, r.Name) {
				t.Errorf("%s: usage %q does not start with the name", r.Name, u)
			}
		}
		if r.Doc != nil && len(r.Doc) != len(r.Usage) {
			t.Errorf("%s: %d Doc texts for %d forms", r.Name, len(r.Doc), len(r.Usage))
		}
		// Every word completion offers parses in its place: the first
		// argument on its own, or before a word of each later position.
		scope := command.Prompt
		if r.OneShot {
			scope = command.OneShot
		}
		for i, words := range r.Args {
			for _, w := range words {
				line := []string{r.Name}
				for j := range i {
					line = append(line, r.Args[j][0])
				}
				if _, err := command.Parse(scope, append(line, w)); err != nil {
					t.Errorf("%s: completion offers %q, which does not parse: %v", r.Name, w, err)
				}
			}
		}
	}
	// The power words are pkg/ipmi's names of the actions sent.
	for _, w := range strings.Fields("on off cycle reset soft diag") {
		c, err := command.Parse(command.OneShot, []string{"power", w})
		if err != nil || c.Action.String() != w {
			t.Errorf("power %s: %v, %v", w, c, err)
		}
	}
	help := command.HelpText(command.Prompt)
	for _, c := range command.Commands(command.Prompt) {
		for _, u := range c.Usage {
			if !strings.Contains(help, u) {
				t.Errorf("help lacks %q:\n%s", u, help)
			}
		}
	}
	if !strings.Contains(help, "power off, cycle, reset and diag ask y/N") {
		t.Errorf("help does not say what asks first:\n%s", help)
	}
	for _, line := range strings.Split(help, "\n") {
		if len(line) > 79 {
			t.Errorf("help line of %d characters: %q", len(line), line)
		}
	}
	if s := command.Summary(command.Prompt); s != "power, bootdev, info, break, status, help" {
		t.Errorf("summary %q", s)
	}
}

func TestComplete(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{"", "power bootdev info break status help"},
		{"po", "power"},
		{"b", "bootdev break"},
		{"power c", "cycle"},
		{"POWER ", "on off cycle reset soft diag status"},
		{"bootdev p", "pxe"},
		{"bootdev pxe ", "persistent efi"},
		{"bootdev pxe e", "efi"},
		{"bootdev status ", ""},
		{"info ", ""},
		{"frob", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(command.Complete(command.Prompt, tt.line), " "); got != tt.want {
			t.Errorf("Complete(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

var admin = fakebmctest.Admin()

func run(t *testing.T, tg command.Target, s command.Scope, words ...string) (command.Result, error) {
	t.Helper()
	c, err := command.Parse(s, words)
	if err != nil {
		t.Fatal(err)
	}
	return c.Run(context.Background(), tg)
}

func TestRunOnSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		tg := command.OnSession(b.Session(t, admin))
		r, err := run(t, tg, command.OneShot, "power", "status")
		if err != nil || r.Power != command.PowerOn || r.Output != "Chassis Power is on\n" {
			t.Errorf("power status: %+v, %v", r, err)
		}
		r, err = run(t, tg, command.OneShot, "power", "off")
		if err != nil || r.Action != ipmi.PowerOff || r.Output != "Chassis Power Control: off\n" || !r.Logged {
			t.Errorf("power off: %+v, %v", r, err)
		}
		if r, _ := run(t, tg, command.OneShot, "power", "status"); r.Power != command.PowerOff {
			t.Errorf("after power off: %v", r.Power)
		}
		r, err = run(t, tg, command.OneShot, "bootdev", "pxe", "persistent")
		if err != nil || r.Output != "Set boot device to pxe persistent legacy\n" || r.Note != "boot device set to pxe persistent legacy" {
			t.Errorf("bootdev pxe: %+v, %v", r, err)
		}
		r, err = run(t, tg, command.OneShot, "bootdev", "status")
		if err != nil || r.Boot.Device != ipmi.BootPXE || !r.Boot.Persistent || !strings.HasPrefix(r.Output, "Boot device: pxe") {
			t.Errorf("bootdev status: %+v, %v", r, err)
		}
		r, err = run(t, tg, command.OneShot, "info")
		if err != nil || r.Device == nil || !strings.Contains(r.Output, "Privilege:      administrator\n") {
			t.Errorf("info: %+v, %v", r, err)
		}
		// Console commands need a console.
		if _, err := run(t, tg, command.Prompt, "break"); !errors.Is(err, command.ErrNeedsConsole) {
			t.Errorf("break on a session: %v", err)
		}
	})
}

// A console target runs commands through its own session, and says when it
// has none.
func TestRunOnConsole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		// The console dials once the test has seen it say it is not
		// connected (released), not before.
		released := make(chan struct{})
		c, err := console.New(console.Config{Addr: b.Addr, Session: admin,
			Dial: func(ctx context.Context) (ipmi.Transport, error) {
				select {
				case <-released:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return b.DialTransport(ctx)
			}})
		if err != nil {
			t.Fatal(err)
		}
		sub := c.Events(64)
		c.Start(context.Background())
		defer c.Close(context.Background())
		r, err := run(t, c, command.Prompt, "status")
		if err != nil || r.Note != "not connected; connecting to bmc" {
			t.Errorf("status while connecting: %+v, %v", r, err)
		}
		if _, err := run(t, c, command.Prompt, "power", "status"); !errors.Is(err, console.ErrNotConnected) {
			t.Errorf("power status while connecting: %v, want ErrNotConnected", err)
		}
		close(released)
		for ev := range sub.C {
			if ev.Kind == console.Connected {
				break
			}
		}
		r, err = run(t, c, command.Prompt, "power", "status")
		if err != nil || r.Note != "host power is on" {
			t.Errorf("power status: %+v, %v", r, err)
		}
		if n := b.Events.Count(fakebmc.EventSessionOpen); n != 1 {
			t.Errorf("%d sessions, want 1: commands go through the console's", n)
		}
		if _, err := run(t, c, command.Prompt, "break"); err != nil {
			t.Fatal(err)
		}
		b.Host.WaitBreaks(t, 5*time.Second, 1)
		r, err = run(t, c, command.Prompt, "status")
		if err != nil || !strings.HasPrefix(r.Note, "peer bmc, cipher suite 17") || !strings.HasSuffix(r.Note, "host power on") {
			t.Errorf("status: %q, %v", r.Note, err)
		}
		r, _ = run(t, c, command.Prompt, "help")
		if !strings.HasPrefix(r.Note, "Commands:") {
			t.Errorf("help: %q", r.Note)
		}
	})
}

// FuzzParse: any line parses or is a usage error, never a panic; a parsed
// call names its row and says the words back in lower case; completion
// never panics and only offers words that complete the last one.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"power status", "POWER CYCLE", "bootdev pxe persistent efi", "bootdev status x",
		"info", "? ", "break", "status", "", "  ", "bootdev", "power on off"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, s := range []command.Scope{command.OneShot, command.Prompt} {
			c, err := command.Parse(s, strings.Fields(line))
			if err != nil {
				var ue *command.UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("%q: %v is not a usage error", line, err)
				}
			} else if c.Command == nil || c.Command.Scope&s == 0 || c.String() != strings.ToLower(c.String()) {
				t.Fatalf("%q: call %+v", line, c)
			}
			words := strings.Fields(line)
			last := ""
			if len(words) > 0 && strings.TrimRightFunc(line, unicode.IsSpace) == line {
				last = strings.ToLower(words[len(words)-1])
			}
			for _, w := range command.Complete(s, line) {
				if !strings.HasPrefix(w, last) {
					t.Fatalf("%q: completion %q does not extend %q", line, w, last)
				}
			}
		}
	})
}
