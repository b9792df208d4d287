package ipmi

import (
	"encoding/binary"
	"fmt"
)

// StatusCode is an RMCP+ status code carried in Open Session and RAKP
// messages (IPMI v2.0 §13.24, Table 13-15).
type StatusCode uint8

// RMCP+ status codes.
const (
	StatusOK                    StatusCode = 0x00
	StatusNoResources           StatusCode = 0x01
	StatusInvalidSessionID      StatusCode = 0x02
	StatusInvalidPayloadType    StatusCode = 0x03
	StatusInvalidAuthAlg        StatusCode = 0x04
	StatusInvalidIntegrityAlg   StatusCode = 0x05
	StatusNoMatchingAuth        StatusCode = 0x06
	StatusNoMatchingIntegrity   StatusCode = 0x07
	StatusInactiveSessionID     StatusCode = 0x08
	StatusInvalidRole           StatusCode = 0x09
	StatusUnauthorizedRole      StatusCode = 0x0A
	StatusNoResourcesForRole    StatusCode = 0x0B
	StatusInvalidNameLength     StatusCode = 0x0C
	StatusUnauthorizedName      StatusCode = 0x0D
	StatusUnauthorizedGUID      StatusCode = 0x0E
	StatusInvalidIntegrityCheck StatusCode = 0x0F
	StatusInvalidConfAlg        StatusCode = 0x10
	StatusNoCipherSuiteMatch    StatusCode = 0x11
	StatusIllegalParameter      StatusCode = 0x12
)

var statusText = map[StatusCode]string{
	StatusOK:                    "no errors",
	StatusNoResources:           "insufficient resources for session",
	StatusInvalidSessionID:      "invalid session ID",
	StatusInvalidPayloadType:    "invalid payload type",
	StatusInvalidAuthAlg:        "invalid authentication algorithm",
	StatusInvalidIntegrityAlg:   "invalid integrity algorithm",
	StatusNoMatchingAuth:        "no matching authentication payload",
	StatusNoMatchingIntegrity:   "no matching integrity payload",
	StatusInactiveSessionID:     "inactive session ID",
	StatusInvalidRole:           "invalid role",
	StatusUnauthorizedRole:      "unauthorized role or privilege level requested",
	StatusNoResourcesForRole:    "insufficient resources to create a session at the requested role",
	StatusInvalidNameLength:     "invalid name length",
	StatusUnauthorizedName:      "unauthorized name",
	StatusUnauthorizedGUID:      "unauthorized GUID",
	StatusInvalidIntegrityCheck: "invalid integrity check value",
	StatusInvalidConfAlg:        "invalid confidentiality algorithm",
	StatusNoCipherSuiteMatch:    "no cipher suite match with proposed security algorithms",
	StatusIllegalParameter:      "illegal or unrecognized parameter",
}

func (c StatusCode) String() string {
	if s, ok := statusText[c]; ok {
		return fmt.Sprintf("0x%02x %s", uint8(c), s)
	}
	return fmt.Sprintf("0x%02x", uint8(c))
}

// OpenSessionRequest is the RMCP+ Open Session Request (payload 0x10, IPMI
// v2.0 §13.17).
type OpenSessionRequest struct {
	Tag              byte
	MaxPrivilege     Privilege // 0 = highest the suite allows
	ConsoleSessionID uint32
	Auth             AuthAlg
	Integrity        IntegrityAlg
	Conf             ConfAlg
}

func appendAlgPayload(b []byte, kind, alg byte) []byte {
	return append(b, kind, 0, 0, 8, alg&0x3F, 0, 0, 0)
}

// parseAlgPayload reads one 8-byte algorithm payload. A length byte of 0
// ("use the BMC's default", which ipmi_sim accepts) is refused: no client
// sends it, and guessing a default would weaken the negotiation.
func parseAlgPayload(b []byte, kind byte) (alg byte, err error) {
	if b[0] != kind {
		return 0, malformed("algorithm payload type %d, want %d", b[0], kind)
	}
	if b[3] != 8 {
		return 0, malformed("algorithm payload length %d", b[3])
	}
	return b[4] & 0x3F, nil
}

// Append appends the wire form.
func (m *OpenSessionRequest) Append(b []byte) []byte {
	b = append(b, m.Tag, byte(m.MaxPrivilege)&0x0F, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, m.ConsoleSessionID)
	b = appendAlgPayload(b, 0, byte(m.Auth))
	b = appendAlgPayload(b, 1, byte(m.Integrity))
	return appendAlgPayload(b, 2, byte(m.Conf))
}

// ParseOpenSessionRequest decodes payload 0x10.
func ParseOpenSessionRequest(b []byte) (OpenSessionRequest, error) {
	if len(b) < 32 {
		return OpenSessionRequest{}, malformed("Open Session Request of %d bytes, want 32", len(b))
	}
	m := OpenSessionRequest{
		Tag:              b[0],
		MaxPrivilege:     Privilege(b[1] & 0x0F),
		ConsoleSessionID: binary.LittleEndian.Uint32(b[4:]),
	}
	a, err := parseAlgPayload(b[8:], 0)
	if err != nil {
		return m, err
	}
	i, err := parseAlgPayload(b[16:], 1)
	if err != nil {
		return m, err
	}
	c, err := parseAlgPayload(b[24:], 2)
	if err != nil {
		return m, err
	}
	m.Auth, m.Integrity, m.Conf = AuthAlg(a), IntegrityAlg(i), ConfAlg(c)
	return m, nil
}

// OpenSessionResponse is payload 0x11 (IPMI v2.0 §13.18). On a non-zero
// status only Tag and Status are on the wire.
type OpenSessionResponse struct {
	Tag              byte
	Status           StatusCode
	MaxPrivilege     Privilege
	ConsoleSessionID uint32
	BMCSessionID     uint32
	Auth             AuthAlg
	Integrity        IntegrityAlg
	Conf             ConfAlg
}

// Append appends the wire form.
func (m *OpenSessionResponse) Append(b []byte) []byte {
	b = append(b, m.Tag, byte(m.Status))
	if m.Status != StatusOK {
		return b
	}
	b = append(b, byte(m.MaxPrivilege)&0x0F, 0)
	b = binary.LittleEndian.AppendUint32(b, m.ConsoleSessionID)
	b = binary.LittleEndian.AppendUint32(b, m.BMCSessionID)
	b = appendAlgPayload(b, 0, byte(m.Auth))
	b = appendAlgPayload(b, 1, byte(m.Integrity))
	return appendAlgPayload(b, 2, byte(m.Conf))
}

// ParseOpenSessionResponse decodes payload 0x11.
func ParseOpenSessionResponse(b []byte) (OpenSessionResponse, error) {
	if len(b) < 2 {
		return OpenSessionResponse{}, malformed("Open Session Response of %d bytes, want at least 2", len(b))
	}
	m := OpenSessionResponse{Tag: b[0], Status: StatusCode(b[1])}
	if m.Status != StatusOK {
		return m, nil
	}
	if len(b) < 36 {
		return m, malformed("Open Session Response of %d bytes, want 36", len(b))
	}
	m.MaxPrivilege = Privilege(b[2] & 0x0F)
	m.ConsoleSessionID = binary.LittleEndian.Uint32(b[4:])
	m.BMCSessionID = binary.LittleEndian.Uint32(b[8:])
	a, err := parseAlgPayload(b[12:], 0)
	if err != nil {
		return m, err
	}
	i, err := parseAlgPayload(b[20:], 1)
	if err != nil {
		return m, err
	}
	c, err := parseAlgPayload(b[28:], 2)
	if err != nil {
		return m, err
	}
	m.Auth, m.Integrity, m.Conf = AuthAlg(a), IntegrityAlg(i), ConfAlg(c)
	return m, nil
}

// RAKP1 is payload 0x12 (IPMI v2.0 §13.20).
type RAKP1 struct {
	Tag           byte
	BMCSessionID  uint32
	ConsoleRandom [16]byte
	Role          byte // privilege in bits 3:0, bit 4 = name-only lookup
	Username      []byte
}

// Append appends the wire form.
func (m *RAKP1) Append(b []byte) []byte {
	b = append(b, m.Tag, 0, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, m.BMCSessionID)
	b = append(b, m.ConsoleRandom[:]...)
	b = append(b, m.Role, 0, 0, byte(len(m.Username)))
	return append(b, m.Username...)
}

// ParseRAKP1 decodes payload 0x12. Username aliases b.
func ParseRAKP1(b []byte) (RAKP1, error) {
	if len(b) < 28 {
		return RAKP1{}, malformed("RAKP 1 of %d bytes, want at least 28", len(b))
	}
	m := RAKP1{Tag: b[0], BMCSessionID: binary.LittleEndian.Uint32(b[4:]), Role: b[24]}
	copy(m.ConsoleRandom[:], b[8:24])
	n := int(b[27])
	if n > 16 || len(b) < 28+n {
		return m, malformed("RAKP 1 username length %d", n)
	}
	m.Username = b[28 : 28+n]
	return m, nil
}

// RAKP2 is payload 0x13 (IPMI v2.0 §13.21).
type RAKP2 struct {
	Tag              byte
	Status           StatusCode
	ConsoleSessionID uint32
	BMCRandom        [16]byte
	BMCGUID          [16]byte
	AuthCode         []byte
}

// Append appends the wire form.
func (m *RAKP2) Append(b []byte) []byte {
	b = append(b, m.Tag, byte(m.Status), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, m.ConsoleSessionID)
	if m.Status != StatusOK {
		return b
	}
	b = append(b, m.BMCRandom[:]...)
	b = append(b, m.BMCGUID[:]...)
	return append(b, m.AuthCode...)
}

// ParseRAKP2 decodes payload 0x13. AuthCode aliases b.
func ParseRAKP2(b []byte) (RAKP2, error) {
	if len(b) < 2 {
		return RAKP2{}, malformed("RAKP 2 of %d bytes, want at least 2", len(b))
	}
	m := RAKP2{Tag: b[0], Status: StatusCode(b[1])}
	if m.Status != StatusOK {
		if len(b) >= 8 {
			m.ConsoleSessionID = binary.LittleEndian.Uint32(b[4:])
		}
		return m, nil
	}
	if len(b) < 40 {
		return m, malformed("RAKP 2 of %d bytes, want at least 40", len(b))
	}
	m.ConsoleSessionID = binary.LittleEndian.Uint32(b[4:])
	copy(m.BMCRandom[:], b[8:24])
	copy(m.BMCGUID[:], b[24:40])
	m.AuthCode = b[40:]
	return m, nil
}

// RAKP3 is payload 0x14 (IPMI v2.0 §13.22).
type RAKP3 struct {
	Tag          byte
	Status       StatusCode
	BMCSessionID uint32
	AuthCode     []byte
}

// Append appends the wire form.
func (m *RAKP3) Append(b []byte) []byte {
	b = append(b, m.Tag, byte(m.Status), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, m.BMCSessionID)
	return append(b, m.AuthCode...)
}

// ParseRAKP3 decodes payload 0x14. AuthCode aliases b.
func ParseRAKP3(b []byte) (RAKP3, error) {
	if len(b) < 8 {
		return RAKP3{}, malformed("RAKP 3 of %d bytes, want at least 8", len(b))
	}
	return RAKP3{Tag: b[0], Status: StatusCode(b[1]), BMCSessionID: binary.LittleEndian.Uint32(b[4:]), AuthCode: b[8:]}, nil
}

// RAKP4 is payload 0x15 (IPMI v2.0 §13.23).
type RAKP4 struct {
	Tag              byte
	Status           StatusCode
	ConsoleSessionID uint32
	ICV              []byte
}

// Append appends the wire form.
func (m *RAKP4) Append(b []byte) []byte {
	b = append(b, m.Tag, byte(m.Status), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, m.ConsoleSessionID)
	return append(b, m.ICV...)
}

// ParseRAKP4 decodes payload 0x15. ICV aliases b.
func ParseRAKP4(b []byte) (RAKP4, error) {
	if len(b) < 2 {
		return RAKP4{}, malformed("RAKP 4 of %d bytes, want at least 2", len(b))
	}
	m := RAKP4{Tag: b[0], Status: StatusCode(b[1])}
	if len(b) >= 8 {
		m.ConsoleSessionID = binary.LittleEndian.Uint32(b[4:])
		m.ICV = b[8:]
	} else if m.Status == StatusOK {
		return m, malformed("RAKP 4 of %d bytes, want at least 8", len(b))
	}
	return m, nil
}
