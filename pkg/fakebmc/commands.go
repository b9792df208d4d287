package fakebmc

import (
	"bytes"
	"context"
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
	if c.netFn == m.NetFn && c.cmd == m.Cmd && bytes.Equal(c.req, m.Data) && !s.sol.noCache(m.NetFn, m.Cmd) {
		if c.pending != nil {
			// Its hook still runs: the answer goes out when it ends, and
			// running the hook again would cycle the host twice.
			return
		}
		if c.resp != nil && time.Since(c.at) < dedupeWindow {
			if !lose {
				s.send(ss, ipmi.PayloadIPMI, c.resp)
			}
			return
		}
	}
	s.event(EventRequest, ss.bmcID, ipmi.CommandName(m.NetFn, m.Cmd))
	if s.cfg.Faults.unanswered(ipmi.CommandName(m.NetFn, m.Cmd)) {
		return
	}
	data := s.execute(ss, &m)
	if data == nil {
		// A chassis hook runs; chassisChange took the cache slot and
		// finishChange answers.
		return
	}
	if s.sol.loseAnswer(m.NetFn, m.Cmd, data) {
		*c = cachedResponse{}
		return
	}
	resp := appendResponse(nil, &m, data)
	*c = cachedResponse{netFn: m.NetFn, cmd: m.Cmd, req: append([]byte(nil), m.Data...), resp: resp, at: time.Now()}
	if m.NetFn == ipmi.NetFnApp && m.Cmd == ipmi.CmdCloseSession && data[0] == 0 {
		// Closed (and its events recorded) before the answer goes out: a
		// console that has its answer finds the session gone. The answer is
		// still sealed with the closed session's keys.
		id := binary.LittleEndian.Uint32(m.Data)
		if victim := s.sessions[id]; victim != nil {
			s.event(EventSessionClose, id, "")
			s.removeSession(victim)
		}
	}
	if !lose {
		s.send(ss, ipmi.PayloadIPMI, resp)
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
			if q := s.chassis.PowerQuery; q != nil {
				return s.answerLater(ss, m, func(ctx context.Context) ([]byte, error) {
					on, err := q(ctx)
					if err != nil {
						return nil, err
					}
					s.chassis.setPower(on)
					return s.chassis.Status().Append([]byte{0}), nil
				})
			}
			return s.chassis.Status().Append([]byte{0})
		case ipmi.CmdChassisControl:
			if len(d) < 1 {
				return cc(ipmi.CCDataLengthInvalid)
			}
			a := ipmi.ChassisAction(d[0] & 0x0F)
			if a > ipmi.SoftShutdown {
				return cc(ipmi.CCInvalidDataField)
			}
			return s.chassisChange(ss, m, s.chassis.controlHook(a, s.cfg.Faults.ChassisDelay), func() {
				s.chassis.apply(a)
				s.event(EventChassisControl, ss.bmcID, a.String())
				s.sol.powerChanged()
			})
		case ipmi.CmdSetBootOptions:
			return s.setBootOption(ss, m)
		case ipmi.CmdGetBootOptions:
			if q := s.chassis.BootQuery; q != nil && len(d) >= 3 && d[0]&0x7F == ipmi.BootParamFlags {
				return s.answerLater(ss, m, func(ctx context.Context) ([]byte, error) {
					dev, err := q(ctx)
					if err != nil {
						return nil, err
					}
					f := s.chassis.BootFlags()
					f.Valid, f.Device = true, dev
					return f.Append([]byte{0, 1, ipmi.BootParamFlags}), nil
				})
			}
			return s.getBootOption(d)
		}
	case ipmi.NetFnTransport:
		if m.Cmd == cmdGetSOLConfig {
			return s.sol.getConfig(d)
		}
	}
	return cc(ipmi.CCInvalidCommand)
}

// chassisChange carries out a change of the chassis (power, boot flags)
// whose hook may take long: the hook runs on a goroutine of its own without
// the server lock, so other sessions and the SOL timers go on meanwhile,
// and finishChange answers when it ends. It returns nil then (the answer
// comes later), or the answer now: at once when there is no hook, 0xC0
// (node busy) while another change's hook runs. s.mu held.
func (s *Server) chassisChange(ss *session, m *ipmi.Message, hook func(context.Context) error, apply func()) []byte {
	if s.closed {
		return cc(ipmi.CCNodeBusy) // not sent: the server is closing
	}
	if err := s.chassis.begin(); err != nil {
		return cc(ipmi.CCNodeBusy)
	}
	if hook == nil {
		apply()
		s.chassis.end()
		return cc(ipmi.CCOK)
	}
	job := s.pendingJob(ss, m)
	s.hooks.Add(1)
	go s.finishChange(ss, job, hook, apply)
	return nil
}

// pendingJob marks m's cache slot "running" until the answer is in it,
// so that a retransmission does not run the hook again. s.mu held.
func (s *Server) pendingJob(ss *session, m *ipmi.Message) *hookJob {
	job := &hookJob{req: *m}
	job.req.Data = append([]byte(nil), m.Data...)
	ss.recent[m.Seq&0x3F] = cachedResponse{netFn: m.NetFn, cmd: m.Cmd, req: job.req.Data, at: time.Now(), pending: job}
	return job
}

// answerLater answers m with what work returns, work running on a
// goroutine of its own without the server lock (a provider's status or
// boot device command) under the chassis's HookTimeout. A failure is its
// completion code (completionCode). It returns nil: the answer comes
// later. s.mu held.
func (s *Server) answerLater(ss *session, m *ipmi.Message, work func(context.Context) ([]byte, error)) []byte {
	if s.closed {
		return cc(ipmi.CCNodeBusy) // not sent: the server is closing
	}
	job := s.pendingJob(ss, m)
	s.hooks.Add(1)
	go func() {
		defer s.hooks.Done()
		var data []byte
		// runHook returns fn's error only once fn has returned, so data
		// is read only when work finished.
		err := s.chassis.runHook(s.hookCtx, func(ctx context.Context) error {
			var err error
			data, err = work(ctx)
			return err
		})
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.event(EventHookFailed, ss.bmcID, err.Error())
			data = cc(completionCode(err))
		}
		s.answerJob(ss, job, data)
	}()
	return nil
}

// hookJob is a request waiting for its chassis hook.
type hookJob struct {
	req ipmi.Message
}

// finishChange runs a chassis hook, then (with the server lock) applies the
// change if it succeeded and answers the request.
func (s *Server) finishChange(ss *session, job *hookJob, hook func(context.Context) error, apply func()) {
	defer s.hooks.Done()
	err := s.chassis.runHook(s.hookCtx, hook)
	s.mu.Lock()
	defer s.mu.Unlock()
	code := ipmi.CCOK
	if err == nil {
		apply()
	} else {
		code = completionCode(err)
	}
	s.chassis.end()
	if err != nil {
		s.event(EventHookFailed, ss.bmcID, err.Error())
	}
	s.answerJob(ss, job, cc(code))
}

// answerJob sends the answer data of a request that waited for a hook or
// query; s.mu held.
func (s *Server) answerJob(ss *session, job *hookJob, data []byte) {
	c := &ss.recent[job.req.Seq&0x3F]
	if s.closed || c.pending != job {
		// Closing, or the console reused the sequence number for another
		// request: nobody waits for this answer.
		return
	}
	resp := appendResponse(nil, &job.req, data)
	c.pending, c.resp, c.at = nil, resp, time.Now()
	if s.sessions[ss.bmcID] == ss && ss.active {
		s.send(ss, ipmi.PayloadIPMI, resp)
	}
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

func (s *Server) setBootOption(ss *session, m *ipmi.Message) []byte {
	d := m.Data
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
		return s.chassisChange(ss, m, s.chassis.bootHook(f, s.cfg.Faults.ChassisDelay), func() {
			s.chassis.setBoot(f)
		})
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
