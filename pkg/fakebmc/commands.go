package fakebmc

import (
	"bytes"
	"encoding/binary"

	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// dedupeWindow is how long a retransmitted request (same rqSeq, command and
// data) gets the cached answer instead of being executed again.
const dedupeWindow = 60 * time.Second

// handleRequest answers an in-session IPMI request; s.mu held.
func (s *Server) handleRequest(ss *session, b []byte) {
	m, err := ipmi.ParseMessage(b)
	if err != nil || m.IsResponse() {
		s.drop()
		return
	}
	var k SetupRequest
	if m.NetFn == ipmi.NetFnApp && m.Cmd == ipmi.CmdSetSessionPrivilege {
		k = ReqSetPrivilege
	}
	n, ok := s.arrive(k)
	if !ok {
		return
	}
	lose := lossAt(s.cfg.Faults.LoseReplies, k, n)
	c := &ss.recent[m.Seq&0x3F]
	if c.resp != nil && c.netFn == m.NetFn && c.cmd == m.Cmd && bytes.Equal(c.req, m.Data) && time.Since(c.at) < dedupeWindow {
		if !lose {
			s.send(ss, ipmi.PayloadIPMI, c.resp)
		}
		return
	}
	s.event("request", ss.bmcID, ipmi.CommandName(m.NetFn, m.Cmd))
	data := s.execute(ss, &m)
	resp := appendResponse(nil, &m, data)
	*c = cachedResponse{netFn: m.NetFn, cmd: m.Cmd, req: append([]byte(nil), m.Data...), resp: resp, at: time.Now()}
	if !lose {
		s.send(ss, ipmi.PayloadIPMI, resp)
	}
	if m.NetFn == ipmi.NetFnApp && m.Cmd == ipmi.CmdCloseSession && data[0] == 0 {
		id := binary.LittleEndian.Uint32(m.Data)
		if victim := s.sessions[id]; victim != nil {
			s.event("session-close", id, "")
			s.removeSession(victim)
		}
	}
}

func cc(code ipmi.CompletionCode) []byte { return []byte{byte(code)} }

// minPrivilege is the level each command needs (IPMI 2.0 appendix G).
func minPrivilege(netFn ipmi.NetFn, cmd byte) ipmi.Privilege {
	switch {
	case netFn == ipmi.NetFnChassis && (cmd == ipmi.CmdChassisControl || cmd == ipmi.CmdSetBootOptions):
		return ipmi.PrivilegeOperator
	case netFn == ipmi.NetFnChassis && cmd == ipmi.CmdGetBootOptions:
		return ipmi.PrivilegeOperator
	case netFn == ipmi.NetFnApp && (cmd == ipmi.CmdActivatePayload || cmd == ipmi.CmdDeactivatePayload):
		return ipmi.PrivilegeUser
	case netFn == ipmi.NetFnApp && (cmd == ipmi.CmdSetSessionPrivilege || cmd == ipmi.CmdCloseSession ||
		cmd == ipmi.CmdGetChannelAuthCaps || cmd == ipmi.CmdGetChannelCipherSuites):
		return ipmi.PrivilegeCallback
	}
	return ipmi.PrivilegeUser
}

func (s *Server) execute(ss *session, m *ipmi.Message) []byte {
	if ss.priv < minPrivilege(m.NetFn, m.Cmd) {
		return cc(ipmi.CCInsufficientPriv)
	}
	d := m.Data
	switch m.NetFn {
	case ipmi.NetFnApp:
		switch m.Cmd {
		case ipmi.CmdGetDeviceID:
			return ipmi.DeviceID{DeviceID: 0x20, DeviceRevision: 0x01, FirmwareMajor: 1, FirmwareMinor: 0x00,
				IPMIVersion: 0x02, AdditionalSupport: 0xBF, ManufacturerID: 0xBEEF, ProductID: 0x0623}.Append([]byte{0})
		case ipmi.CmdGetChannelAuthCaps:
			return s.authCaps(d)
		case ipmi.CmdGetChannelCipherSuites:
			return s.cipherSuites(d)
		case ipmi.CmdSetSessionPrivilege:
			return s.setPrivilege(ss, d)
		case ipmi.CmdCloseSession:
			if len(d) < 4 {
				return cc(ipmi.CCDataLengthInvalid)
			}
			id := binary.LittleEndian.Uint32(d)
			if t := s.sessions[id]; t == nil || !t.active {
				return cc(0x87)
			} else if t != ss && ss.priv < ipmi.PrivilegeAdministrator {
				return cc(ipmi.CCInsufficientPriv)
			}
			return cc(ipmi.CCOK)
		case ipmi.CmdActivatePayload:
			return s.sol.activate(ss, d)
		case ipmi.CmdDeactivatePayload:
			return s.sol.deactivate(ss, d)
		case ipmi.CmdGetPayloadActivation:
			return s.sol.activationStatus(d)
		case ipmi.CmdGetPayloadInstanceInfo:
			return s.sol.instanceInfo(d)
		case ipmi.CmdGetChannelPayloadVersion:
			return []byte{0, 0x10}
		case ipmi.CmdGetChannelPayloadSupport:
			// IPMI and SOL; session setup payloads 0x10–0x15.
			return []byte{0, 0x03, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00}
		}
	case ipmi.NetFnChassis:
		switch m.Cmd {
		case ipmi.CmdGetChassisStatus:
			return s.chassis.Status().Append([]byte{0})
		case ipmi.CmdChassisControl:
			if len(d) < 1 {
				return cc(ipmi.CCDataLengthInvalid)
			}
			a := ipmi.ChassisAction(d[0] & 0x0F)
			if a > ipmi.SoftShutdown {
				return cc(ipmi.CCInvalidDataField)
			}
			if err := s.chassis.Control(a); err != nil {
				return cc(ipmi.CCNotSupportedNow)
			}
			s.event("chassis-control", ss.bmcID, a.String())
			s.sol.powerChanged()
			return cc(ipmi.CCOK)
		case ipmi.CmdSetBootOptions:
			return s.setBootOption(d)
		case ipmi.CmdGetBootOptions:
			return s.getBootOption(d)
		}
	}
	return cc(ipmi.CCInvalidCommand)
}

func (s *Server) setPrivilege(ss *session, d []byte) []byte {
	if len(d) < 1 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	if code := s.cfg.Faults.RefuseSetPrivilege; code != 0 {
		return cc(code)
	}
	p := ipmi.Privilege(d[0] & 0x0F)
	switch {
	case p == 0:
	case p > ipmi.PrivilegeAdministrator:
		return cc(ipmi.CCInvalidDataField)
	case p > userMax(ss.user):
		return cc(0x81) // exceeds the user's limit
	case p > ss.maxPriv:
		return cc(0x80) // above what the session was opened for
	default:
		ss.priv = p
	}
	return []byte{0, byte(ss.priv)}
}

func (s *Server) setBootOption(d []byte) []byte {
	if len(d) < 1 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	param := d[0] & 0x7F
	d = d[1:]
	switch param {
	case ipmi.BootParamSetInProgress:
		if s.cfg.RejectBootParam0 {
			return cc(0x80)
		}
		if len(d) < 1 {
			return cc(ipmi.CCDataLengthInvalid)
		}
		s.chassis.mu.Lock()
		if d[0]&3 == 1 && s.chassis.setInProg == 1 {
			s.chassis.mu.Unlock()
			return cc(0x81)
		}
		s.chassis.setInProg = d[0] & 3
		if s.chassis.setInProg == 2 {
			s.chassis.setInProg = 0
		}
		s.chassis.mu.Unlock()
		return cc(ipmi.CCOK)
	case 3, ipmi.BootParamInfoAck:
		return cc(ipmi.CCOK)
	case ipmi.BootParamFlags:
		f, err := ipmi.ParseBootFlags(d)
		if err != nil {
			return cc(ipmi.CCDataLengthInvalid)
		}
		if err := s.chassis.SetBootFlags(f); err != nil {
			return cc(ipmi.CCNotSupportedNow)
		}
		return cc(ipmi.CCOK)
	}
	return cc(0x80)
}

func (s *Server) getBootOption(d []byte) []byte {
	if len(d) < 3 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	param := d[0] & 0x7F
	switch param {
	case ipmi.BootParamSetInProgress:
		s.chassis.mu.Lock()
		v := s.chassis.setInProg
		s.chassis.mu.Unlock()
		return []byte{0, 1, param, v}
	case ipmi.BootParamFlags:
		return s.chassis.BootFlags().Append([]byte{0, 1, param})
	}
	return cc(0x80)
}
