package ipmi

import "fmt"

// NetFn is an IPMI network function code (requests are even, responses odd).
type NetFn uint8

// Network functions used by ghmicons.
const (
	NetFnChassis   NetFn = 0x00
	NetFnApp       NetFn = 0x06
	NetFnTransport NetFn = 0x0C
)

// Addresses used on the LAN channel (IPMI v2.0 §5.5: the BMC, and the
// software ID of a remote console).
const (
	AddrBMC     = 0x20
	AddrConsole = 0x81
)

// Message is an IPMI message (IPMI v2.0 §13.8). For a request the target is
// the BMC (0x20) and the source the console (0x81); a response swaps them and
// its Data starts with the completion code.
type Message struct {
	TargetAddr byte
	NetFn      NetFn
	TargetLUN  byte
	SourceAddr byte
	Seq        byte // rqSeq, 6 bits
	SourceLUN  byte
	Cmd        byte
	Data       []byte
}

const messageOverhead = 7 // six header bytes and chk2

// IsResponse reports whether the network function is a response one.
func (m *Message) IsResponse() bool { return m.NetFn&1 == 1 }

func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return -s
}

// AppendMessage appends the wire form of m.
func AppendMessage(b []byte, m *Message) []byte {
	start := len(b)
	b = append(b, m.TargetAddr, byte(m.NetFn)<<2|m.TargetLUN&3)
	b = append(b, checksum(b[start:start+2]))
	body := len(b)
	b = append(b, m.SourceAddr, m.Seq<<2|m.SourceLUN&3, m.Cmd)
	b = append(b, m.Data...)
	return append(b, checksum(b[body:]))
}

// ParseMessage decodes an IPMI message and verifies both checksums. Data
// aliases b.
func ParseMessage(b []byte) (Message, error) {
	if len(b) < messageOverhead {
		return Message{}, malformed("IPMI message of %d bytes", len(b))
	}
	if checksum(b[:3]) != 0 {
		return Message{}, malformed("IPMI header checksum")
	}
	if checksum(b[3:]) != 0 {
		return Message{}, malformed("IPMI data checksum")
	}
	return Message{
		TargetAddr: b[0],
		NetFn:      NetFn(b[1] >> 2),
		TargetLUN:  b[1] & 3,
		SourceAddr: b[3],
		Seq:        b[4] >> 2,
		SourceLUN:  b[4] & 3,
		Cmd:        b[5],
		Data:       b[6 : len(b)-1],
	}, nil
}

func (m *Message) String() string {
	return fmt.Sprintf("netfn 0x%02x cmd 0x%02x seq %d data % x", m.NetFn, m.Cmd, m.Seq, m.Data)
}
