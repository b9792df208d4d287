package fakebmc

import (
	"bytes"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// sinkConn stands in for the server's socket: reads end at once, writes
// are kept (so tests can look at the answers) and otherwise go nowhere.
type sinkConn struct {
	out [][]byte
}

func (c *sinkConn) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, net.ErrClosed }
func (c *sinkConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.out = append(c.out, slices.Clone(b))
	return len(b), nil
}
func (c *sinkConn) Close() error { return nil }
func (c *sinkConn) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 623}
}
func (c *sinkConn) SetDeadline(time.Time) error      { return nil }
func (c *sinkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *sinkConn) SetWriteDeadline(time.Time) error { return nil }

var consoleAddr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40623}

// newTestServer returns a server whose randomness is fixed, so that the same
// packets always get the same answers, wired to a sinkConn. Serve stores the
// conn in s.pc (what handle writes to) and returns at once, since the conn
// has nothing to read; having run, it lets Close stop the SOL host and timers.
func newTestServer(t testing.TB) (*Server, *sinkConn) {
	s := New(Config{Rand: rand.NewChaCha8([32]byte{'f', 'a', 'k', 'e', 'b', 'm', 'c'})})
	c := &sinkConn{}
	if err := s.Serve(c); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	pc := s.pc
	s.mu.Unlock()
	if pc != c {
		t.Fatal("Serve did not keep the conn")
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

// deliver hands one datagram to the server as Serve would and returns what
// it wrote back. The server may decrypt in place, so it gets a copy.
func deliver(s *Server, c *sinkConn, b []byte) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.out = nil
	s.stats.Received++
	s.handle(slices.Clone(b), consoleAddr)
	return c.out
}

const consoleSID = 0xA0A2A3A4

// console is the client half of a handshake, built from the ipmi codecs.
type console struct {
	t          testing.TB
	s          *Server
	c          *sinkConn
	suite      ipmi.CipherSuite
	bmcSID     uint32
	seal, open *ipmi.SessionCipher
	seq        uint32
	rqSeq      byte
	sent       [][]byte // every datagram the console sent
	answers    [][]byte // the single answer to each
}

// exchange sends pkt and returns the one answer it must get.
func (k *console) exchange(pkt []byte) []byte {
	k.t.Helper()
	out := deliver(k.s, k.c, pkt)
	if len(out) != 1 {
		k.t.Fatalf("% x: %d answers, want 1", pkt, len(out))
	}
	k.sent = append(k.sent, pkt)
	k.answers = append(k.answers, out[0])
	return out[0]
}

// setup parses a session-less RMCP+ answer of type pt.
func (k *console) setup(b []byte, pt ipmi.PayloadType) []byte {
	k.t.Helper()
	_, rest, err := ipmi.ParseRMCPHeader(b)
	if err != nil {
		k.t.Fatal(err)
	}
	h, area, err := ipmi.ParseHeader(rest)
	if err != nil || h.PayloadType != pt || h.SessionID != 0 {
		k.t.Fatalf("answer % x: header %+v, %v; want payload type 0x%02x", b, h, err, pt)
	}
	return area
}

// handshake runs Get Channel Auth Caps, Open Session and RAKP 1–4 for suite
// 17 as admin, then Set Session Privilege Level to administrator.
func handshake(t testing.TB, s *Server, c *sinkConn) *console {
	t.Helper()
	k := &console{t: t, s: s, c: c}
	k.suite, _ = ipmi.LookupCipherSuite(17)

	req := ipmi.Message{TargetAddr: ipmi.AddrBMC, NetFn: ipmi.NetFnApp, SourceAddr: ipmi.AddrConsole,
		Cmd: ipmi.CmdGetChannelAuthCaps, Data: ipmi.AuthCapsRequest(true, ipmi.PrivilegeAdministrator)}
	ans := k.exchange(ipmi.AppendV15(nil, ipmi.AppendMessage(nil, &req)))
	_, rest, _ := ipmi.ParseRMCPHeader(ans)
	_, msg, err := ipmi.ParseV15(rest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ipmi.ParseMessage(msg)
	if err != nil || len(m.Data) < 1 || m.Data[0] != 0 {
		t.Fatalf("auth caps answer %+v, %v", m, err)
	}
	if caps, err := ipmi.ParseAuthCaps(m.Data[1:]); err != nil || !caps.IPMI2 {
		t.Fatalf("auth caps %+v, %v", caps, err)
	}

	osr := ipmi.OpenSessionRequest{Tag: 1, ConsoleSessionID: consoleSID, Auth: k.suite.Auth,
		Integrity: k.suite.Integrity, Conf: k.suite.Conf}
	ans = k.exchange(ipmi.AppendPlain(nil, ipmi.PayloadOpenSessionRequest, 0, 0, osr.Append(nil)))
	resp, err := ipmi.ParseOpenSessionResponse(k.setup(ans, ipmi.PayloadOpenSessionResponse))
	if err != nil || resp.Status != ipmi.StatusOK || resp.ConsoleSessionID != consoleSID || resp.BMCSessionID == 0 {
		t.Fatalf("open session response %+v, %v", resp, err)
	}
	k.bmcSID = resp.BMCSessionID

	hs := ipmi.Handshake{ConsoleSessionID: consoleSID, BMCSessionID: k.bmcSID, Role: 0x14, Username: []byte("admin")}
	copy(hs.ConsoleRandom[:], "console-random-!")
	r1 := ipmi.RAKP1{Tag: 2, BMCSessionID: k.bmcSID, ConsoleRandom: hs.ConsoleRandom, Role: hs.Role, Username: hs.Username}
	ans = k.exchange(ipmi.AppendPlain(nil, ipmi.PayloadRAKP1, 0, 0, r1.Append(nil)))
	r2, err := ipmi.ParseRAKP2(k.setup(ans, ipmi.PayloadRAKP2))
	if err != nil || r2.Status != ipmi.StatusOK {
		t.Fatalf("RAKP 2 %+v, %v", r2, err)
	}
	hs.BMCRandom, hs.BMCGUID = r2.BMCRandom, r2.BMCGUID
	pw := []byte("password")
	if !bytes.Equal(r2.AuthCode, ipmi.RAKP2Code(k.suite.Auth, pw, &hs)) {
		t.Fatalf("RAKP 2 code % x", r2.AuthCode)
	}

	r3 := ipmi.RAKP3{Tag: 3, BMCSessionID: k.bmcSID, AuthCode: ipmi.RAKP3Code(k.suite.Auth, pw, &hs)}
	ans = k.exchange(ipmi.AppendPlain(nil, ipmi.PayloadRAKP3, 0, 0, r3.Append(nil)))
	r4, err := ipmi.ParseRAKP4(k.setup(ans, ipmi.PayloadRAKP4))
	keys := ipmi.DeriveKeys(k.suite.Auth, pw, nil, &hs)
	if err != nil || r4.Status != ipmi.StatusOK || !bytes.Equal(r4.ICV, ipmi.RAKP4ICV(k.suite.Auth, keys.SIK, &hs)) {
		t.Fatalf("RAKP 4 %+v, %v", r4, err)
	}
	ivs := rand.NewChaCha8([32]byte{'c', 'o', 'n', 's', 'o', 'l', 'e'})
	if k.seal, err = ipmi.NewSessionCipher(k.suite, keys, ivs); err != nil {
		t.Fatal(err)
	}
	if k.open, err = ipmi.NewSessionCipher(k.suite, keys, nil); err != nil {
		t.Fatal(err)
	}

	got := k.request(ipmi.NetFnApp, ipmi.CmdSetSessionPrivilege, []byte{byte(ipmi.PrivilegeAdministrator)})
	if !bytes.Equal(got.Data, []byte{0, byte(ipmi.PrivilegeAdministrator)}) {
		t.Fatalf("set privilege answer % x", got.Data)
	}
	return k
}

// sealIPMI seals an IPMI request message in the session.
func (k *console) sealIPMI(netFn ipmi.NetFn, cmd byte, data []byte) []byte {
	k.rqSeq = (k.rqSeq + 1) & 0x3F
	m := ipmi.Message{TargetAddr: ipmi.AddrBMC, NetFn: netFn, SourceAddr: ipmi.AddrConsole, Seq: k.rqSeq, Cmd: cmd, Data: data}
	return k.sealPayload(ipmi.PayloadIPMI, ipmi.AppendMessage(nil, &m))
}

func (k *console) sealPayload(pt ipmi.PayloadType, payload []byte) []byte {
	k.t.Helper()
	k.seq = ipmi.NextSeq(k.seq)
	pkt, err := k.seal.Seal(nil, pt, k.bmcSID, k.seq, payload)
	if err != nil {
		k.t.Fatal(err)
	}
	return pkt
}

// openAnswer checks an in-session answer and returns its payload.
func (k *console) openAnswer(b []byte) (ipmi.Header, []byte) {
	k.t.Helper()
	h, p, err := k.open.Open(slices.Clone(b))
	if err != nil || h.SessionID != consoleSID {
		k.t.Fatalf("answer % x: %+v, %v", b, h, err)
	}
	return h, p
}

// request sends an in-session request and returns the response message.
func (k *console) request(netFn ipmi.NetFn, cmd byte, data []byte) ipmi.Message {
	k.t.Helper()
	ans := k.exchange(k.sealIPMI(netFn, cmd, data))
	h, p := k.openAnswer(ans)
	m, err := ipmi.ParseMessage(p)
	if err != nil || h.PayloadType != ipmi.PayloadIPMI || m.Cmd != cmd || m.NetFn != netFn|1 || m.Seq != k.rqSeq || len(m.Data) == 0 {
		k.t.Fatalf("answer to 0x%02x/0x%02x: %+v, %v", netFn, cmd, m, err)
	}
	return m
}

// TestHandshakeReplay records a whole session setup and a few requests, then
// replays the console's datagrams in order against a fresh server with the
// same randomness: every one must be answered, with the same bytes.
func TestHandshakeReplay(t *testing.T) {
	s, c := newTestServer(t)
	k := handshake(t, s, c)
	if m := k.request(ipmi.NetFnApp, ipmi.CmdGetDeviceID, nil); m.Data[0] != 0 {
		t.Fatalf("Get Device ID cc 0x%02x", m.Data[0])
	}
	if m := k.request(ipmi.NetFnChassis, ipmi.CmdGetChassisStatus, nil); m.Data[0] != 0 {
		t.Fatalf("Get Chassis Status cc 0x%02x", m.Data[0])
	}
	if len(k.sent) != 7 {
		t.Fatalf("recorded %d datagrams, want 7", len(k.sent))
	}

	fresh, fc := newTestServer(t)
	for i, pkt := range k.sent {
		out := deliver(fresh, fc, pkt)
		if len(out) != 1 {
			t.Fatalf("replayed datagram %d: %d answers, want 1", i, len(out))
		}
		if !bytes.Equal(out[0], k.answers[i]) {
			t.Errorf("replayed datagram %d answered\n % x\nfirst time\n % x", i, out[0], k.answers[i])
		}
	}
	if st := fresh.Stats(); st.Sessions != 1 || st.Dropped != 0 || st.Sent != uint64(len(k.sent)) {
		t.Errorf("fresh server stats %+v", st)
	}

	// On the first server, a replay of the same datagrams once the session
	// is up: RAKP 1 is refused (the session is active), a retransmitted
	// RAKP 3 gets the very same RAKP 4, and the in-session datagrams are
	// refused by the sequence window.
	for i, pkt := range k.sent[2:] {
		i += 2
		out := deliver(s, c, pkt)
		switch {
		case i == 3:
			if len(out) != 1 || !bytes.Equal(out[0], k.answers[3]) {
				t.Errorf("retransmitted RAKP 3 answered % x, want the first RAKP 4", out)
			}
		case len(out) != 0:
			t.Errorf("second replay of datagram %d answered: % x", i, out)
		}
	}
}

// seeds returns datagrams of a real exchange for the fuzz corpus.
func seeds(f *testing.F) (k *console, ping []byte) {
	s, c := newTestServer(f)
	k = handshake(f, s, c)
	ping = ipmi.AppendASF(nil, ipmi.ASFMessage{Type: 0x80, Tag: 7})
	if out := deliver(s, c, ping); len(out) != 1 {
		f.Fatalf("ping: %d answers", len(out))
	}
	return k, ping
}

// FuzzServerHandle feeds up to three arbitrary datagrams, in order, to a fresh
// server. The server's randomness is fixed, so a seed holding a real Open
// Session Request followed by RAKP 1 and RAKP 3 walks the whole setup, and
// mutations of it reach every branch of the setup handlers.
func FuzzServerHandle(f *testing.F) {
	k, ping := seeds(f)
	authCaps, open, rakp1, rakp3 := k.sent[0], k.sent[1], k.sent[2], k.sent[3]
	f.Add(open, rakp1, rakp3)
	f.Add(open, []byte(nil), []byte(nil))
	f.Add(rakp1, []byte(nil), []byte(nil))
	f.Add(authCaps, ping, []byte(nil))
	f.Add(ping, []byte(nil), []byte(nil))
	f.Add(open, open, rakp1)
	f.Add(open, rakp1, rakp1)
	// A session-less Get Channel Cipher Suites in RMCP+ format.
	cs := ipmi.Message{TargetAddr: ipmi.AddrBMC, NetFn: ipmi.NetFnApp, SourceAddr: ipmi.AddrConsole,
		Cmd: ipmi.CmdGetChannelCipherSuites, Data: ipmi.CipherSuitesRequest(0)}
	f.Add(ipmi.AppendPlain(nil, ipmi.PayloadIPMI, 0, 0, ipmi.AppendMessage(nil, &cs)), []byte(nil), []byte(nil))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		s, pc := newTestServer(t)
		for _, d := range [][]byte{a, b, c} {
			// Outside a session every datagram gets one answer at most.
			if out := deliver(s, pc, d); len(out) > 1 {
				t.Fatalf("% x: %d answers", d, len(out))
			}
		}
	})
}

// FuzzServerInSession completes a real handshake, then seals the fuzzed
// payload in the session with the right keys, so that the command handlers
// (and whatever handles SOL payloads) see arbitrary input. An IPMI request
// must get exactly one well-formed response for its command, and a repeat
// of it (new session sequence, same rqSeq) the very same response.
func FuzzServerInSession(f *testing.F) {
	reqs := []struct {
		netFn ipmi.NetFn
		cmd   byte
		data  []byte
	}{
		{ipmi.NetFnApp, ipmi.CmdGetDeviceID, nil},
		{ipmi.NetFnApp, ipmi.CmdGetChannelAuthCaps, []byte{0x8e, 0x04}},
		{ipmi.NetFnApp, ipmi.CmdGetChannelCipherSuites, ipmi.CipherSuitesRequest(1)},
		{ipmi.NetFnApp, ipmi.CmdSetSessionPrivilege, []byte{3}},
		{ipmi.NetFnApp, ipmi.CmdCloseSession, []byte{0, 0, 0, 0}},
		{ipmi.NetFnApp, ipmi.CmdActivatePayload, ipmi.ActivatePayloadRequest(ipmi.PayloadSOL, 1, 0xc6)},
		{ipmi.NetFnApp, ipmi.CmdDeactivatePayload, ipmi.DeactivatePayloadRequest(ipmi.PayloadSOL, 1)},
		{ipmi.NetFnApp, ipmi.CmdGetPayloadActivation, []byte{1}},
		{ipmi.NetFnApp, ipmi.CmdGetPayloadInstanceInfo, []byte{1, 1}},
		{ipmi.NetFnApp, ipmi.CmdGetChannelPayloadVersion, []byte{0x0e, 0x01}},
		{ipmi.NetFnChassis, ipmi.CmdGetChassisStatus, nil},
		{ipmi.NetFnChassis, ipmi.CmdChassisControl, []byte{byte(ipmi.PowerCycle)}},
		{ipmi.NetFnChassis, ipmi.CmdSetBootOptions, []byte{ipmi.BootParamFlags, 0xe0, 0x04, 0, 0, 0}},
		{ipmi.NetFnChassis, ipmi.CmdSetBootOptions, []byte{ipmi.BootParamSetInProgress, 1}},
		{ipmi.NetFnChassis, ipmi.CmdGetBootOptions, []byte{ipmi.BootParamFlags, 0, 0}},
		{ipmi.NetFnTransport, 0x22, []byte{0x01, 0x01, 0, 0}},
	}
	for i, r := range reqs {
		m := ipmi.Message{TargetAddr: ipmi.AddrBMC, NetFn: r.netFn, SourceAddr: ipmi.AddrConsole, Seq: byte(10 + i), Cmd: r.cmd, Data: r.data}
		f.Add(byte(ipmi.PayloadIPMI), ipmi.AppendMessage(nil, &m), false)
		f.Add(byte(ipmi.PayloadIPMI), ipmi.AppendMessage(nil, &m), true)
	}
	// SOL, with the payload activated by the session: data, ACK only,
	// BREAK, flushes, NACK.
	f.Add(byte(ipmi.PayloadSOL), []byte("\x01\x00\x00\x00ls\r"), true)
	f.Add(byte(ipmi.PayloadSOL), []byte{0, 1, 5, 0}, true)
	f.Add(byte(ipmi.PayloadSOL), []byte{2, 0, 0, 0x10}, true)
	f.Add(byte(ipmi.PayloadSOL), []byte{3, 0, 0, 0x03, 'x'}, true)
	f.Add(byte(ipmi.PayloadSOL), []byte{0, 1, 0, 0x40}, true)
	f.Add(byte(ipmi.PayloadSOL), []byte("\x01\x00\x00\x00ls\r"), false)
	f.Fuzz(func(t *testing.T, pt byte, payload []byte, activate bool) {
		s, c := newTestServer(t)
		k := handshake(t, s, c)
		if activate {
			m := k.request(ipmi.NetFnApp, ipmi.CmdActivatePayload, ipmi.ActivatePayloadRequest(ipmi.PayloadSOL, 1, 0xc6))
			if m.Data[0] != 0 {
				t.Fatalf("Activate Payload cc 0x%02x", m.Data[0])
			}
		}
		ptype := ipmi.PayloadType(pt & 0x3F)
		if ptype == ipmi.PayloadOEM {
			return // ParseHeader rejects OEM explicit payloads on both sides
		}
		req, reqErr := ipmi.ParseMessage(payload)
		isRequest := ptype == ipmi.PayloadIPMI && reqErr == nil && !req.IsResponse()
		var first []byte
		for round := range 2 {
			s.mu.Lock()
			alive := s.sessions[k.bmcSID] != nil
			s.mu.Unlock()
			out := deliver(s, c, k.sealPayload(ptype, payload))
			// Every answer is a packet of this session; besides the one
			// response to a request, only SOL packets (ACKs, status) may go.
			var resp [][]byte
			acked := false
			for _, o := range out {
				h, p := k.openAnswer(o)
				switch h.PayloadType {
				case ipmi.PayloadIPMI:
					resp = append(resp, p)
				case ipmi.PayloadSOL:
					if len(p) < 4 {
						t.Fatalf("SOL answer % x", p)
					}
					if ptype == ipmi.PayloadSOL && len(payload) >= 4 && payload[0]&0x0F != 0 && p[1] == payload[0]&0x0F {
						acked = true
						if int(p[2]) > len(payload)-4 {
							t.Fatalf("round %d: ACK of %d characters for a packet of %d", round, p[2], len(payload)-4)
						}
					}
				default:
					t.Fatalf("answer of payload type 0x%02x", h.PayloadType)
				}
			}
			// The owner's data packets are always acknowledged (IPMI v2.0 §15.9).
			if activate && alive && ptype == ipmi.PayloadSOL && len(payload) >= 4 && payload[0]&0x0F != 0 && !acked {
				t.Fatalf("round %d: SOL packet % x not acknowledged: % x", round, payload, out)
			}
			if !isRequest {
				if len(resp) != 0 || (ptype != ipmi.PayloadSOL && len(out) != 0) {
					t.Fatalf("payload type 0x%02x % x answered % x", ptype, payload, out)
				}
				continue
			}
			if !alive {
				if len(out) != 0 {
					t.Fatalf("closed session answered % x", payload)
				}
				continue
			}
			if len(resp) != 1 {
				t.Fatalf("round %d: request % x got %d responses", round, payload, len(resp))
			}
			m, err := ipmi.ParseMessage(resp[0])
			if err != nil || !m.IsResponse() || m.NetFn != req.NetFn|1 ||
				m.Cmd != req.Cmd || m.Seq != req.Seq || len(m.Data) == 0 ||
				m.TargetAddr != req.SourceAddr || m.SourceAddr != req.TargetAddr {
				t.Fatalf("round %d: request %+v answered %+v (%v)", round, req, m, err)
			}
			if round == 0 {
				first = resp[0]
			} else if !bytes.Equal(resp[0], first) {
				t.Fatalf("repeated request % x answered\n % x\nfirst\n % x", payload, resp[0], first)
			}
		}
	})
}
