package fakebmc

import (
	"bytes"
	"crypto/hmac"
	"net"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// session is one RMCP+ session; all fields are guarded by Server.mu.
type session struct {
	bmcID, consoleID uint32
	addr             net.Addr // where IPMI requests come from
	solAddr          net.Addr // where SOL packets come from, nil before the first
	suite            ipmi.CipherSuite
	user             *User
	hs               ipmi.Handshake
	maxPriv          ipmi.Privilege // what RAKP 1 asked for (and the user allows)
	priv             ipmi.Privilege // current level
	lastSeen         time.Time

	// Setup state and the answers kept for retransmitted requests.
	openTag    byte
	openResp   []byte
	rakp2      []byte
	rakp4      []byte
	rakp3Code  []byte
	active     bool
	seal, open *ipmi.SessionCipher
	window     ipmi.SeqWindow
	outSeq     uint32

	// recent responses by rqSeq, so that a retransmitted request is answered
	// without being executed twice (a lost answer to "power cycle" must not
	// cycle the host again).
	recent [64]cachedResponse

	sol *solSession
}

type cachedResponse struct {
	netFn ipmi.NetFn
	cmd   byte
	req   []byte
	resp  []byte // nil while pending
	at    time.Time
	// pending is set while the request's chassis hook runs (see
	// chassisChange): a retransmission then gets no answer, the hook's end
	// sends it.
	pending *hookJob
}

func (ss *session) stopTimers() {
	if ss.sol != nil {
		ss.sol.stop()
	}
}

// send seals and writes a payload in the session; s.mu held.
func (s *Server) send(ss *session, pt ipmi.PayloadType, payload []byte) {
	ss.outSeq = ipmi.NextSeq(ss.outSeq)
	pkt, err := ss.seal.Seal(s.wbuf[:0], pt, ss.consoleID, ss.outSeq, payload)
	if err != nil {
		return
	}
	s.wbuf = pkt[:0]
	to := ss.addr
	if pt == ipmi.PayloadSOL && ss.solAddr != nil {
		to = ss.solAddr
	}
	s.write(pkt, to)
}

// handleSetup handles session-less RMCP+ packets; s.mu held.
func (s *Server) handleSetup(pt ipmi.PayloadType, b []byte, from net.Addr) {
	switch pt {
	case ipmi.PayloadIPMI:
		m, err := ipmi.ParseMessage(b)
		if err != nil || m.IsResponse() {
			s.drop()
			return
		}
		resp, ok := s.sessionless(&m)
		if !ok {
			s.drop()
			return
		}
		s.write(ipmi.AppendPlain(nil, ipmi.PayloadIPMI, 0, 0, resp), from)
	case ipmi.PayloadOpenSessionRequest:
		s.openSession(b, from)
	case ipmi.PayloadRAKP1:
		s.rakp1(b, from)
	case ipmi.PayloadRAKP3:
		s.rakp3(b, from)
	default:
		s.drop()
	}
}

func (s *Server) offers(id uint8) bool {
	for _, o := range s.cfg.CipherSuites {
		if o == id {
			return true
		}
	}
	return false
}

func (s *Server) openSession(b []byte, from net.Addr) {
	req, err := ipmi.ParseOpenSessionRequest(b)
	if err != nil {
		s.drop()
		return
	}
	reply := func(r ipmi.OpenSessionResponse) []byte {
		p := r.Append(nil)
		s.write(ipmi.AppendPlain(nil, ipmi.PayloadOpenSessionResponse, 0, 0, p), from)
		return p
	}
	// A retransmitted request: answer as before instead of opening another.
	for _, ss := range s.sessions {
		if !ss.active && ss.consoleID == req.ConsoleSessionID && ss.openTag == req.Tag && ss.openResp != nil &&
			ss.addr.String() == from.String() {
			s.write(ipmi.AppendPlain(nil, ipmi.PayloadOpenSessionResponse, 0, 0, ss.openResp), from)
			return
		}
	}
	if req.ConsoleSessionID == 0 {
		reply(ipmi.OpenSessionResponse{Tag: req.Tag, Status: ipmi.StatusInvalidSessionID})
		return
	}
	suite, ok := ipmi.SuiteForAlgorithms(req.Auth, req.Integrity, req.Conf)
	if !ok || !s.offers(suite.ID) {
		reply(ipmi.OpenSessionResponse{Tag: req.Tag, Status: s.refusal(req)})
		return
	}
	if req.MaxPrivilege > ipmi.PrivilegeAdministrator {
		reply(ipmi.OpenSessionResponse{Tag: req.Tag, Status: ipmi.StatusInvalidRole})
		return
	}
	s.sweep()
	if len(s.sessions) >= s.cfg.MaxSessions {
		reply(ipmi.OpenSessionResponse{Tag: req.Tag, Status: ipmi.StatusNoResources})
		return
	}
	ss := &session{bmcID: s.newSessionID(), consoleID: req.ConsoleSessionID, addr: from, suite: suite,
		lastSeen: time.Now(), openTag: req.Tag}
	// Report the real maximum, not an echo of 0 (protocol.md §2.3: ipmi_sim's
	// echo makes ipmiconsole give up).
	granted := req.MaxPrivilege
	if granted == 0 {
		granted = ipmi.PrivilegeAdministrator
	}
	ss.openResp = reply(ipmi.OpenSessionResponse{Tag: req.Tag, Status: ipmi.StatusOK, MaxPrivilege: granted,
		ConsoleSessionID: ss.consoleID, BMCSessionID: ss.bmcID, Auth: suite.Auth, Integrity: suite.Integrity, Conf: suite.Conf})
	s.sessions[ss.bmcID] = ss
}

// refusal picks the most specific status for algorithms no offered suite has.
func (s *Server) refusal(req ipmi.OpenSessionRequest) ipmi.StatusCode {
	var auth, integ, conf bool
	for _, id := range s.cfg.CipherSuites {
		cs, _ := ipmi.LookupCipherSuite(id)
		auth = auth || cs.Auth == req.Auth
		integ = integ || cs.Integrity == req.Integrity
		conf = conf || cs.Conf == req.Conf
	}
	switch {
	case !auth:
		return ipmi.StatusInvalidAuthAlg
	case !integ:
		return ipmi.StatusInvalidIntegrityAlg
	case !conf:
		return ipmi.StatusInvalidConfAlg
	}
	return ipmi.StatusNoCipherSuiteMatch
}

func (s *Server) findUser(name []byte, priv ipmi.Privilege, nameOnly bool) *User {
	for i := range s.cfg.Users {
		u := &s.cfg.Users[i]
		if u.Name != string(name) {
			continue
		}
		if !nameOnly && priv > userMax(u) {
			continue
		}
		return u
	}
	return nil
}

func userMax(u *User) ipmi.Privilege {
	if u.MaxPrivilege == 0 {
		return ipmi.PrivilegeAdministrator
	}
	return u.MaxPrivilege
}

func (s *Server) rakp1(b []byte, from net.Addr) {
	m, err := ipmi.ParseRAKP1(b)
	if err != nil {
		s.drop()
		return
	}
	ss := s.sessions[m.BMCSessionID]
	if ss == nil || ss.active {
		s.drop()
		return
	}
	if ss.rakp2 != nil && ss.hs.ConsoleRandom == m.ConsoleRandom && ss.hs.Role == m.Role && bytes.Equal(ss.hs.Username, m.Username) {
		s.write(ipmi.AppendPlain(nil, ipmi.PayloadRAKP2, 0, 0, ss.rakp2), from)
		return
	}
	fail := func(st ipmi.StatusCode) {
		r := ipmi.RAKP2{Tag: m.Tag, Status: st, ConsoleSessionID: ss.consoleID}
		s.write(ipmi.AppendPlain(nil, ipmi.PayloadRAKP2, 0, 0, r.Append(nil)), from)
		s.removeSession(ss)
	}
	priv := ipmi.Privilege(m.Role & 0x0F)
	if priv < ipmi.PrivilegeCallback || priv > ipmi.PrivilegeAdministrator {
		fail(ipmi.StatusInvalidRole)
		return
	}
	u := s.findUser(m.Username, priv, m.Role&0x10 != 0)
	if u == nil {
		fail(ipmi.StatusUnauthorizedName)
		return
	}
	if priv > userMax(u) {
		fail(ipmi.StatusUnauthorizedRole)
		return
	}
	ss.user, ss.maxPriv = u, priv
	ss.hs = ipmi.Handshake{ConsoleSessionID: ss.consoleID, BMCSessionID: ss.bmcID, ConsoleRandom: m.ConsoleRandom,
		BMCGUID: s.cfg.GUID, Role: m.Role, Username: append([]byte(nil), m.Username...)}
	s.randomBytes(ss.hs.BMCRandom[:])
	r := ipmi.RAKP2{Tag: m.Tag, ConsoleSessionID: ss.consoleID, BMCRandom: ss.hs.BMCRandom, BMCGUID: s.cfg.GUID,
		AuthCode: ipmi.RAKP2Code(ss.suite.Auth, u.Password, &ss.hs)}
	ss.rakp2 = r.Append(nil)
	ss.addr = from
	ss.lastSeen = time.Now()
	s.write(ipmi.AppendPlain(nil, ipmi.PayloadRAKP2, 0, 0, ss.rakp2), from)
}

func (s *Server) rakp3(b []byte, from net.Addr) {
	m, err := ipmi.ParseRAKP3(b)
	if err != nil {
		s.drop()
		return
	}
	ss := s.sessions[m.BMCSessionID]
	if ss == nil || ss.rakp2 == nil {
		s.drop()
		return
	}
	if ss.rakp4 != nil {
		// Retransmitted RAKP 3: the same code gets the same answer.
		if m.Status == ipmi.StatusOK && hmac.Equal(m.AuthCode, ss.rakp3Code) {
			s.write(ipmi.AppendPlain(nil, ipmi.PayloadRAKP4, 0, 0, ss.rakp4), from)
		} else {
			s.drop()
		}
		return
	}
	if m.Status != ipmi.StatusOK {
		// The console rejected our RAKP 2: forget the session.
		s.removeSession(ss)
		return
	}
	want := ipmi.RAKP3Code(ss.suite.Auth, ss.user.Password, &ss.hs)
	if !hmac.Equal(want, m.AuthCode) {
		r := ipmi.RAKP4{Tag: m.Tag, Status: ipmi.StatusInvalidIntegrityCheck, ConsoleSessionID: ss.consoleID}
		s.write(ipmi.AppendPlain(nil, ipmi.PayloadRAKP4, 0, 0, r.Append(nil)), from)
		s.removeSession(ss)
		return
	}
	keys := ipmi.DeriveKeys(ss.suite.Auth, ss.user.Password, s.cfg.Kg, &ss.hs)
	seal, err1 := ipmi.NewSessionCipher(ss.suite, keys, s.rand)
	open, err2 := ipmi.NewSessionCipher(ss.suite, keys, s.rand)
	if err1 != nil || err2 != nil {
		s.drop()
		return
	}
	ss.seal, ss.open = seal, open
	r := ipmi.RAKP4{Tag: m.Tag, ConsoleSessionID: ss.consoleID, ICV: ipmi.RAKP4ICV(ss.suite.Auth, keys.SIK, &ss.hs)}
	ss.rakp4 = r.Append(nil)
	ss.rakp3Code = append([]byte(nil), m.AuthCode...)
	ss.active = true
	ss.priv = ipmi.PrivilegeUser
	if ss.maxPriv < ss.priv {
		ss.priv = ss.maxPriv
	}
	ss.addr = from
	ss.lastSeen = time.Now()
	s.event("session-open", ss.bmcID, ss.user.Name)
	s.write(ipmi.AppendPlain(nil, ipmi.PayloadRAKP4, 0, 0, ss.rakp4), from)
}
