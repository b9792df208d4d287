package sol

import (
	"fmt"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Packet is a SOL payload (IPMI v2.0 §15.9).
type Packet struct {
	Seq      byte // 1–15; 0 = no character data (ACK or status only)
	AckSeq   byte // sequence number being ACKed or NACKed, 0 = none
	Accepted byte // characters accepted of the packet AckSeq names
	Status   byte // operation/status bits
	Data     []byte
}

// Status bits, BMC → console.
const (
	StatusNack         = 0x40
	StatusUnavailable  = 0x20 // character transfer unavailable (host off, port busy)
	StatusDeactivating = 0x10 // SOL deactivating: the console was taken or closed
	StatusOverrun      = 0x08 // characters dropped
	StatusBreak        = 0x04 // break detected on the host side
)

// Operation bits, console → BMC.
const (
	OpNack        = 0x40
	OpRing        = 0x20
	OpBreak       = 0x10 // generate BREAK
	OpCTSPause    = 0x08
	OpDCDDeassert = 0x04
	OpFlushIn     = 0x02
	OpFlushOut    = 0x01
)

// HeaderLen is the size of the SOL header.
const HeaderLen = 4

// MaxChars is the most characters one packet can carry: the accepted count
// is one byte.
const MaxChars = 255

// Append appends the wire form of p.
func (p *Packet) Append(b []byte) []byte {
	b = append(b, p.Seq&0x0F, p.AckSeq&0x0F, p.Accepted, p.Status)
	return append(b, p.Data...)
}

// ParsePacket decodes a SOL payload; Data aliases b.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return Packet{}, fmt.Errorf("sol: %w: payload of %d bytes", ipmi.ErrMalformed, len(b))
	}
	return Packet{Seq: b[0] & 0x0F, AckSeq: b[1] & 0x0F, Accepted: b[2], Status: b[3], Data: b[4:]}, nil
}

// nextSeq is the sequence number after s: 1–15, never 0.
func nextSeq(s byte) byte { return s%15 + 1 }

// prevSeq is the sequence number before s.
func prevSeq(s byte) byte {
	if s <= 1 {
		return 15
	}
	return s - 1
}
