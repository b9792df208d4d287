//go:build windows

package cli

import (
	"errors"
	"os"
)

// notifyContinue: Windows has no job control, so nothing resumes a stopped
// console.
func notifyContinue(chan<- os.Signal) {}

var errNoSuspend = errors.New("suspend is not available on Windows")

// canSuspend: ~^Z says that it is not available.
func canSuspend() error { return errNoSuspend }

func suspendProcess() error { return errNoSuspend }
