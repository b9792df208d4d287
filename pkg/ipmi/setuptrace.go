package ipmi

import (
	"fmt"
	"strings"
)

// Session-setup messages decoded for a protocol trace (Config.Trace). A
// trace may end up in a bug report, so the summaries leave out what would
// help to attack the password offline: the key-exchange codes of RAKP 2 and
// RAKP 3, the integrity check value of RAKP 4 and the two randoms they are
// computed over. Only their lengths are shown. The user name is shown, as it
// is in the clear on the wire and needed to debug a refusal.

var payloadNames = map[PayloadType]string{
	PayloadIPMI:                "IPMI message",
	PayloadSOL:                 "SOL",
	PayloadOEM:                 "OEM explicit",
	PayloadOpenSessionRequest:  "Open Session Request",
	PayloadOpenSessionResponse: "Open Session Response",
	PayloadRAKP1:               "RAKP 1",
	PayloadRAKP2:               "RAKP 2",
	PayloadRAKP3:               "RAKP 3",
	PayloadRAKP4:               "RAKP 4",
}

// payloadName names a payload type for messages. (Not a String method:
// callers print payload types with %x.)
func payloadName(p PayloadType) string {
	if n, ok := payloadNames[p]; ok {
		return n
	}
	return fmt.Sprintf("payload type 0x%02x", uint8(p))
}

// DescribeSetup decodes one session-setup message (an RMCP+ setup payload, or
// for PayloadIPMI a session-less IPMI message) into a name and a one-line
// summary without key-exchange codes, integrity check values or randoms.
func DescribeSetup(pt PayloadType, data []byte) (name, detail string) {
	name = payloadName(pt)
	undecodable := func(err error) string {
		return fmt.Sprintf("%d bytes, undecodable: %s", len(data), strings.TrimPrefix(err.Error(), "ipmi: "))
	}
	switch pt {
	case PayloadIPMI:
		m, err := ParseMessage(data)
		if err != nil {
			return name, undecodable(err)
		}
		kind := "request"
		if m.IsResponse() {
			kind = "response"
		}
		name = CommandName(m.NetFn, m.Cmd) + " " + kind
		if m.IsResponse() && len(m.Data) > 0 {
			return name, fmt.Sprintf("rqSeq %d cc 0x%02x data % x", m.Seq, m.Data[0], m.Data[1:])
		}
		return name, fmt.Sprintf("rqSeq %d data % x", m.Seq, m.Data)
	case PayloadOpenSessionRequest:
		m, err := ParseOpenSessionRequest(data)
		if err != nil {
			return name, undecodable(err)
		}
		return name, fmt.Sprintf("tag %d, max privilege %s, console session 0x%08x, %s/%s/%s",
			m.Tag, m.MaxPrivilege, m.ConsoleSessionID, m.Auth, m.Integrity, m.Conf)
	case PayloadOpenSessionResponse:
		m, err := ParseOpenSessionResponse(data)
		if err != nil {
			return name, undecodable(err)
		}
		if m.Status != StatusOK {
			return name, fmt.Sprintf("tag %d, status %s", m.Tag, m.Status)
		}
		return name, fmt.Sprintf("tag %d, status %s, max privilege %s, console session 0x%08x, BMC session 0x%08x, %s/%s/%s",
			m.Tag, m.Status, m.MaxPrivilege, m.ConsoleSessionID, m.BMCSessionID, m.Auth, m.Integrity, m.Conf)
	case PayloadRAKP1:
		m, err := ParseRAKP1(data)
		if err != nil {
			return name, undecodable(err)
		}
		lookup := "name and privilege lookup"
		if m.Role&0x10 != 0 {
			lookup = "name-only lookup"
		}
		return name, fmt.Sprintf("tag %d, BMC session 0x%08x, privilege %s (%s), user %q, console random (16 bytes, not shown)",
			m.Tag, m.BMCSessionID, Privilege(m.Role&0x0F), lookup, m.Username)
	case PayloadRAKP2:
		m, err := ParseRAKP2(data)
		if err != nil {
			return name, undecodable(err)
		}
		if m.Status != StatusOK {
			return name, fmt.Sprintf("tag %d, status %s, console session 0x%08x", m.Tag, m.Status, m.ConsoleSessionID)
		}
		return name, fmt.Sprintf("tag %d, status %s, console session 0x%08x, BMC GUID % x, BMC random (16 bytes, not shown), key-exchange code (%d bytes, not shown)",
			m.Tag, m.Status, m.ConsoleSessionID, m.BMCGUID, len(m.AuthCode))
	case PayloadRAKP3:
		m, err := ParseRAKP3(data)
		if err != nil {
			return name, undecodable(err)
		}
		return name, fmt.Sprintf("tag %d, status %s, BMC session 0x%08x, key-exchange code (%d bytes, not shown)",
			m.Tag, m.Status, m.BMCSessionID, len(m.AuthCode))
	case PayloadRAKP4:
		m, err := ParseRAKP4(data)
		if err != nil {
			return name, undecodable(err)
		}
		return name, fmt.Sprintf("tag %d, status %s, console session 0x%08x, integrity check value (%d bytes, not shown)",
			m.Tag, m.Status, m.ConsoleSessionID, len(m.ICV))
	}
	return name, fmt.Sprintf("%d bytes", len(data))
}

// traceSetup hands a setup message to the trace hook, decoded.
func (s *Session) traceSetup(sent bool, m setupMsg, err error) {
	if s.cfg.Trace == nil {
		return
	}
	name, detail := DescribeSetup(m.pt, m.data)
	if m.sealed {
		detail += " (inside the session)"
	}
	s.cfg.Trace(TraceEvent{Sent: sent, PayloadType: m.pt, Seq: m.seq, Err: err, Setup: name, Detail: detail})
}

// traceRestart tells the trace hook that setup starts over, and why.
func (s *Session) traceRestart(reason string) {
	if s.cfg.Trace != nil {
		s.cfg.Trace(TraceEvent{Sent: true, Setup: "restart", Detail: reason})
	}
}
