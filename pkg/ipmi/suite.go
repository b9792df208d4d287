package ipmi

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"strings"
)

// AuthAlg is an RMCP+ authentication (RAKP) algorithm (IPMI v2.0 §13.28,
// Table 13-17).
type AuthAlg uint8

// IntegrityAlg is an RMCP+ integrity algorithm.
type IntegrityAlg uint8

// ConfAlg is an RMCP+ confidentiality algorithm.
type ConfAlg uint8

// Algorithms implemented here. MD5 and xRC4 variants are deliberately absent:
// the peers disagree on how to key them (docs/bmc-quirks.md, ipmi_sim).
const (
	AuthNone       AuthAlg = 0
	AuthHMACSHA1   AuthAlg = 1
	AuthHMACSHA256 AuthAlg = 3

	IntegrityNone          IntegrityAlg = 0
	IntegrityHMACSHA1_96   IntegrityAlg = 1
	IntegrityHMACSHA256128 IntegrityAlg = 4

	ConfNone      ConfAlg = 0
	ConfAESCBC128 ConfAlg = 1
)

func (a AuthAlg) hash() func() hash.Hash {
	switch a {
	case AuthHMACSHA1:
		return sha1.New
	case AuthHMACSHA256:
		return sha256.New
	}
	return nil
}

// codeLen is the length of the RAKP 2 and RAKP 3 key-exchange auth codes.
func (a AuthAlg) codeLen() int {
	switch a {
	case AuthHMACSHA1:
		return sha1.Size
	case AuthHMACSHA256:
		return sha256.Size
	}
	return 0
}

// icvLen is the length of the RAKP 4 integrity check value: it follows the
// authentication algorithm, not the integrity one (IPMI v2.0 §13.23, §13.31;
// ipmitool, FreeIPMI and go-ipmi agree).
func (a AuthAlg) icvLen() int {
	switch a {
	case AuthHMACSHA1:
		return 12
	case AuthHMACSHA256:
		return 16
	}
	return 0
}

func (a AuthAlg) String() string {
	switch a {
	case AuthNone:
		return "RAKP-none"
	case AuthHMACSHA1:
		return "RAKP-HMAC-SHA1"
	case AuthHMACSHA256:
		return "RAKP-HMAC-SHA256"
	}
	return fmt.Sprintf("auth-%d", uint8(a))
}

func (a IntegrityAlg) hash() func() hash.Hash {
	switch a {
	case IntegrityHMACSHA1_96:
		return sha1.New
	case IntegrityHMACSHA256128:
		return sha256.New
	}
	return nil
}

// authCodeLen is the length of the per-packet auth code (IPMI v2.0 §13.28.4).
func (a IntegrityAlg) authCodeLen() int {
	switch a {
	case IntegrityHMACSHA1_96:
		return 12
	case IntegrityHMACSHA256128:
		return 16
	}
	return 0
}

func (a IntegrityAlg) String() string {
	switch a {
	case IntegrityNone:
		return "none"
	case IntegrityHMACSHA1_96:
		return "HMAC-SHA1-96"
	case IntegrityHMACSHA256128:
		return "HMAC-SHA256-128"
	}
	return fmt.Sprintf("integrity-%d", uint8(a))
}

func (a ConfAlg) String() string {
	switch a {
	case ConfNone:
		return "none"
	case ConfAESCBC128:
		return "AES-CBC-128"
	}
	return fmt.Sprintf("confidentiality-%d", uint8(a))
}

// CipherSuite is a standard cipher suite (IPMI v2.0 §22.15.2, Table 22-19).
type CipherSuite struct {
	ID        uint8
	Auth      AuthAlg
	Integrity IntegrityAlg
	Conf      ConfAlg
}

var cipherSuites = []CipherSuite{
	{0, AuthNone, IntegrityNone, ConfNone},
	{1, AuthHMACSHA1, IntegrityNone, ConfNone},
	{2, AuthHMACSHA1, IntegrityHMACSHA1_96, ConfNone},
	{3, AuthHMACSHA1, IntegrityHMACSHA1_96, ConfAESCBC128},
	{15, AuthHMACSHA256, IntegrityNone, ConfNone},
	{16, AuthHMACSHA256, IntegrityHMACSHA256128, ConfNone},
	{17, AuthHMACSHA256, IntegrityHMACSHA256128, ConfAESCBC128},
}

// SupportedCipherSuites lists the IDs this package implements.
func SupportedCipherSuites() []uint8 {
	ids := make([]uint8, len(cipherSuites))
	for i, s := range cipherSuites {
		ids[i] = s.ID
	}
	return ids
}

// LookupCipherSuite returns the algorithms of a supported suite.
func LookupCipherSuite(id uint8) (CipherSuite, bool) {
	for _, s := range cipherSuites {
		if s.ID == id {
			return s, true
		}
	}
	return CipherSuite{}, false
}

// SuiteForAlgorithms finds the standard suite with exactly these algorithms.
func SuiteForAlgorithms(a AuthAlg, i IntegrityAlg, c ConfAlg) (CipherSuite, bool) {
	for _, s := range cipherSuites {
		if s.Auth == a && s.Integrity == i && s.Conf == c {
			return s, true
		}
	}
	return CipherSuite{}, false
}

func (s CipherSuite) String() string {
	return fmt.Sprintf("%d (%s, %s, %s)", s.ID, s.Auth, s.Integrity, s.Conf)
}

// Privilege is an IPMI privilege level.
type Privilege uint8

// Privilege levels (IPMI v2.0 §6.8; in RAKP 1, §13.20).
const (
	PrivilegeCallback      Privilege = 1
	PrivilegeUser          Privilege = 2
	PrivilegeOperator      Privilege = 3
	PrivilegeAdministrator Privilege = 4
	PrivilegeOEM           Privilege = 5
)

func (p Privilege) String() string {
	switch p {
	case 0:
		return "highest"
	case PrivilegeCallback:
		return "callback"
	case PrivilegeUser:
		return "user"
	case PrivilegeOperator:
		return "operator"
	case PrivilegeAdministrator:
		return "administrator"
	case PrivilegeOEM:
		return "oem"
	}
	// A level outside IPMI v2.0 §6.8 (e.g. 0x0f in a broken Set Session
	// Privilege Level answer) is shown as what it is.
	return fmt.Sprintf("unknown (0x%02x)", uint8(p))
}

// ParsePrivilege accepts the names ipmitool uses (case-insensitive) and
// their usual abbreviations.
func ParsePrivilege(s string) (Privilege, error) {
	switch strings.ToLower(s) {
	case "callback":
		return PrivilegeCallback, nil
	case "user":
		return PrivilegeUser, nil
	case "operator", "oper":
		return PrivilegeOperator, nil
	case "administrator", "admin":
		return PrivilegeAdministrator, nil
	}
	return 0, fmt.Errorf("ipmi: unknown privilege level %q (want callback, user, operator or administrator)", s)
}
