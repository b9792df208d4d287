package cli

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/term"
)

// The terminal: raw mode while attached, its modes restored on every way
// out, and suspend (~^Z). What differs between platforms is in
// suspend_unix.go and suspend_windows.go.

// terminal is raw mode and its restoration; only the owner touches it.
type terminal struct {
	f     *os.File
	on    bool // stdin and stdout are a terminal
	raw   bool
	done  bool // restored for good: a late SIGCONT must not make it raw again
	saved *term.State
}

// enterRaw puts the terminal in raw mode. The modes found the first time
// are what every way out restores. After SIGCONT it is called again and
// re-applies raw mode whatever the shell did to the terminal meanwhile.
func (t *terminal) enterRaw() error {
	if !t.on || t.done {
		return nil
	}
	st, err := term.MakeRaw(int(t.f.Fd()))
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	if t.saved == nil {
		t.saved = st
	}
	t.raw = true
	return nil
}

// leaveRaw restores the modes the terminal had at the start.
func (t *terminal) leaveRaw() {
	if t.raw {
		_ = term.Restore(int(t.f.Fd()), t.saved)
		t.raw = false
	}
}

func (t *terminal) finish() {
	t.leaveRaw()
	t.done = true
}

func (f *frontend) suspend() {
	if !f.tty {
		f.say("suspend needs a terminal")
		return
	}
	if err := canSuspend(); err != nil {
		f.say("%v", err)
		return
	}
	f.say("suspended; fg to resume")
	f.msgs.flush(time.Second) // the note before the shell's prompt
	f.term.leaveRaw()
	if err := suspendProcess(); err != nil {
		f.say("suspend: %v", err)
	}
	// Raw again on SIGCONT (run), whatever the shell did to the terminal
	// meanwhile; and here, in case the stop did not happen (no job control).
	_ = f.term.enterRaw()
}
