package ipmi

import (
	"errors"
	"fmt"
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
	ErrNoResponse = errors.New("BMC not answering")
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
	Step   string // "open session", "RAKP 2", "RAKP 4"
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
		// ipmi_sim answers an unknown user with 0x12 (protocol.md §2.5).
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
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("ipmi: %s: no answer from %s after %d tries", e.Op, e.Addr, e.Tries)
}

func (e *TimeoutError) Unwrap() error { return ErrNoResponse }
