package ipmi

import (
	"context"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Session setup, one method per step (protocol.md §2): Get Channel
// Authentication Capabilities → (Get Channel Cipher Suites) → Open Session →
// RAKP 1/2 → RAKP 3/4 → Set Session Privilege Level.

// preferredSuites is the negotiation order: encryption and SHA-256 first.
var preferredSuites = []uint8{17, 3, 16, 2, 15, 1}

func (s *Session) establish(ctx context.Context) error {
	if _, err := s.authCaps(ctx); err != nil {
		return err
	}
	suites := s.cfg.CipherSuites
	negotiate := suites == nil
	if negotiate {
		var err error
		if suites, err = s.negotiableSuites(ctx); err != nil {
			return err
		}
	}
	var last error
	for _, id := range suites {
		if id == 0 && !s.cfg.AllowNoAuth {
			last = fmt.Errorf("ipmi: %w: cipher suite 0 (no authentication) needs to be allowed explicitly", ErrNoCipherSuite)
			continue
		}
		err := s.handshake(ctx, id)
		if err == nil {
			return nil
		}
		last = err
		if s.established.Load() {
			// Failed after RAKP 4 (Set Session Privilege Level): the reader
			// already serves this session; do not start another.
			return err
		}
		// Wrong credentials or privilege are the same with every suite; a
		// refused suite or an unanswered one is worth the next try.
		if !errors.Is(err, ErrNoCipherSuite) && !errors.Is(err, ErrNoResponse) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
	}
	if last == nil {
		last = fmt.Errorf("ipmi: %w: none given", ErrNoCipherSuite)
	}
	return last
}

// exchange sends a session-less datagram and waits for the setup message that
// accept takes, retransmitting with backoff. accept returns done=false to keep
// waiting (a stale or foreign answer).
func (s *Session) exchange(ctx context.Context, op string, pkt []byte, tries int, wait func(int) time.Duration,
	accept func(m setupMsg) (done bool, err error)) error {
	for try := range tries {
		if try > 0 {
			s.st.retrans.Add(1)
		}
		if _, err := s.conn.Write(pkt); err != nil {
			return fmt.Errorf("ipmi: %s: sending to %s: %w", op, s.addr, err)
		}
		s.st.sent.Add(1)
		t := time.NewTimer(wait(try))
	waiting:
		for {
			select {
			case m := <-s.setupCh:
				done, err := accept(m)
				if err != nil || done {
					t.Stop()
					return err
				}
			case <-t.C:
				break waiting
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("ipmi: %s: %w", op, ctx.Err())
			case <-s.done:
				t.Stop()
				return s.err
			}
		}
	}
	return &TimeoutError{Op: op, Addr: s.addr, Tries: tries}
}

// sessionlessRequest sends an IPMI request outside any session, in IPMI 1.5
// format (v15) or as an unauthenticated RMCP+ packet, and returns the
// response data after the completion code.
func (s *Session) sessionlessRequest(ctx context.Context, v15 bool, netFn NetFn, cmd byte, data []byte,
	tries int, wait func(int) time.Duration) ([]byte, error) {
	seq := s.nextTag() & 0x3F
	msg := Message{TargetAddr: AddrBMC, NetFn: netFn, SourceAddr: AddrConsole, Seq: seq, Cmd: cmd, Data: data}
	body := AppendMessage(nil, &msg)
	var pkt []byte
	if v15 {
		pkt = AppendV15(nil, body)
	} else {
		pkt = AppendPlain(nil, PayloadIPMI, 0, 0, body)
	}
	var resp []byte
	err := s.exchange(ctx, CommandName(netFn, cmd), pkt, tries, wait, func(m setupMsg) (bool, error) {
		if m.pt != PayloadIPMI {
			return false, nil
		}
		r, err := ParseMessage(m.data)
		if err != nil || r.NetFn != netFn|1 || r.Cmd != cmd || r.Seq != seq {
			return false, nil
		}
		resp = r.Data
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return completion(netFn, cmd, resp)
}

func (s *Session) nextTag() byte {
	s.tag++
	return s.tag
}

// authCaps asks for the IPMI 2.0 extended capabilities, and retries without
// the extension bit when the BMC refuses it (ipmitool and pyghmi do).
func (s *Session) authCaps(ctx context.Context) (AuthCaps, error) {
	d, err := s.sessionlessRequest(ctx, true, NetFnApp, CmdGetChannelAuthCaps,
		AuthCapsRequest(true, s.cfg.Privilege), s.cfg.tries(), s.cfg.backoff)
	var ce *CompletionError
	if errors.As(err, &ce) {
		d, err = s.sessionlessRequest(ctx, true, NetFnApp, CmdGetChannelAuthCaps,
			AuthCapsRequest(false, s.cfg.Privilege), s.cfg.tries(), s.cfg.backoff)
	}
	if err != nil {
		return AuthCaps{}, err
	}
	caps, err := ParseAuthCaps(d)
	if err != nil {
		return caps, err
	}
	if !caps.IPMI2Ext || !caps.IPMI2 {
		return caps, fmt.Errorf("ipmi: %s: %w", s.addr, ErrNotIPMI2)
	}
	return caps, nil
}

// negotiableSuites asks the BMC which suites it has, briefly: some BMCs do
// not answer this before a session exists, and then 17 and 3 are tried in
// turn.
func (s *Session) negotiableSuites(ctx context.Context) ([]uint8, error) {
	probeWait := min(s.cfg.timeout()/2, 500*time.Millisecond)
	// In the IPMI 1.5 frame, which ipmi_sim answers (it ignores the RMCP+
	// form), like Get Channel Authentication Capabilities.
	offered, pages, err := collectCipherSuites(func(index byte) ([]byte, error) {
		return s.sessionlessRequest(ctx, true, NetFnApp, CmdGetChannelCipherSuites,
			CipherSuitesRequest(index), 2, func(int) time.Duration { return probeWait })
	})
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if pages == 0 {
		// Unanswered (or refused): try 17, then 3.
		return []uint8{17, 3}, nil
	}
	var out []uint8
	for _, id := range preferredSuites {
		for _, o := range offered {
			if o == id {
				out = append(out, id)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ipmi: %w: the BMC offers suites %v, ghmicons supports %v", ErrNoCipherSuite, offered, preferredSuites)
	}
	return out, nil
}

func (s *Session) randomID() (uint32, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			return 0, fmt.Errorf("ipmi: random: %w", err)
		}
		if id := binary.LittleEndian.Uint32(b[:]); id != 0 {
			return id, nil
		}
	}
}

// handshake runs Open Session and RAKP 1–4 with one suite, then sets the
// privilege level.
func (s *Session) handshake(ctx context.Context, id uint8) error {
	suite, ok := LookupCipherSuite(id)
	if !ok {
		return fmt.Errorf("ipmi: %w: cipher suite %d is not implemented (have %v)", ErrNoCipherSuite, id, SupportedCipherSuites())
	}
	consoleID, err := s.randomID()
	if err != nil {
		return err
	}
	// Ask for "the highest level the suite allows" when administrator is
	// wanted, as ipmitool and FreeIPMI do; some BMCs refuse an explicit level
	// here. The real level is set by RAKP 1 and Set Session Privilege Level.
	openPriv := s.cfg.Privilege
	if openPriv == PrivilegeAdministrator {
		openPriv = 0
	}
	tag := s.nextTag()
	req := OpenSessionRequest{Tag: tag, MaxPrivilege: openPriv, ConsoleSessionID: consoleID,
		Auth: suite.Auth, Integrity: suite.Integrity, Conf: suite.Conf}
	var osr OpenSessionResponse
	op := fmt.Sprintf("open session (cipher suite %d)", id)
	err = s.exchange(ctx, op, AppendPlain(nil, PayloadOpenSessionRequest, 0, 0, req.Append(nil)),
		s.cfg.tries(), s.cfg.backoff, func(m setupMsg) (bool, error) {
			if m.pt != PayloadOpenSessionResponse {
				return false, nil
			}
			r, err := ParseOpenSessionResponse(m.data)
			if err != nil || r.Tag != tag {
				return false, nil
			}
			if r.Status != StatusOK {
				return true, &StatusError{Step: op, Status: r.Status, Class: statusClass(r.Status)}
			}
			if r.ConsoleSessionID != consoleID {
				return false, nil
			}
			osr = r
			return true, nil
		})
	if err != nil {
		return err
	}
	if osr.Auth != suite.Auth || osr.Integrity != suite.Integrity || osr.Conf != suite.Conf {
		return fmt.Errorf("ipmi: %s: %w: BMC answered with %s/%s/%s", op, ErrNoCipherSuite, osr.Auth, osr.Integrity, osr.Conf)
	}
	if osr.BMCSessionID == 0 {
		return malformed("open session response with BMC session ID 0")
	}
	hs := Handshake{ConsoleSessionID: consoleID, BMCSessionID: osr.BMCSessionID, Username: []byte(s.cfg.Username)}
	hs.Role = byte(s.cfg.Privilege) & 0x0F
	if !s.cfg.UsernamePrivilegeLookup {
		hs.Role |= 0x10
	}
	if _, err := io.ReadFull(s.rand, hs.ConsoleRandom[:]); err != nil {
		return fmt.Errorf("ipmi: random: %w", err)
	}

	// RAKP 1 → RAKP 2.
	tag = s.nextTag()
	r1 := RAKP1{Tag: tag, BMCSessionID: hs.BMCSessionID, ConsoleRandom: hs.ConsoleRandom, Role: hs.Role, Username: hs.Username}
	var r2 RAKP2
	err = s.exchange(ctx, "RAKP 1", AppendPlain(nil, PayloadRAKP1, 0, 0, r1.Append(nil)),
		s.cfg.tries(), s.cfg.backoff, func(m setupMsg) (bool, error) {
			if m.pt != PayloadRAKP2 {
				return false, nil
			}
			r, err := ParseRAKP2(m.data)
			if err != nil || r.Tag != tag {
				return false, nil
			}
			if r.Status != StatusOK {
				return true, &StatusError{Step: "RAKP 2", Status: r.Status, Class: statusClass(r.Status)}
			}
			if r.ConsoleSessionID != consoleID {
				return false, nil
			}
			r2 = r
			return true, nil
		})
	if err != nil {
		return err
	}
	hs.BMCRandom, hs.BMCGUID = r2.BMCRandom, r2.BMCGUID
	want := RAKP2Code(suite.Auth, s.cfg.Password, &hs)
	if !hmac.Equal(want, r2.AuthCode) {
		// Tell the BMC, so it drops the half-open session (ipmitool does).
		r3 := RAKP3{Tag: s.nextTag(), Status: StatusInvalidIntegrityCheck, BMCSessionID: hs.BMCSessionID}
		_, _ = s.conn.Write(AppendPlain(nil, PayloadRAKP3, 0, 0, r3.Append(nil)))
		return fmt.Errorf("ipmi: RAKP 2 from %s: %w (the BMC's key-exchange code does not match user %q's password)",
			s.addr, ErrAuth, s.cfg.Username)
	}
	keys := DeriveKeys(suite.Auth, s.cfg.Password, s.cfg.Kg, &hs)

	// RAKP 3 → RAKP 4.
	tag = s.nextTag()
	r3 := RAKP3{Tag: tag, BMCSessionID: hs.BMCSessionID, AuthCode: RAKP3Code(suite.Auth, s.cfg.Password, &hs)}
	var r4 RAKP4
	err = s.exchange(ctx, "RAKP 3", AppendPlain(nil, PayloadRAKP3, 0, 0, r3.Append(nil)),
		s.cfg.tries(), s.cfg.backoff, func(m setupMsg) (bool, error) {
			if m.pt != PayloadRAKP4 {
				return false, nil
			}
			r, err := ParseRAKP4(m.data)
			if err != nil || r.Tag != tag {
				return false, nil
			}
			if r.Status != StatusOK {
				return true, &StatusError{Step: "RAKP 4", Status: r.Status, Class: statusClass(r.Status)}
			}
			if r.ConsoleSessionID != consoleID {
				return false, nil
			}
			r4 = r
			return true, nil
		})
	if err != nil {
		return err
	}
	icv := RAKP4ICV(suite.Auth, keys.SIK, &hs)
	if len(r4.ICV) < len(icv) || !hmac.Equal(icv, r4.ICV[:len(icv)]) {
		return fmt.Errorf("ipmi: RAKP 4 from %s: %w (integrity check value mismatch)", s.addr, ErrKg)
	}

	seal, err := NewSessionCipher(suite, keys, s.rand)
	if err != nil {
		return err
	}
	open, err := NewSessionCipher(suite, keys, s.rand)
	if err != nil {
		return err
	}
	s.suite, s.consoleID, s.bmcID = suite, consoleID, hs.BMCSessionID
	s.seal, s.open = seal, open
	s.established.Store(true)

	d, err := s.Do(ctx, NetFnApp, CmdSetSessionPrivilege, []byte{byte(s.cfg.Privilege)})
	if err != nil {
		var ce *CompletionError
		if errors.As(err, &ce) {
			return fmt.Errorf("ipmi: %w: %s for user %q: %w", ErrPrivilege, s.cfg.Privilege, s.cfg.Username, err)
		}
		return err
	}
	s.privilege = s.cfg.Privilege
	if len(d) >= 1 && d[0]&0x0F != 0 {
		s.privilege = Privilege(d[0] & 0x0F)
	}
	return nil
}
