package fakebmc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// User is an account on the simulated BMC.
type User struct {
	Name         string
	Password     []byte
	MaxPrivilege ipmi.Privilege // 0 means administrator
}

// Config configures a simulated BMC. The zero value is usable: it has the
// user admin/password and every implemented suite but 0.
type Config struct {
	Users []User
	// Kg is the BMC key; nil or all zeros means unset.
	Kg []byte
	// CipherSuites offered, default 1, 2, 3, 15, 16, 17. Suite 0 only if listed.
	CipherSuites []uint8
	GUID         [16]byte
	// SessionTimeout drops a session after this long without an authentic
	// packet from its console; default 60 s.
	SessionTimeout time.Duration
	// MaxSessions bounds concurrent sessions (default 16).
	MaxSessions int
	// RejectBootParam0 answers writes of boot option parameter 0 (set in
	// progress) with 0x80, as some BMCs do.
	RejectBootParam0 bool
	// NoCipherSuiteList makes the BMC ignore Get Channel Cipher Suites
	// outside a session, as ipmi_sim does.
	NoCipherSuiteList bool
	// Rand supplies session IDs, randoms and IVs; nil means crypto/rand.
	Rand io.Reader
	// Chassis is the simulated machine; nil means NewChassis().
	Chassis *Chassis
	// SOL configures Serial-over-LAN.
	SOL SOLConfig
	// Faults are protocol-level misbehaviours for tests; zero is none.
	Faults Faults
	// ReceiveBuffer is the largest datagram taken whole (a longer one is
	// truncated, fails its integrity check and is dropped); default 64 KiB.
	// A rack of many BMCs sets it lower: RMCP+ packets of IPMI and SOL
	// (IPMI v2.0 §13.6, §15.9) stay well under 1 KiB.
	ReceiveBuffer int
	// OnEvent, if set, is called (with the server lock held: do not call back
	// into the Server) for every protocol event worth observing in tests
	// (package fakebmctest records them and waits for them).
	OnEvent func(Event)
}

// Event is something a test may want to see happen on the BMC.
type Event struct {
	Kind      EventKind
	SessionID uint32 // the BMC's ID
	Detail    string // what Kind says it holds, or ""
	Time      time.Time
}

// EventKind says what an Event is. It is a string (the constant's value) so
// that it prints as itself in logs (cmd/fakebmc --verbose).
type EventKind string

// Event kinds.
const (
	// EventSessionOpen: a session is up (RAKP 3 accepted); Detail is the
	// user name.
	EventSessionOpen EventKind = "session-open"
	// EventSessionClose: Close Session ended a session.
	EventSessionClose EventKind = "session-close"
	// EventSessionTimeout: a session was dropped after Config.SessionTimeout
	// without an authentic packet.
	EventSessionTimeout EventKind = "session-timeout"
	// EventActivate: a session activated SOL (first time or taking it over).
	EventActivate EventKind = "activate"
	// EventDeactivate: SOL was deactivated: by Deactivate Payload (Detail
	// ""), by its session ending ("session ended") or by a fault ("fault:
	// DeactivateAfter").
	EventDeactivate EventKind = "deactivate"
	// EventBreak: a console's SOL packet asked for a BREAK (a retransmission
	// of that packet is not counted again).
	EventBreak EventKind = "break"
	// EventRequest: an in-session IPMI request arrived (retransmissions
	// included); Detail is its name as ipmi.CommandName gives it.
	EventRequest EventKind = "request"
	// EventChassisControl: a Chassis Control took effect (after its hook, if
	// any, agreed); Detail is the action.
	EventChassisControl EventKind = "chassis-control"
	// EventHookFailed: a power or boot hook refused or timed out; Detail is
	// its error.
	EventHookFailed EventKind = "hook-failed"
	// EventAnswerLost: Faults.LoseActivateAnswers dropped an answer; Detail
	// names the request.
	EventAnswerLost EventKind = "answer-lost"
)

// Stats are the BMC's packet counters.
type Stats struct {
	Received, Sent, Dropped, Sessions uint64
}

// Server is a simulated BMC.
type Server struct {
	cfg     Config
	rand    io.Reader
	chassis *Chassis

	mu       sync.Mutex // guards everything below and all session state
	pc       net.PacketConn
	sessions map[uint32]*session
	stats    Stats
	events   []Event
	closed   bool
	sol      *solPort
	wbuf     []byte
	arrivals map[SetupRequest]int // setup requests received, per kind (Faults)

	// hookCtx ends the chassis hooks when the server closes; hooks counts
	// the goroutines that run them (see chassisChange).
	hookCtx    context.Context
	hookCancel context.CancelFunc
	hooks      sync.WaitGroup

	serveDone chan struct{} // closed when Serve returns
	serveOnce sync.Once
}

// New returns a server for cfg; call Serve to run it.
func New(cfg Config) *Server {
	if len(cfg.Users) == 0 {
		cfg.Users = []User{{Name: "admin", Password: []byte("password")}}
	}
	if cfg.CipherSuites == nil {
		cfg.CipherSuites = []uint8{1, 2, 3, 15, 16, 17}
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 60 * time.Second
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 16
	}
	if cfg.ReceiveBuffer <= 0 {
		cfg.ReceiveBuffer = 64 << 10
	}
	if cfg.GUID == ([16]byte{}) {
		copy(cfg.GUID[:], "ghmicons-fakebmc")
	}
	s := &Server{cfg: cfg, rand: cfg.Rand, chassis: cfg.Chassis, sessions: map[uint32]*session{},
		arrivals: map[SetupRequest]int{}, serveDone: make(chan struct{})}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.chassis == nil {
		s.chassis = NewChassis()
	}
	s.hookCtx, s.hookCancel = context.WithCancel(context.Background())
	s.sol = newSOLPort(s, cfg.SOL)
	return s
}

// Start listens on a fresh UDP port on 127.0.0.1 and serves in the
// background. Close stops it.
func Start(cfg Config) (*Server, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakebmc: %w", err)
	}
	s := New(cfg)
	s.Start(pc)
	return s, nil
}

// Start serves pc in the background, as Serve does, and returns at once:
// Addr is pc's address from now on. Close stops it.
func (s *Server) Start(pc net.PacketConn) {
	s.mu.Lock()
	if !s.closed {
		s.pc = pc
	}
	s.mu.Unlock()
	go s.Serve(pc) //nolint:errcheck // Close ends it
}

// Chassis returns the simulated machine.
func (s *Server) Chassis() *Chassis { return s.chassis }

// Addr returns the address being served, or "" before Serve.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pc == nil {
		return ""
	}
	return s.pc.LocalAddr().String()
}

// Stats returns the packet counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Sessions = uint64(len(s.sessions))
	return st
}

// Events returns the events so far.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

func (s *Server) event(kind EventKind, id uint32, detail string) {
	e := Event{Kind: kind, SessionID: id, Detail: detail, Time: time.Now()}
	if len(s.events) < 10000 {
		s.events = append(s.events, e)
	}
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(e)
	}
}

// Serve handles datagrams from pc until Close or a read error. It closes pc.
func (s *Server) Serve(pc net.PacketConn) error {
	// Close waits for serveDone once it has seen pc (Start sets it before
	// this runs): close it on every way out.
	defer s.serveOnce.Do(func() { close(s.serveDone) })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		pc.Close()
		return net.ErrClosed
	}
	s.pc = pc
	s.mu.Unlock()
	buf := make([]byte, s.cfg.ReceiveBuffer)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// ICMP port unreachable from a departed client shows up here on
			// some systems; it says nothing about the BMC.
			continue
		}
		s.mu.Lock()
		s.stats.Received++
		s.handle(buf[:n], from)
		s.mu.Unlock()
	}
}

// Close stops the server and its SOL host.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	pc := s.pc
	for _, ss := range s.sessions {
		ss.stopTimers()
	}
	s.mu.Unlock()
	s.hookCancel()
	s.hooks.Wait()
	s.sol.close()
	if pc != nil {
		pc.Close()
		<-s.serveDone
	}
	return nil
}

// write sends a datagram; s.mu held.
func (s *Server) write(b []byte, to net.Addr) {
	if s.pc == nil || s.closed {
		return
	}
	if _, err := s.pc.WriteTo(b, to); err == nil {
		s.stats.Sent++
	}
}

func (s *Server) drop() { s.stats.Dropped++ }

// handle dispatches one datagram; s.mu held.
func (s *Server) handle(b []byte, from net.Addr) {
	class, rest, err := ipmi.ParseRMCPHeader(b)
	if err != nil {
		s.drop()
		return
	}
	switch class {
	case ipmi.ClassASF:
		m, err := ipmi.ParseASF(rest)
		if err != nil || m.Type != 0x80 {
			s.drop()
			return
		}
		s.write(ipmi.AppendASF(nil, ipmi.ASFMessage{Type: 0x40, Tag: m.Tag, IPMISupported: true}), from)
		return
	case ipmi.ClassIPMI:
	default:
		s.drop()
		return
	}
	if len(rest) == 0 {
		s.drop()
		return
	}
	if rest[0] != ipmi.AuthTypeRMCPPlus {
		s.handleV15(rest, from)
		return
	}
	h, area, err := ipmi.ParseHeader(rest)
	if err != nil {
		s.drop()
		return
	}
	if h.SessionID == 0 {
		if h.Authenticated || h.Encrypted || h.Seq != 0 {
			s.drop()
			return
		}
		s.handleSetup(h.PayloadType, area, from)
		return
	}
	ss := s.sessions[h.SessionID]
	if ss == nil || !ss.active {
		s.drop()
		return
	}
	if s.expired(ss) {
		return
	}
	if !ss.window.Check(h.Seq) {
		s.drop()
		return
	}
	h, payload, err := ss.open.Open(b)
	if err != nil {
		s.drop()
		return
	}
	ss.window.Accept(h.Seq)
	ss.lastSeen = time.Now()
	// Answers go where the requests came from: IPMI and SOL may use
	// different ports (the SOL port of Activate Payload's answer).
	switch h.PayloadType {
	case ipmi.PayloadIPMI:
		ss.addr = from
		s.handleRequest(ss, payload)
	case ipmi.PayloadSOL:
		ss.solAddr = from
		s.sol.handlePacket(ss, payload)
	default:
		s.drop()
	}
}

// expired drops ss if it timed out; s.mu held.
func (s *Server) expired(ss *session) bool {
	if time.Since(ss.lastSeen) <= s.cfg.SessionTimeout {
		return false
	}
	s.event(EventSessionTimeout, ss.bmcID, "")
	s.removeSession(ss)
	s.drop()
	return true
}

func (s *Server) removeSession(ss *session) {
	ss.stopTimers()
	s.sol.sessionGone(ss)
	delete(s.sessions, ss.bmcID)
}

// sweep drops every expired session; s.mu held.
func (s *Server) sweep() {
	for _, ss := range s.sessions {
		if time.Since(ss.lastSeen) > s.cfg.SessionTimeout {
			if ss.active {
				s.event(EventSessionTimeout, ss.bmcID, "")
			}
			s.removeSession(ss)
		}
	}
}

// handleV15 answers session-less IPMI 1.5 requests; s.mu held.
func (s *Server) handleV15(b []byte, from net.Addr) {
	sid, msgb, err := ipmi.ParseV15(b)
	if err != nil || sid != 0 {
		s.drop()
		return
	}
	m, err := ipmi.ParseMessage(msgb)
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
	s.write(ipmi.AppendV15(nil, resp), from)
}

// sessionlessKind is the Faults kind of a session-less request, 0 if none.
func sessionlessKind(m *ipmi.Message) SetupRequest {
	switch {
	case m.NetFn == ipmi.NetFnApp && m.Cmd == ipmi.CmdGetChannelAuthCaps:
		return ReqAuthCaps
	case m.NetFn == ipmi.NetFnApp && m.Cmd == ipmi.CmdGetChannelCipherSuites:
		return ReqCipherSuites
	}
	return 0
}

// sessionless builds the response to one of the commands allowed before a
// session; s.mu held.
func (s *Server) sessionless(m *ipmi.Message) ([]byte, bool) {
	var data []byte
	switch {
	case m.NetFn == ipmi.NetFnApp && m.Cmd == ipmi.CmdGetChannelAuthCaps:
		data = s.authCaps(m.Data)
	case m.NetFn == ipmi.NetFnApp && m.Cmd == ipmi.CmdGetChannelCipherSuites && !s.cfg.NoCipherSuiteList:
		data = s.cipherSuites(m.Data)
	default:
		return nil, false
	}
	return appendResponse(nil, m, data), true
}

func appendResponse(b []byte, req *ipmi.Message, data []byte) []byte {
	r := ipmi.Message{TargetAddr: req.SourceAddr, NetFn: req.NetFn | 1, TargetLUN: req.SourceLUN,
		SourceAddr: req.TargetAddr, Seq: req.Seq, SourceLUN: req.TargetLUN, Cmd: req.Cmd, Data: data}
	return ipmi.AppendMessage(b, &r)
}

func (s *Server) authCaps(req []byte) []byte {
	if len(req) < 2 {
		return []byte{byte(ipmi.CCDataLengthInvalid)}
	}
	caps := ipmi.AuthCaps{Channel: 1, AuthTypes: 0, IPMI2Ext: req[0]&0x80 != 0, Status: 0x04, IPMI15: false, IPMI2: true}
	if ipmi.KgSet(s.cfg.Kg) {
		caps.Status |= 0x20
	}
	d := caps.Append([]byte{0})
	if mf := s.cfg.Faults.Malform[ReqAuthCaps]; mf.Length > 0 && 1+mf.Length < len(d) {
		d = d[:1+mf.Length]
	}
	return d
}

func (s *Server) cipherSuites(req []byte) []byte {
	if len(req) < 3 {
		return []byte{byte(ipmi.CCDataLengthInvalid)}
	}
	records := ipmi.AppendCipherSuiteRecords(nil, s.cfg.CipherSuites)
	index := int(req[2] & 0x3F)
	start := min(index*16, len(records))
	end := min(start+16, len(records))
	return append([]byte{0, 1}, records[start:end]...)
}

func (s *Server) randomBytes(b []byte) {
	if _, err := io.ReadFull(s.rand, b); err != nil {
		panic(fmt.Sprintf("fakebmc: random source failed: %v", err))
	}
}

func (s *Server) newSessionID() uint32 {
	var b [4]byte
	for {
		s.randomBytes(b[:])
		id := binary.LittleEndian.Uint32(b[:])
		if id != 0 && s.sessions[id] == nil {
			return id
		}
	}
}
