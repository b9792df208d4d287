package ipmi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RMCP framing (IPMI v2.0 §13.1.3). ipmi_sim drops a datagram whose RMCP
// sequence number is not 0xFF (docs/bmc-quirks.md).
const (
	rmcpVersion = 0x06
	rmcpNoAck   = 0xFF // RMCP sequence number meaning "no RMCP ACK"; ipmi_sim drops anything else

	ClassASF  = 0x06
	ClassIPMI = 0x07

	// AuthTypeRMCPPlus in the byte after the RMCP header marks an IPMI 2.0 packet.
	AuthTypeRMCPPlus = 0x06

	rmcpHeaderLen = 4
	// DefaultPort is the RMCP/IPMI UDP port.
	DefaultPort = 623
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed packet")

func malformed(format string, args ...any) error {
	return fmt.Errorf("ipmi: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// AppendRMCPHeader appends the 4-byte RMCP header for class.
func AppendRMCPHeader(b []byte, class byte) []byte {
	return append(b, rmcpVersion, 0, rmcpNoAck, class)
}

// ParseRMCPHeader checks the RMCP header and returns the message class and the
// rest of the datagram.
func ParseRMCPHeader(b []byte) (class byte, rest []byte, err error) {
	if len(b) < rmcpHeaderLen {
		return 0, nil, malformed("datagram of %d bytes is shorter than the RMCP header", len(b))
	}
	if b[0] != rmcpVersion {
		return 0, nil, malformed("RMCP version 0x%02x", b[0])
	}
	if b[3]&0x80 != 0 {
		return 0, nil, malformed("RMCP ACK (class 0x%02x) not expected", b[3])
	}
	return b[3] & 0x1F, b[rmcpHeaderLen:], nil
}

// ASF presence ping/pong (IPMI v2.0 §13.2.3, §13.2.4).
const (
	asfIANA        = 4542
	asfTypePing    = 0x80
	asfTypePong    = 0x40
	asfHeaderLen   = 8
	asfPongDataLen = 0x10
)

// ASFMessage is an ASF presence ping or pong.
type ASFMessage struct {
	Type byte // 0x80 ping, 0x40 pong
	Tag  byte
	// IPMISupported is the pong's "supported entities" bit 7.
	IPMISupported bool
}

// AppendASF appends a whole ASF ping or pong datagram.
func AppendASF(b []byte, m ASFMessage) []byte {
	b = AppendRMCPHeader(b, ClassASF)
	b = binary.BigEndian.AppendUint32(b, asfIANA)
	b = append(b, m.Type, m.Tag, 0)
	if m.Type != asfTypePong {
		return append(b, 0)
	}
	b = append(b, asfPongDataLen)
	b = binary.BigEndian.AppendUint32(b, asfIANA)
	b = append(b, 0, 0, 0, 0)
	entities := byte(0x01)
	if m.IPMISupported {
		entities |= 0x80
	}
	b = append(b, entities, 0)
	return append(b, 0, 0, 0, 0, 0, 0)
}

// ParseASF decodes the ASF part of a datagram (after the RMCP header).
func ParseASF(b []byte) (ASFMessage, error) {
	if len(b) < asfHeaderLen {
		return ASFMessage{}, malformed("ASF message of %d bytes", len(b))
	}
	if binary.BigEndian.Uint32(b) != asfIANA {
		return ASFMessage{}, malformed("ASF IANA %d", binary.BigEndian.Uint32(b))
	}
	m := ASFMessage{Type: b[4], Tag: b[5]}
	n := int(b[7])
	if len(b) < asfHeaderLen+n {
		return ASFMessage{}, malformed("ASF data length %d beyond datagram", n)
	}
	if m.Type == asfTypePong && n >= 9 {
		m.IPMISupported = b[asfHeaderLen+8]&0x80 != 0
	}
	return m, nil
}

// IPMI 1.5 session-less frames carry Get Channel Authentication Capabilities
// before any session exists (IPMI v2.0 §13.6, Table 13-8: the IPMI v1.5
// session header). Only auth type "none" with
// session ID 0 is produced or accepted here.

// AppendV15 appends a whole IPMI 1.5 session-less datagram carrying msg,
// which must be shorter than 256 bytes (the length field is one byte).
func AppendV15(b []byte, msg []byte) []byte {
	if len(msg) > 0xFF {
		panic("ipmi: IPMI 1.5 message longer than 255 bytes")
	}
	b = AppendRMCPHeader(b, ClassIPMI)
	b = append(b, 0)          // auth type none
	b = append(b, 0, 0, 0, 0) // session sequence
	b = append(b, 0, 0, 0, 0) // session ID
	b = append(b, byte(len(msg)))
	return append(b, msg...)
}

// ParseV15 decodes an IPMI 1.5 frame (after the RMCP header) and returns its
// session ID and the IPMI message.
func ParseV15(b []byte) (sessionID uint32, msg []byte, err error) {
	if len(b) < 10 {
		return 0, nil, malformed("IPMI 1.5 frame of %d bytes", len(b))
	}
	authType := b[0]
	sessionID = binary.LittleEndian.Uint32(b[5:])
	off := 9
	if authType != 0 {
		off += 16
	}
	if len(b) < off+1 {
		return 0, nil, malformed("IPMI 1.5 frame of %d bytes with auth code", len(b))
	}
	n := int(b[off])
	off++
	if len(b) < off+n {
		return 0, nil, malformed("IPMI 1.5 message length %d beyond frame", n)
	}
	return sessionID, b[off : off+n], nil
}
