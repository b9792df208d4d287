package fakebmc

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
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
	sik        []byte // the session integrity key (RAKP3RetryRekey changes it)
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
		k := sessionlessKind(&m)
		n, ok := s.arrive(k)
		if !ok {
			return
		}
		resp, ok := s.sessionless(&m)
		if !ok {
			s.drop()
			return
		}
		if lossAt(s.cfg.Faults.LoseReplies, k, n) {
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
	n, ok := s.arrive(ReqOpenSession)
	if !ok {
		return
	}
	req, err := ipmi.ParseOpenSessionRequest(b)
	if err != nil {
		s.drop()
		return
	}
	reply := func(r ipmi.OpenSessionResponse) []byte {
		p := r.Append(nil)
		s.setupReply(ReqOpenSession, n, ipmi.PayloadOpenSessionResponse, p, from)
		return p
	}
	// A retransmitted request: answer as before instead of opening another.
	for _, ss := range s.sessions {
		if s.cfg.Faults.NewSessionPerOpen {
			break
		}
		if !ss.active && ss.consoleID == req.ConsoleSessionID && ss.openTag == req.Tag && ss.openResp != nil &&
			ss.addr.String() == from.String() {
			s.setupReply(ReqOpenSession, n, ipmi.PayloadOpenSessionResponse, ss.openResp, from)
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
	// Report the real maximum, not an echo of 0 (IPMI v2.0 §13.18; ipmi_sim's
	// echo makes ipmiconsole give up: docs/bmc-quirks.md).
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
	n, ok := s.arrive(ReqRAKP1)
	if !ok {
		return
	}
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
		s.setupReply(ReqRAKP1, n, ipmi.PayloadRAKP2, ss.rakp2, from)
		return
	}
	fail := func(st ipmi.StatusCode) {
		r := ipmi.RAKP2{Tag: m.Tag, Status: st, ConsoleSessionID: ss.consoleID}
		s.setupReply(ReqRAKP1, n, ipmi.PayloadRAKP2, r.Append(nil), from)
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
	s.setupReply(ReqRAKP1, n, ipmi.PayloadRAKP2, ss.rakp2, from)
}

func (s *Server) rakp3(b []byte, from net.Addr) {
	n, ok := s.arrive(ReqRAKP3)
	if !ok {
		return
	}
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
		if m.Status != ipmi.StatusOK || !hmac.Equal(m.AuthCode, ss.rakp3Code) {
			s.drop()
			return
		}
		switch s.cfg.Faults.RAKP3Retry {
		case RAKP3RetryInSession:
			if lossAt(s.cfg.Faults.LoseReplies, ReqRAKP3, n) {
				return
			}
			r := ipmi.RAKP4{Tag: m.Tag, ConsoleSessionID: ss.consoleID, ICV: ss.rakp4[8:]}
			ss.addr = from
			s.send(ss, ipmi.PayloadRAKP4, r.Append(nil))
		case RAKP3RetryIgnore:
			s.drop()
		case RAKP3RetryRekey:
			ss.sik = append(append([]byte(nil), ss.sik...), ss.sik...)
			keys := ipmi.DeriveKeysFromSIK(ss.suite.Auth, ss.sik)
			seal, err1 := ipmi.NewSessionCipher(ss.suite, keys, s.rand)
			open, err2 := ipmi.NewSessionCipher(ss.suite, keys, s.rand)
			if err1 != nil || err2 != nil {
				s.drop()
				return
			}
			ss.seal, ss.open = seal, open
			r := ipmi.RAKP4{Tag: m.Tag, ConsoleSessionID: ss.consoleID, ICV: ipmi.RAKP4ICV(ss.suite.Auth, ss.sik, &ss.hs)}
			s.setupReply(ReqRAKP3, n, ipmi.PayloadRAKP4, r.Append(nil), from)
		default:
			s.setupReply(ReqRAKP3, n, ipmi.PayloadRAKP4, ss.rakp4, from)
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
		s.setupReply(ReqRAKP3, n, ipmi.PayloadRAKP4, r.Append(nil), from)
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
	ss.seal, ss.open, ss.sik = seal, open, keys.SIK
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
	s.event(EventSessionOpen, ss.bmcID, ss.user.Name)
	s.setupReply(ReqRAKP3, n, ipmi.PayloadRAKP4, ss.rakp4, from)
}

// arrive counts an arrival of a setup request of kind k (0: not one) and
// returns its number; false when Faults.LoseRequests loses it; s.mu held.
func (s *Server) arrive(k SetupRequest) (int, bool) {
	if k == 0 {
		return 0, true
	}
	s.arrivals[k]++
	n := s.arrivals[k]
	if lossAt(s.cfg.Faults.LoseRequests, k, n) {
		s.drop()
		return n, false
	}
	return n, true
}

func lossAt(losses []Loss, k SetupRequest, n int) bool {
	for _, l := range losses {
		if l.Request == k && l.N == n {
			return true
		}
	}
	return false
}

// setupReply sends the answer to arrival n of setup request k, lost or
// broken as Faults say; s.mu held.
func (s *Server) setupReply(k SetupRequest, n int, pt ipmi.PayloadType, payload []byte, to net.Addr) {
	if lossAt(s.cfg.Faults.LoseReplies, k, n) {
		return
	}
	var seq uint32
	if mf, ok := s.cfg.Faults.Malform[k]; ok {
		p := append([]byte(nil), payload...)
		if mf.WrongTag && len(p) > 0 {
			p[0] += 0x80
		}
		if mf.WrongConsoleID && len(p) >= 8 {
			// The remote console session ID is at bytes 4–7 of all three
			// answers (IPMI v2.0 §13.18, §13.21, §13.23).
			binary.LittleEndian.PutUint32(p[4:], binary.LittleEndian.Uint32(p[4:])+1)
		}
		if mf.ZeroBMCID && k == ReqOpenSession && len(p) >= 12 {
			copy(p[8:12], []byte{0, 0, 0, 0})
		}
		if mf.Length > 0 && mf.Length < len(p) {
			p = p[:mf.Length]
		}
		if mf.As != 0 {
			pt = mf.As
		}
		payload, seq = p, mf.Seq
	}
	s.write(ipmi.AppendPlain(nil, pt, 0, seq, payload), to)
}
