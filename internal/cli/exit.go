package cli

import (
	"errors"
	"net"
	"syscall"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// Exit codes, documented in README and --help.
const (
	ExitOK          = 0 // quit with the escape, end of input, command done
	ExitError       = 1 // anything else: the BMC refused a command, local I/O error
	ExitUsage       = 2 // bad flags or arguments
	ExitAuth        = 3 // unknown user, wrong password or K_g, privilege refused
	ExitUnreachable = 4 // the BMC did not answer
	ExitInUse       = 5 // console in use (--no-steal) or taken over
	ExitLost        = 6 // the session was lost
	ExitIncompat    = 7 // no common cipher suite, not IPMI 2.0, SOL disabled or its encryption refused
	ExitSignal      = 8 // ended by SIGTERM, SIGHUP, SIGINT or SIGQUIT
	ExitExpect      = 9 // an expect (--expect, --script) timed out
)

const exitCodesHelp = `Exit codes:
  0  quit with the escape sequence, end of input, or the command succeeded
  1  other error (the BMC refused a command, session setup failed although
     the BMC answered, local I/O or socket error)
  2  usage error
  3  authentication failed: unknown user, wrong password or K_g, privilege refused
  4  BMC unreachable: nothing answered, the network says it cannot be reached,
     or its name does not resolve
  5  console in use by another session (--no-steal) or taken over
  6  session lost: the BMC stopped answering after the session was set up
  7  BMC incompatible: no common cipher suite, not IPMI 2.0, SOL disabled,
     SOL encryption required or not available (Activate Payload 0x83, 0x84)
  8  ended by a signal (SIGTERM, SIGHUP, SIGINT, SIGQUIT)
  9  an expect timed out (--expect, --script); the last output is on stderr

With many hosts (a hostlist, @FILE or --hostfile): 0 if every host succeeded;
else the failed hosts' code when they all share one (4: all unreachable),
else 1.`

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
	var fe *fleetError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &fe):
		// Many hosts: theirs when they agree, else 1 (fleet.go).
		return fe.code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &se):
		return ExitSignal
	case expectTimedOut(err):
		return ExitExpect
	case errors.Is(err, ipmi.ErrAuth), errors.Is(err, ipmi.ErrKg), errors.Is(err, ipmi.ErrPrivilege),
		completionCode(err, ipmi.CCInsufficientPriv):
		return ExitAuth
	case errors.Is(err, sol.ErrInUse), errors.Is(err, sol.ErrTakenOver):
		return ExitInUse
	case errors.Is(err, ipmi.ErrNoCipherSuite), errors.Is(err, ipmi.ErrNotIPMI2), errors.Is(err, sol.ErrDisabled),
		errors.Is(err, ipmi.ErrPayloadEncryption):
		return ExitIncompat
	case errors.Is(err, ipmi.ErrSessionLost):
		return ExitLost
	case errors.Is(err, ipmi.ErrSetupFailed):
		// The BMC answered, so not 4; retried by --reconnect.
		return ExitError
	case unreachable(err):
		return ExitUnreachable
	}
	return ExitError
}

// completionCode reports whether err carries the completion code cc.
func completionCode(err error, cc ipmi.CompletionCode) bool {
	var ce *ipmi.CompletionError
	return errors.As(err, &ce) && ce.Code == cc
}

// unreachable: nothing answered, or the network or the name service says
// the BMC cannot be reached. A socket that cannot even be opened (no file
// descriptors, no IPv6 on this host) is a local failure, not an unreachable
// BMC, and so is any other net.Error.
func unreachable(err error) bool {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, ipmi.ErrNoResponse), errors.As(err, &dns):
		return true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.EHOSTDOWN), errors.Is(err, syscall.ECONNREFUSED):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return false
}
