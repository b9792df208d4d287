package ipmi

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for conditions callers branch on. Errors returned by this
// package wrap them, so use errors.Is.
var (
	// ErrAuth: the BMC does not know the user or the password is wrong.
	ErrAuth = errors.New("unknown user or wrong password")
	// ErrKg: the BMC key (K_g) is wrong or required.
	ErrKg = errors.New("wrong BMC key (K_g)")
	// ErrPrivilege: the requested privilege level is not allowed for the user.
	ErrPrivilege = errors.New("privilege level not allowed")
	// ErrNoCipherSuite: the BMC accepts none of the cipher suites offered.
	ErrNoCipherSuite = errors.New("no common cipher suite")
	// ErrNoResponse: the BMC did not answer within the configured tries.
	// From Dial it means that nothing answered at all: once the BMC has
	// answered a setup message, a setup that cannot be completed is an
	// ErrSetupFailed instead.
	ErrNoResponse = errors.New("BMC not answering")
	// ErrSetupFailed: the BMC answered, but no session could be set up with
	// it: a reply was malformed, out of sequence or for another session, or
	// the BMC stopped answering part-way, also after restarting the exchange
	// from Open Session. *SetupError says where and why.
	ErrSetupFailed = errors.New("session setup failed")
	// ErrPayloadEncryption: the BMC cannot activate a payload (SOL) with the
	// encryption the session asked for: Activate Payload completion code 0x83
	// (cannot activate with encryption) or 0x84 (cannot activate without
	// encryption), IPMI v2.0 §24.1. Another cipher suite may work. A
	// *CompletionError with one of these codes wraps it.
	ErrPayloadEncryption = errors.New("the BMC cannot activate the payload with the encryption asked for")
	// ErrNotIPMI2: the BMC does not support IPMI 2.0 (RMCP+) sessions.
	ErrNotIPMI2 = errors.New("BMC not IPMI 2.0 capable")
	// ErrClosed: the session was closed by Close.
	ErrClosed = errors.New("session closed")
	// ErrSessionLost: the session stopped working (the caller decides when,
	// e.g. after failed keepalives) or the BMC dropped it.
	ErrSessionLost = errors.New("session lost")
)

// StatusError is a non-zero RMCP+ status code from a session-setup message.
type StatusError struct {
	Step   string // "Open Session (cipher suite 17)", "RAKP 2", "RAKP 4"
	Status StatusCode
	// Class is the sentinel this status maps to, or nil.
	Class error
}

func (e *StatusError) Error() string {
	if e.Class != nil {
		return fmt.Sprintf("ipmi: %s: %v (RMCP+ status %v)", e.Step, e.Class, e.Status)
	}
	return fmt.Sprintf("ipmi: %s: BMC refused with RMCP+ status %v", e.Step, e.Status)
}

func (e *StatusError) Unwrap() error { return e.Class }

func statusClass(s StatusCode) error {
	switch s {
	case StatusUnauthorizedName, StatusIllegalParameter, StatusInvalidNameLength:
		// ipmi_sim answers an unknown user with 0x12 (docs/bmc-quirks.md).
		return ErrAuth
	case StatusInvalidRole, StatusUnauthorizedRole, StatusNoResourcesForRole:
		return ErrPrivilege
	case StatusInvalidAuthAlg, StatusInvalidIntegrityAlg, StatusInvalidConfAlg,
		StatusNoMatchingAuth, StatusNoMatchingIntegrity, StatusNoCipherSuiteMatch:
		return ErrNoCipherSuite
	case StatusInvalidIntegrityCheck:
		return ErrAuth
	}
	return nil
}

// TimeoutError says which request went unanswered and where it was sent.
type TimeoutError struct {
	Op    string
	Addr  string
	Tries int
	// InSession: the request went unanswered in a session the BMC had
	// established, so the BMC answered before and has stopped: the error is
	// ErrSessionLost as well as ErrNoResponse.
	InSession bool
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("ipmi: %s: no answer from %s after %d tries", e.Op, e.Addr, e.Tries)
}

func (e *TimeoutError) Unwrap() []error {
	if e.InSession {
		return []error{ErrNoResponse, ErrSessionLost}
	}
	return []error{ErrNoResponse}
}

// SetupError is a session setup that failed although the BMC answered (it
// wraps ErrSetupFailed and never ErrNoResponse): which step could not be
// completed, and what was wrong with the answer, or that the answers
// stopped.
type SetupError struct {
	Step string // the exchange that failed: "Open Session (cipher suite 17)", "RAKP 1", …
	Addr string
	// Attempts is how many times the exchange was started from Open Session
	// (0 when it failed before Open Session).
	Attempts int
	// Err is what was wrong: an error wrapping ErrMalformed for a malformed,
	// out-of-sequence or foreign answer, or one saying how many tries went
	// unanswered.
	Err error

	atOpen bool // failed at Open Session
}

func (e *SetupError) Error() string {
	what := strings.TrimPrefix(e.Err.Error(), "ipmi: ")
	s := fmt.Sprintf("ipmi: session setup with %s failed at %s: %s", e.Addr, e.Step, what)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts from Open Session)", e.Attempts)
	}
	return s
}

// Unwrap gives ErrSetupFailed and the cause.
func (e *SetupError) Unwrap() []error { return []error{ErrSetupFailed, e.Err} }

// unansweredError is a setup step whose tries all went unanswered after the
// BMC had answered an earlier step. It deliberately does not wrap
// ErrNoResponse.
type unansweredError struct{ tries int }

func (e *unansweredError) Error() string {
	if e.tries == 1 {
		return "no answer"
	}
	return fmt.Sprintf("no answer after %d tries", e.tries)
}

// boundError is a setup that ran out of its time bound (Config.SetupBound).
type boundError struct{ last error }

func (e *boundError) Error() string {
	if e.last == nil {
		return "gave up: setup took longer than its time bound"
	}
	return fmt.Sprintf("gave up: setup took longer than its time bound; before that: %s",
		strings.TrimPrefix(e.last.Error(), "ipmi: "))
}
