package cli

import (
	"errors"
	"net"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Exit codes, documented in README and --help.
const (
	ExitOK          = 0 // quit with the escape, end of input, command done
	ExitError       = 1 // anything else: the BMC refused a command, I/O error
	ExitUsage       = 2 // bad flags or arguments
	ExitAuth        = 3 // unknown user, wrong password or K_g, privilege refused
	ExitUnreachable = 4 // the BMC did not answer
	ExitInUse       = 5 // console in use (--no-steal) or taken over
	ExitLost        = 6 // the session was lost
	ExitIncompat    = 7 // no common cipher suite, not IPMI 2.0, SOL disabled
	ExitSignal      = 8 // ended by SIGTERM, SIGHUP, SIGINT or SIGQUIT
)

const exitCodesHelp = `Exit codes:
  0  quit with the escape sequence, end of input, or the command succeeded
  1  other error (the BMC refused a command, session setup failed although
     the BMC answered, local I/O error)
  2  usage error
  3  authentication failed: unknown user, wrong password or K_g, privilege refused
  4  BMC unreachable: nothing answered at the address tried
  5  console in use by another session (--no-steal) or taken over
  6  session lost
  7  BMC incompatible: no common cipher suite, not IPMI 2.0, SOL disabled
  8  ended by a signal (SIGTERM, SIGHUP, SIGINT, SIGQUIT)`

// usageError marks errors in flags and arguments.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// signalError ends the program after a signal.
type signalError struct{ sig string }

func (e *signalError) Error() string { return "ended by " + e.sig }

// ExitCode maps an error to the program's exit code; one place for all.
func ExitCode(err error) int {
	var ue *usageError
	var se *signalError
	var ne net.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &se):
		return ExitSignal
	case errors.Is(err, ipmi.ErrAuth), errors.Is(err, ipmi.ErrKg), errors.Is(err, ipmi.ErrPrivilege):
		return ExitAuth
	case errors.Is(err, sol.ErrInUse), errors.Is(err, sol.ErrTakenOver):
		return ExitInUse
	case errors.Is(err, ipmi.ErrNoCipherSuite), errors.Is(err, ipmi.ErrNotIPMI2), errors.Is(err, sol.ErrDisabled):
		return ExitIncompat
	case errors.Is(err, ipmi.ErrSessionLost):
		return ExitLost
	case errors.Is(err, ipmi.ErrSetupFailed):
		// The BMC answered, so not 4; retried by --reconnect.
		return ExitError
	case errors.Is(err, ipmi.ErrNoResponse), errors.As(err, &ne):
		return ExitUnreachable
	}
	return ExitError
}

// retryable says whether --reconnect should try again after err:
// authentication and incompatibility are not retried in a loop.
func retryable(err error) bool {
	switch ExitCode(err) {
	case ExitAuth, ExitIncompat, ExitUsage:
		return false
	}
	return true
}
