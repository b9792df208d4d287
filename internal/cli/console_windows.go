//go:build windows

package cli

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// notifyConsoleSignals asks for what Windows has of the ending signals: Go
// delivers Ctrl-C and Ctrl-Break as os.Interrupt, and closing the console
// window, logging off and shutting down as SIGTERM.
func notifyConsoleSignals(ch chan<- os.Signal) { signal.Notify(ch, os.Interrupt, syscall.SIGTERM) }

// notifyContinue: Windows has no job control, so nothing resumes a stopped
// console.
func notifyContinue(chan<- os.Signal) {}

// notifySIGPIPE: a write to a closed pipe fails with an error on Windows;
// there is no signal to take over.
func notifySIGPIPE(chan<- os.Signal) {}

func signalText(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

var errNoSuspend = errors.New("suspend is not available on Windows")

// canSuspend: ~^Z says that it is not available.
func canSuspend() error { return errNoSuspend }

func suspendProcess() error { return errNoSuspend }
