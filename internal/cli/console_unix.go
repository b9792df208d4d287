//go:build unix

package cli

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// notifyConsoleSignals asks for the signals that end console mode: each
// restores the terminal, closes the session and exits 8.
func notifyConsoleSignals(ch chan<- os.Signal) {
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT)
}

// notifyContinue asks for SIGCONT, after which raw mode is applied again
// (the shell resets the terminal while the job is stopped).
func notifyContinue(ch chan<- os.Signal) { signal.Notify(ch, syscall.SIGCONT) }

// notifySIGPIPE takes SIGPIPE away from the runtime: without it a write to a
// closed pipe on fd 1 or 2 kills the process at once (exit 141, no
// Deactivate, no Close Session); with it, the write fails with EPIPE and the
// error takes the ordinary way out.
func notifySIGPIPE(ch chan<- os.Signal) { signal.Notify(ch, syscall.SIGPIPE) }

// signalText names a signal as a shell user knows it: "SIGTERM".
func signalText(s os.Signal) string {
	if ss, ok := s.(syscall.Signal); ok {
		if n := unix.SignalName(ss); n != "" {
			return n
		}
	}
	return s.String()
}

// suspendProcess stops the process as ^Z would (job control).
func suspendProcess() error { return syscall.Kill(syscall.Getpid(), syscall.SIGTSTP) }

// canSuspend: job control exists.
func canSuspend() error { return nil }
