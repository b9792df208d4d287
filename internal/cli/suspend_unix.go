//go:build unix

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyContinue asks for SIGCONT, after which raw mode is applied again
// (the shell resets the terminal while the job is stopped).
func notifyContinue(ch chan<- os.Signal) { signal.Notify(ch, syscall.SIGCONT) }

// suspendProcess stops the process as ^Z would (job control).
func suspendProcess() error { return syscall.Kill(syscall.Getpid(), syscall.SIGTSTP) }

// canSuspend: job control exists.
func canSuspend() error { return nil }
