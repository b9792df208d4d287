package ipmi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config configures a console session.
type Config struct {
	Username string
	Password []byte
	// Kg is the BMC key; nil or all zeros means unset.
	Kg []byte
	// Privilege requested; 0 means administrator.
	Privilege Privilege
	// CipherSuites to try, in order. Nil means negotiate: ask the BMC (Get
	// Channel Cipher Suites) and prefer 17 then 3, falling back to trying 17
	// then 3 when it does not answer.
	CipherSuites []uint8
	// AllowNoAuth permits cipher suite 0 (no authentication, integrity or
	// encryption). Without it suite 0 is refused even when listed.
	AllowNoAuth bool
	// UsernamePrivilegeLookup clears the RAKP 1 name-only bit, asking the BMC
	// to look the user up by name and privilege.
	UsernamePrivilegeLookup bool
	// Timeout is the wait for the first try of a request; later tries wait
	// longer. 0 means 1 s.
	Timeout time.Duration
	// Retries is the number of retransmissions after the first try; 0 means
	// 3, negative means none. RequestBound is the resulting longest wait.
	//
	// Session setup is bounded by these too. Its first request (Get Channel
	// Authentication Capabilities), the only one that tells a silent BMC
	// from a lossy path, is retransmitted every Timeout until RequestBound
	// has passed: more tries in the same time. When a later step cannot be
	// completed, setup starts over from Open Session with fresh IDs, at most
	// three times, within SetupBound.
	Retries int
	// Rand supplies session IDs, RAKP randoms and IVs; nil means crypto/rand.
	Rand io.Reader
	// Trace, if set, sees every in-session packet sent and accepted, after
	// decryption (payload type, session sequence number and payload), and
	// every session-setup message sent and received, decoded into Setup and
	// Detail without its payload. It never sees keys, passwords, key-exchange
	// codes or integrity check values. It runs on the sending goroutine or
	// the reader and must not block.
	Trace func(TraceEvent)
}

// TraceEvent describes one packet for a protocol trace.
type TraceEvent struct {
	Sent        bool
	PayloadType PayloadType
	Seq         uint32
	Payload     []byte // valid only during the call; nil for setup messages
	Err         error
	// Setup names a session-setup message ("Open Session Request", "RAKP 2",
	// "Get Channel Authentication Capabilities request", …), or is "restart"
	// when setup starts over from Open Session; empty for in-session
	// packets. Detail is then the message decoded, with every key-exchange
	// code and integrity check value left out (only their lengths are
	// given), or the reason for the restart.
	Setup  string
	Detail string
}

func (c *Config) tries() int {
	switch {
	case c.Retries < 0:
		return 1
	case c.Retries == 0:
		return 4
	}
	return c.Retries + 1
}

func (c *Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return time.Second
	}
	return c.Timeout
}

// backoff returns the wait for try i (0-based): the timeout, growing by half
// of it per retry, as ipmitool's 1+2+3+4 s but gentler.
func (c *Config) backoff(i int) time.Duration {
	t := c.timeout()
	return t + time.Duration(i)*t/2
}

// RequestBound is the longest a request waits in total before it fails.
func (c *Config) RequestBound() time.Duration {
	var d time.Duration
	for i := range c.tries() {
		d += c.backoff(i)
	}
	return d
}

// SetupBound is the longest session setup may take, restarts included:
// four request bounds (28 s with the defaults).
func (c *Config) SetupBound() time.Duration { return 4 * c.RequestBound() }

// firstContact is the retransmission schedule of setup's first request:
// every Timeout, the last try waiting out the rest of RequestBound.
func (c *Config) firstContact() (tries int, wait func(int) time.Duration) {
	t, bound := c.timeout(), c.RequestBound()
	tries = max(1, int(bound/t))
	return tries, func(i int) time.Duration {
		if i == tries-1 {
			return bound - time.Duration(tries-1)*t
		}
		return t
	}
}

// Stats are a session's packet counters.
type Stats struct {
	Sent, Received    uint64
	Retransmissions   uint64
	DroppedForeign    uint64 // another session's ID
	DroppedIntegrity  uint64 // bad auth code, pads or protection bits
	DroppedMalformed  uint64 // truncated or undecodable
	DroppedReplay     uint64 // duplicate or outside the sequence window
	DroppedUnexpected uint64 // valid but nobody waits for it
	// SetupRestarts counts the times setup started over from Open Session.
	SetupRestarts uint64
}

type stats struct {
	sent, received, retrans                           atomic.Uint64
	foreign, integrity, malformed, replay, unexpected atomic.Uint64
	restarts                                          atomic.Uint64
}

// call is a request waiting for its response.
type call struct {
	netFn NetFn
	cmd   byte
	ch    chan []byte // response data from the completion code on, cap 1
}

// setupMsg is a session-setup packet handed from the reader to the setup
// code: a session-less one, or a RAKP 4 that came inside the session being
// set up (sealed; ipmi_sim answers a retransmitted RAKP 3 so).
type setupMsg struct {
	pt     PayloadType // PayloadIPMI also for IPMI 1.5 frames
	seq    uint32      // the session header's sequence number
	data   []byte
	sealed bool
}

// inbound is what the reader needs to accept packets of one session: set
// when setup holds the keys (after RAKP 2), replaced when setup starts over.
type inbound struct {
	consoleID uint32
	open      *SessionCipher
	window    SeqWindow // owned by the reader
}

// Session is an established RMCP+ session with a BMC. It is safe for
// concurrent use. Exactly one goroutine reads the transport; it hands IPMI
// responses to the request waiting for them and SOL payloads to the handler.
type Session struct {
	conn Transport
	addr string
	cfg  Config
	rand io.Reader

	// Set during setup, read-only once established is true.
	suite     CipherSuite
	consoleID uint32
	privilege Privilege

	sendMu  sync.Mutex // guards bmcID, seal, outSeq, wbuf and solPort
	bmcID   uint32     // also read-only once established
	seal    *SessionCipher
	outSeq  uint32
	wbuf    []byte
	solPort uint16 // SOL goes to this port when non-zero

	in   atomic.Pointer[inbound]
	rbuf []byte // owned by the reader goroutine

	mu      sync.Mutex // guards pending, nextRq, solFn
	pending [64]*call
	nextRq  byte
	solFn   func([]byte)

	setupCh     chan setupMsg
	established atomic.Bool
	// Owned by the setup code: the last RMCP+ message tag or session-less
	// rqSeq used, and which tags setup messages have carried so far (an
	// answer with one of those is late, not wrong).
	tag    byte
	issued [256]bool
	step   string // the setup exchange in progress, for errors
	sent   int    // how many times its message has been sent

	done     chan struct{}
	failOnce sync.Once
	err      error // first fatal error, set before done is closed
	readerWG sync.WaitGroup

	st stats
}

// Dial opens a UDP session to addr ("host", "host:port", "[v6]:port").
func Dial(ctx context.Context, network, addr string, cfg Config) (*Session, error) {
	t, err := DialUDP(network, addr)
	if err != nil {
		return nil, err
	}
	s, err := NewSession(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewSession establishes a session over t. On failure t is closed.
func NewSession(ctx context.Context, t Transport, cfg Config) (*Session, error) {
	if cfg.Privilege == 0 {
		cfg.Privilege = PrivilegeAdministrator
	}
	if len(cfg.Username) > 16 {
		t.Close()
		return nil, fmt.Errorf("ipmi: user name longer than 16 bytes")
	}
	if len(cfg.Password) > 20 {
		t.Close()
		return nil, fmt.Errorf("ipmi: password longer than 20 bytes")
	}
	if len(cfg.Kg) > 20 {
		t.Close()
		return nil, fmt.Errorf("ipmi: K_g longer than 20 bytes")
	}
	s := &Session{
		conn:    t,
		addr:    t.RemoteAddr().String(),
		cfg:     cfg,
		rand:    cfg.Rand,
		setupCh: make(chan setupMsg, 16),
		done:    make(chan struct{}),
		rbuf:    make([]byte, 2048),
		wbuf:    make([]byte, 0, 2048),
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	s.readerWG.Add(1)
	go s.readLoop()
	if err := s.establish(ctx); err != nil {
		s.fail(err)
		s.readerWG.Wait()
		return nil, err
	}
	return s, nil
}

// CipherSuite returns the negotiated suite.
func (s *Session) CipherSuite() CipherSuite { return s.suite }

// Privilege returns the session's privilege level.
func (s *Session) Privilege() Privilege { return s.privilege }

// BMCSessionID is the BMC's ID for this session (what Get Payload Instance
// Info reports for a payload this session owns).
func (s *Session) BMCSessionID() uint32 { return s.bmcID }

// ConsoleSessionID is this side's session ID.
func (s *Session) ConsoleSessionID() uint32 { return s.consoleID }

// RemoteAddr is the BMC's address.
func (s *Session) RemoteAddr() string { return s.addr }

// Config returns the configuration the session was made with.
func (s *Session) Config() Config { return s.cfg }

// Done is closed when the session has failed or was closed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns the first fatal error, or nil while the session works.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Stats returns the packet counters.
func (s *Session) Stats() Stats {
	return Stats{
		Sent: s.st.sent.Load(), Received: s.st.received.Load(), Retransmissions: s.st.retrans.Load(),
		DroppedForeign: s.st.foreign.Load(), DroppedIntegrity: s.st.integrity.Load(),
		DroppedMalformed: s.st.malformed.Load(), DroppedReplay: s.st.replay.Load(),
		DroppedUnexpected: s.st.unexpected.Load(), SetupRestarts: s.st.restarts.Load(),
	}
}

func (s *Session) fail(err error) {
	s.failOnce.Do(func() {
		s.err = err
		close(s.done)
		s.conn.Close()
	})
}

// Close sends Close Session (bounded by one request timeout) and releases the
// transport. It returns nil if the session had not failed before.
func (s *Session) Close() error {
	if s.Err() == nil && s.established.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.timeout())
		_, _ = s.doTries(ctx, NetFnApp, CmdCloseSession, le32(s.bmcID), 2)
		cancel()
	}
	prev := s.Err()
	s.fail(ErrClosed)
	s.readerWG.Wait()
	if prev != nil && !errors.Is(prev, ErrClosed) {
		return prev
	}
	return nil
}

// SetSOLHandler registers fn to receive every authentic SOL payload. fn runs
// on the reader goroutine and must not block; the slice is only valid during
// the call.
func (s *Session) SetSOLHandler(fn func(payload []byte)) {
	s.mu.Lock()
	s.solFn = fn
	s.mu.Unlock()
}

// SetSOLPort makes SOL payloads go to another UDP port of the BMC, as an
// Activate Payload answer may ask. Port 0 restores the session's port.
func (s *Session) SetSOLPort(port uint16) error {
	if _, ok := s.conn.(PortTransport); !ok && port != 0 {
		return fmt.Errorf("ipmi: the BMC wants SOL on port %d, which this transport cannot reach", port)
	}
	s.sendMu.Lock()
	s.solPort = port
	s.sendMu.Unlock()
	return nil
}

// SessionPort is the UDP port the session talks to, 0 if not UDP.
func (s *Session) SessionPort() uint16 {
	if t, ok := s.conn.(*udpTransport); ok {
		return t.peer.Port()
	}
	return 0
}

// SendSOL sends one SOL payload (header and characters) in the session.
func (s *Session) SendSOL(payload []byte) error {
	return s.sendPayload(PayloadSOL, payload)
}

func (s *Session) sendPayload(pt PayloadType, payload []byte) error {
	if err := s.Err(); err != nil {
		return err
	}
	s.sendMu.Lock()
	s.outSeq = NextSeq(s.outSeq)
	pkt, err := s.seal.Seal(s.wbuf[:0], pt, s.bmcID, s.outSeq, payload)
	if err == nil {
		s.wbuf = pkt[:0]
		if pt == PayloadSOL && s.solPort != 0 {
			_, err = s.conn.(PortTransport).WriteToPort(pkt, s.solPort)
		} else {
			_, err = s.conn.Write(pkt)
		}
	}
	if s.cfg.Trace != nil {
		s.cfg.Trace(TraceEvent{Sent: true, PayloadType: pt, Seq: s.outSeq, Payload: payload, Err: err})
	}
	s.sendMu.Unlock()
	if err != nil {
		return fmt.Errorf("ipmi: sending to %s: %w", s.addr, err)
	}
	s.st.sent.Add(1)
	return nil
}

// Do sends an IPMI request in the session and returns the response data after
// the completion code. A non-zero completion code is a *CompletionError.
// The request is retransmitted (same rqSeq, new session sequence number) with
// backoff until it is answered, the tries run out (*TimeoutError wrapping
// ErrNoResponse), ctx ends or the session fails.
func (s *Session) Do(ctx context.Context, netFn NetFn, cmd byte, data []byte) ([]byte, error) {
	return s.doTries(ctx, netFn, cmd, data, s.cfg.tries())
}

func (s *Session) doTries(ctx context.Context, netFn NetFn, cmd byte, data []byte, tries int) ([]byte, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	c, seq, err := s.register(netFn, cmd)
	if err != nil {
		return nil, err
	}
	defer s.unregister(seq)
	msg := Message{TargetAddr: AddrBMC, NetFn: netFn, SourceAddr: AddrConsole, Seq: seq, Cmd: cmd, Data: data}
	var mbuf [64]byte
	payload := AppendMessage(mbuf[:0], &msg)
	for try := range tries {
		if try > 0 {
			s.st.retrans.Add(1)
		}
		if err := s.sendPayload(PayloadIPMI, payload); err != nil {
			return nil, err
		}
		t := time.NewTimer(s.cfg.backoff(try))
		select {
		case resp := <-c.ch:
			t.Stop()
			return completion(netFn, cmd, resp)
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("ipmi: %s: %w", CommandName(netFn, cmd), ctx.Err())
		case <-s.done:
			t.Stop()
			return nil, s.err
		}
	}
	return nil, &TimeoutError{Op: CommandName(netFn, cmd), Addr: s.addr, Tries: tries, InSession: s.established.Load()}
}

func completion(netFn NetFn, cmd byte, resp []byte) ([]byte, error) {
	if len(resp) == 0 {
		return nil, malformed("%s response without completion code", CommandName(netFn, cmd))
	}
	if resp[0] != 0 {
		return resp[1:], &CompletionError{NetFn: netFn, Cmd: cmd, Code: CompletionCode(resp[0])}
	}
	return resp[1:], nil
}

func (s *Session) register(netFn NetFn, cmd byte) (*call, byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range len(s.pending) {
		seq := s.nextRq
		s.nextRq = (s.nextRq + 1) & 0x3F
		if s.pending[seq] == nil {
			c := &call{netFn: netFn, cmd: cmd, ch: make(chan []byte, 1)}
			s.pending[seq] = c
			return c, seq, nil
		}
	}
	return nil, 0, errors.New("ipmi: 64 requests already outstanding")
}

func (s *Session) unregister(seq byte) {
	s.mu.Lock()
	s.pending[seq] = nil
	s.mu.Unlock()
}

// readLoop is the session's only reader.
func (s *Session) readLoop() {
	defer s.readerWG.Done()
	for {
		n, err := s.conn.Read(s.rbuf)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				// ICMP port unreachable for an earlier datagram: nobody
				// listens (yet), e.g. a BMC restarting. Its silence is
				// reported by the request timeouts, with the address.
				s.st.malformed.Add(1)
				continue
			}
			select {
			case <-s.done:
			default:
				s.fail(fmt.Errorf("ipmi: reading from %s: %w: %w", s.addr, ErrSessionLost, err))
			}
			return
		}
		s.handle(s.rbuf[:n])
	}
}

func (s *Session) handle(b []byte) {
	class, rest, err := ParseRMCPHeader(b)
	if err != nil || class != ClassIPMI || len(rest) < 1 {
		s.st.malformed.Add(1)
		return
	}
	if rest[0] != AuthTypeRMCPPlus {
		// IPMI 1.5 frame: only the session-less Get Channel Auth Caps answer.
		sid, msg, err := ParseV15(rest)
		if err != nil || sid != 0 {
			s.st.malformed.Add(1)
			return
		}
		if s.established.Load() {
			s.st.unexpected.Add(1)
			return
		}
		s.toSetup(setupMsg{pt: PayloadIPMI, data: msg})
		return
	}
	h, area, err := ParseHeader(rest)
	if err != nil {
		s.st.malformed.Add(1)
		return
	}
	if h.SessionID == 0 {
		if h.Authenticated || h.Encrypted || s.established.Load() {
			s.st.unexpected.Add(1)
			return
		}
		s.toSetup(setupMsg{pt: h.PayloadType, seq: h.Seq, data: area})
		return
	}
	in := s.in.Load()
	if in == nil || h.SessionID != in.consoleID {
		s.st.foreign.Add(1)
		return
	}
	if !in.window.Check(h.Seq) {
		s.st.replay.Add(1)
		return
	}
	h, payload, err := in.open.Open(b)
	if err != nil {
		if errors.Is(err, ErrIntegrity) {
			s.st.integrity.Add(1)
		} else {
			s.st.malformed.Add(1)
		}
		return
	}
	// Only authentic packets move the window: a forged sequence number must
	// not shift it (ipmi_sim and go-ipmi's BMC do the same).
	in.window.Accept(h.Seq)
	s.st.received.Add(1)
	if h.PayloadType == PayloadRAKP4 {
		// A RAKP 4 inside the session: the setup code checks (and traces,
		// without its integrity check value) what it needs.
		if s.established.Load() {
			s.st.unexpected.Add(1)
			return
		}
		s.toSetup(setupMsg{pt: h.PayloadType, seq: h.Seq, data: payload, sealed: true})
		return
	}
	if s.cfg.Trace != nil {
		s.cfg.Trace(TraceEvent{PayloadType: h.PayloadType, Seq: h.Seq, Payload: payload})
	}
	switch h.PayloadType {
	case PayloadIPMI:
		s.dispatchResponse(payload)
	case PayloadSOL:
		s.mu.Lock()
		fn := s.solFn
		s.mu.Unlock()
		if fn == nil {
			s.st.unexpected.Add(1)
			return
		}
		fn(payload)
	default:
		s.st.unexpected.Add(1)
	}
}

func (s *Session) dispatchResponse(payload []byte) {
	m, err := ParseMessage(payload)
	if err != nil || !m.IsResponse() {
		s.st.malformed.Add(1)
		return
	}
	s.mu.Lock()
	c := s.pending[m.Seq]
	s.mu.Unlock()
	if c == nil || c.netFn|1 != m.NetFn || c.cmd != m.Cmd {
		s.st.unexpected.Add(1)
		return
	}
	select {
	case c.ch <- append([]byte(nil), m.Data...):
	default: // a duplicate answer to a retransmission
		s.st.unexpected.Add(1)
	}
}

func (s *Session) toSetup(m setupMsg) {
	m.data = append([]byte(nil), m.data...)
	select {
	case s.setupCh <- m:
	default:
		s.st.unexpected.Add(1)
	}
}
