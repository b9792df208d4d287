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

// Session setup, one method per step: Get Channel Authentication
// Capabilities (IPMI v2.0 §22.13) → (Get Channel Cipher Suites, §22.15) →
// Open Session (§13.17, §13.18) → RAKP 1/2 (§13.20, §13.21) → RAKP 3/4
// (§13.22, §13.23) → Set Session Privilege Level (§22.18).
//
// Recovery. Each step retransmits its message unchanged (same tag) with
// backoff, and takes the first answer that is its own; late answers to
// earlier messages are recognised by their tag and ignored. When a step
// cannot be completed (its tries go unanswered, or its answer is malformed,
// out of sequence or for another session) the attempt is abandoned and setup
// starts over from Open Session with a fresh console session ID, random and
// tags: the BMC may hold a half-open session that a retransmission cannot
// revive (a lost RAKP 4 on a BMC that ignores a repeated RAKP 3). At most
// maxRestarts restarts, at most one of them for a malformed answer, all
// within Config.SetupBound. Once the session keys are known (RAKP 2 checked)
// an abandoned session is closed with Close Session.

// maxRestarts bounds how often setup starts over from Open Session.
const maxRestarts = 3

// preferredSuites is the negotiation order: encryption and SHA-256 first.
var preferredSuites = []uint8{17, 3, 16, 2, 15, 1}

// guessedSuites are tried, in turn, when the BMC's list is not known.
var guessedSuites = []uint8{17, 3}

var errSetupBound = errors.New("session setup bound reached")

// candidate is a cipher suite to try.
type candidate struct {
	id uint8
	// skipOnSilence: an unanswered Open Session means "try the next suite"
	// (this one was guessed, or is one of several the caller listed), not
	// "the path is lossy, start over".
	skipOnSilence bool
}

// attempt is one pass of the handshake from Open Session on.
type attempt struct {
	bmcID uint32
	keyed bool // RAKP 2 checked: the keys are shared, Close Session can be sent
	up    bool // RAKP 4 checked: the BMC has the session
}

func (s *Session) establish(ctx context.Context) error {
	ctx, cancel := context.WithTimeoutCause(ctx, s.cfg.SetupBound(), errSetupBound)
	defer cancel()
	if err := s.authCaps(ctx); err != nil {
		return s.setupEnd(ctx, err, 0, nil)
	}
	cands, err := s.candidates(ctx)
	if err != nil {
		return s.setupEnd(ctx, err, 0, nil)
	}
	var last, lastStep error
	attempts, restarts, malformedRestarts := 0, 0, 0
	for i := 0; i < len(cands); {
		c := cands[i]
		if c.id == 0 && !s.cfg.AllowNoAuth {
			last = fmt.Errorf("ipmi: %w: cipher suite 0 (no authentication) needs to be allowed explicitly", ErrNoCipherSuite)
			i++
			continue
		}
		attempts++
		a, err := s.handshake(ctx, c.id)
		if err == nil {
			return nil
		}
		last = err
		var se *SetupError
		step := errors.As(err, &se)
		if step {
			se.Attempts = attempts
			lastStep = se.Err
		}
		malformed := errors.Is(err, ErrMalformed)
		switch {
		case ctx.Err() != nil:
			s.abandon(a, true)
			if step {
				return err // the step's own failure says more
			}
			return s.setupEnd(ctx, err, attempts, lastStep)
		case errors.Is(err, ErrNoCipherSuite):
			// Refused by the BMC, or not implemented here: same with
			// every attempt, so the next suite.
			s.abandon(a, false)
			i++
		case step && se.atOpen && c.skipOnSilence && !malformed:
			i++
		case step && restarts < maxRestarts && (!malformed || malformedRestarts == 0):
			s.traceRestart(fmt.Sprintf("starting over from Open Session (restart %d of at most %d): %s failed: %s",
				restarts+1, maxRestarts, se.Step, se.Err))
			s.abandon(a, false)
			restarts++
			if malformed {
				malformedRestarts++
			}
			s.st.restarts.Add(1)
		default:
			// Wrong credentials or privilege are the same with every
			// suite and attempt; so is a BMC that keeps answering wrong.
			s.abandon(a, true)
			return err
		}
	}
	if last == nil {
		last = fmt.Errorf("ipmi: %w: none given", ErrNoCipherSuite)
	}
	return last
}

// setupEnd turns the error that ends setup into what Dial returns: running
// out of Config.SetupBound in the middle of a step is a *SetupError saying
// where setup was, and what went wrong before (last, if anything).
func (s *Session) setupEnd(ctx context.Context, err error, attempts int, last error) error {
	if ctx.Err() == nil || context.Cause(ctx) != errSetupBound {
		return err
	}
	return &SetupError{Step: s.step, Addr: s.addr, Attempts: attempts, Err: &boundError{last: last}}
}

// abandon gives up an attempt's session on the BMC: with a Close Session
// exchange when the BMC has it and setup ends here (final), else with one
// Close Session datagram that nobody waits for (the BMC may not have the
// session, or may not be answering).
func (s *Session) abandon(a *attempt, final bool) {
	if a == nil || !a.keyed {
		s.in.Store(nil)
		return
	}
	if a.up && final {
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.timeout())
		_, _ = s.doTries(ctx, NetFnApp, CmdCloseSession, le32(a.bmcID), 2)
		cancel()
	} else {
		s.sendCloseOnce(a.bmcID)
	}
	s.in.Store(nil)
}

// sendCloseOnce sends one Close Session for bmcID in the current attempt's
// session and does not wait for the answer.
func (s *Session) sendCloseOnce(bmcID uint32) {
	_, seq, err := s.register(NetFnApp, CmdCloseSession)
	if err != nil {
		return
	}
	defer s.unregister(seq)
	msg := Message{TargetAddr: AddrBMC, NetFn: NetFnApp, SourceAddr: AddrConsole, Seq: seq, Cmd: CmdCloseSession, Data: le32(bmcID)}
	_ = s.sendPayload(PayloadIPMI, AppendMessage(nil, &msg))
}

// stepErr turns a failed exchange into a *SetupError when the BMC has
// answered before: unanswered tries, a malformed answer, or a status saying
// the BMC no longer knows the session (worth starting over). Other errors
// (refusals, the caller's context, a dead transport) pass unchanged.
func (s *Session) stepErr(step string, err error, atOpen bool) error {
	var te *TimeoutError
	var st *StatusError
	switch {
	case errors.As(err, &te):
		return &SetupError{Step: step, Addr: s.addr, Err: &unansweredError{tries: te.Tries}, atOpen: atOpen}
	case errors.As(err, &st) && (st.Status == StatusInvalidSessionID || st.Status == StatusInactiveSessionID):
		return &SetupError{Step: step, Addr: s.addr, Err: err}
	case errors.Is(err, ErrMalformed), errors.Is(err, errRepeatedRAKP3):
		return &SetupError{Step: step, Addr: s.addr, Err: err, atOpen: atOpen}
	}
	return err
}

// errRepeatedRAKP3 is a RAKP 4 whose integrity check value does not match
// and that answers a repeated RAKP 3. It need not mean a wrong K_g: a BMC
// that derives its keys again for the repeat (OpenBMC's netipmid appends
// the new session integrity key to the old) makes an ICV nobody can check,
// and its session is lost. Setup starts over; a mismatch on a first try is
// ErrKg.
var errRepeatedRAKP3 = errors.New("RAKP 4 answering a repeated RAKP 3 has an integrity check value that does not match (the BMC may have derived its keys again)")

// exchange sends a setup message (pkt carries msg) and waits for the answer
// that accept takes, retransmitting with backoff. accept returns done=false
// to keep waiting (an answer to another message), or an error to end the
// step at once.
func (s *Session) exchange(ctx context.Context, op string, pkt []byte, msg setupMsg, tries int, wait func(int) time.Duration,
	accept func(m setupMsg) (done bool, err error)) error {
	s.step = op
	for try := range tries {
		if try > 0 {
			s.st.retrans.Add(1)
		}
		_, err := s.conn.Write(pkt)
		s.traceSetup(true, msg, err)
		if err != nil {
			return fmt.Errorf("ipmi: %s: sending to %s: %w", op, s.addr, err)
		}
		s.st.sent.Add(1)
		s.sent = try + 1
		t := time.NewTimer(wait(try))
	waiting:
		for {
			select {
			case m := <-s.setupCh:
				s.traceSetup(false, m, nil)
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
	err := s.exchange(ctx, CommandName(netFn, cmd), pkt, setupMsg{pt: PayloadIPMI, data: body}, tries, wait,
		func(m setupMsg) (bool, error) {
			if m.pt != PayloadIPMI {
				return false, nil
			}
			// Undecodable, or another request's: not necessarily ours.
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

// setupTag is the message tag for the next RMCP+ setup message (§13.17: the
// BMC echoes it). Tags are never reused within a Session, so an answer
// carrying an earlier one is late, and one carrying a tag never sent is
// wrong.
func (s *Session) setupTag() byte {
	t := s.nextTag()
	s.issued[t] = true
	return t
}

// answers checks that m is the answer, of type want, to the setup message
// sent with tag in step: false with no error for a message that is not
// (another step's late answer, a late duplicate), an error for one that is
// this step's answer but wrong, or an answer to nothing this side sent.
func (s *Session) answers(m setupMsg, step string, want PayloadType, tag byte) (bool, error) {
	switch m.pt {
	case PayloadOpenSessionResponse, PayloadRAKP2, PayloadRAKP4:
	default:
		return false, nil // e.g. a late answer to Get Channel Authentication Capabilities
	}
	if len(m.data) == 0 {
		if m.pt != want {
			return false, nil
		}
		return false, malformed("%s of 0 bytes", payloadName(m.pt))
	}
	if t := m.data[0]; t != tag {
		if s.issued[t] {
			return false, nil
		}
		return false, malformed("%s with message tag %d, want %d (a tag this console never sent)", payloadName(m.pt), t, tag)
	}
	if m.pt != want {
		return false, malformed("%s answered with %s, want %s", step, payloadName(m.pt), payloadName(want))
	}
	if !m.sealed && m.seq != 0 {
		// Setup messages are outside any session: sequence number 0.
		return false, malformed("%s with session sequence number %d, want 0", payloadName(m.pt), m.seq)
	}
	return true, nil
}

// authCaps asks for the IPMI 2.0 extended capabilities, and retries without
// the extension bit when the BMC refuses it (ipmitool and pyghmi do). It is
// the first contact: when it goes unanswered, nothing answered, and the
// *TimeoutError (ErrNoResponse) says so.
func (s *Session) authCaps(ctx context.Context) error {
	const op = "Get Channel Authentication Capabilities"
	tries, wait := s.cfg.firstContact()
	d, err := s.sessionlessRequest(ctx, true, NetFnApp, CmdGetChannelAuthCaps,
		AuthCapsRequest(true, s.cfg.Privilege), tries, wait)
	var te *TimeoutError
	if errors.As(err, &te) {
		return err
	}
	var ce *CompletionError
	if errors.As(err, &ce) {
		d, err = s.sessionlessRequest(ctx, true, NetFnApp, CmdGetChannelAuthCaps,
			AuthCapsRequest(false, s.cfg.Privilege), s.cfg.tries(), s.cfg.backoff)
	}
	if err != nil {
		return s.stepErr(op, err, false)
	}
	caps, err := ParseAuthCaps(d)
	if err != nil {
		return s.stepErr(op, err, false)
	}
	if !caps.IPMI2Ext || !caps.IPMI2 {
		return fmt.Errorf("ipmi: %s: %w", s.addr, ErrNotIPMI2)
	}
	return nil
}

// candidates lists the suites to try: the caller's, or those the BMC lists
// in our order of preference, or guesses.
func (s *Session) candidates(ctx context.Context) ([]candidate, error) {
	if list := s.cfg.CipherSuites; list != nil {
		out := make([]candidate, len(list))
		for i, id := range list {
			out[i] = candidate{id: id, skipOnSilence: i < len(list)-1}
		}
		return out, nil
	}
	offered, complete, err := s.offeredSuites(ctx)
	if err != nil {
		return nil, err
	}
	listed := map[uint8]bool{}
	for _, id := range offered {
		listed[id] = true
	}
	guessed := map[uint8]bool{}
	if !complete {
		for _, id := range guessedSuites {
			guessed[id] = !listed[id]
		}
	}
	var ids []uint8
	for _, id := range preferredSuites {
		if listed[id] || guessed[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("ipmi: %w: the BMC offers suites %v, ghmicons supports %v", ErrNoCipherSuite, offered, preferredSuites)
	}
	out := make([]candidate, len(ids))
	for i, id := range ids {
		// A suite the BMC listed is not skipped for silence: under loss that
		// would trade encryption for luck.
		out[i] = candidate{id: id, skipOnSilence: guessed[id] && i < len(ids)-1}
	}
	return out, nil
}

// offeredSuites asks the BMC which suites it has, briefly: some BMCs do not
// answer this before a session exists. complete is false when the list
// could not be read to its end (unanswered), so that suites missing from it
// may still exist.
func (s *Session) offeredSuites(ctx context.Context) (ids []uint8, complete bool, err error) {
	probeWait := min(s.cfg.timeout()/2, 500*time.Millisecond)
	// In the IPMI 1.5 frame, which ipmi_sim answers (it ignores the RMCP+
	// form), like Get Channel Authentication Capabilities.
	offered, pages, err := collectCipherSuites(func(index byte) ([]byte, error) {
		// A BMC that answered the first page answers the others: a page
		// lost then is loss, worth the usual tries (a list cut short costs
		// a guess, or a weaker suite).
		tries := 2
		if index > 0 {
			tries = s.cfg.tries()
		}
		return s.sessionlessRequest(ctx, true, NetFnApp, CmdGetChannelCipherSuites,
			CipherSuitesRequest(index), tries, func(int) time.Duration { return probeWait })
	})
	if err != nil && ctx.Err() != nil {
		return nil, false, err
	}
	var te *TimeoutError
	// A refusal (completion code) on a later page ends the list; silence
	// leaves it incomplete; a refusal or silence on the first leaves nothing.
	return offered, pages > 0 && !errors.As(err, &te), nil
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

// handshake runs one attempt: Open Session and RAKP 1–4 with one suite, then
// Set Session Privilege Level. The attempt it returns (nil before Open
// Session) says what the BMC may hold, for abandon.
func (s *Session) handshake(ctx context.Context, id uint8) (*attempt, error) {
	suite, ok := LookupCipherSuite(id)
	if !ok {
		return nil, fmt.Errorf("ipmi: %w: cipher suite %d is not implemented (have %v)", ErrNoCipherSuite, id, SupportedCipherSuites())
	}
	consoleID, err := s.randomID()
	if err != nil {
		return nil, err
	}
	// Ask for "the highest level the suite allows" when administrator is
	// wanted, as ipmitool and FreeIPMI do; some BMCs refuse an explicit level
	// here. The real level is set by RAKP 1 and Set Session Privilege Level.
	openPriv := s.cfg.Privilege
	if openPriv == PrivilegeAdministrator {
		openPriv = 0
	}
	tag := s.setupTag()
	req := OpenSessionRequest{Tag: tag, MaxPrivilege: openPriv, ConsoleSessionID: consoleID,
		Auth: suite.Auth, Integrity: suite.Integrity, Conf: suite.Conf}
	var osr OpenSessionResponse
	op := fmt.Sprintf("Open Session (cipher suite %d)", id)
	body := req.Append(nil)
	err = s.exchange(ctx, op, AppendPlain(nil, PayloadOpenSessionRequest, 0, 0, body),
		setupMsg{pt: PayloadOpenSessionRequest, data: body}, s.cfg.tries(), s.cfg.backoff,
		func(m setupMsg) (bool, error) {
			if ok, err := s.answers(m, op, PayloadOpenSessionResponse, tag); !ok {
				return false, err
			}
			r, err := ParseOpenSessionResponse(m.data)
			if err != nil {
				return false, err
			}
			if r.Status != StatusOK {
				return true, &StatusError{Step: op, Status: r.Status, Class: statusClass(r.Status)}
			}
			if r.ConsoleSessionID != consoleID {
				return false, malformed("Open Session Response for console session 0x%08x, want 0x%08x", r.ConsoleSessionID, consoleID)
			}
			if r.BMCSessionID == 0 {
				return false, malformed("Open Session Response with BMC session ID 0")
			}
			osr = r
			return true, nil
		})
	if err != nil {
		return nil, s.stepErr(op, err, true)
	}
	if osr.Auth != suite.Auth || osr.Integrity != suite.Integrity || osr.Conf != suite.Conf {
		return nil, fmt.Errorf("ipmi: %s: %w: BMC answered with %s/%s/%s", op, ErrNoCipherSuite, osr.Auth, osr.Integrity, osr.Conf)
	}
	a := &attempt{bmcID: osr.BMCSessionID}
	hs := Handshake{ConsoleSessionID: consoleID, BMCSessionID: osr.BMCSessionID, Username: []byte(s.cfg.Username)}
	hs.Role = byte(s.cfg.Privilege) & 0x0F
	if !s.cfg.UsernamePrivilegeLookup {
		hs.Role |= 0x10
	}
	if _, err := io.ReadFull(s.rand, hs.ConsoleRandom[:]); err != nil {
		return a, fmt.Errorf("ipmi: random: %w", err)
	}

	// RAKP 1 → RAKP 2.
	tag = s.setupTag()
	r1 := RAKP1{Tag: tag, BMCSessionID: hs.BMCSessionID, ConsoleRandom: hs.ConsoleRandom, Role: hs.Role, Username: hs.Username}
	var r2 RAKP2
	body = r1.Append(nil)
	err = s.exchange(ctx, "RAKP 1", AppendPlain(nil, PayloadRAKP1, 0, 0, body),
		setupMsg{pt: PayloadRAKP1, data: body}, s.cfg.tries(), s.cfg.backoff,
		func(m setupMsg) (bool, error) {
			if ok, err := s.answers(m, "RAKP 1", PayloadRAKP2, tag); !ok {
				return false, err
			}
			r, err := ParseRAKP2(m.data)
			if err != nil {
				return false, err
			}
			if r.Status != StatusOK {
				return true, &StatusError{Step: "RAKP 2", Status: r.Status, Class: statusClass(r.Status)}
			}
			if r.ConsoleSessionID != consoleID {
				return false, malformed("RAKP 2 for console session 0x%08x, want 0x%08x", r.ConsoleSessionID, consoleID)
			}
			if n := suite.Auth.codeLen(); len(r.AuthCode) != n {
				return false, malformed("RAKP 2 of %d bytes, want %d: %s has a %d-byte key-exchange code",
					len(m.data), 40+n, suite.Auth, n)
			}
			r2 = r
			return true, nil
		})
	if err != nil {
		return a, s.stepErr("RAKP 1", err, false)
	}
	hs.BMCRandom, hs.BMCGUID = r2.BMCRandom, r2.BMCGUID
	want := RAKP2Code(suite.Auth, s.cfg.Password, &hs)
	if !hmac.Equal(want, r2.AuthCode) {
		// Tell the BMC, so it drops the half-open session (ipmitool does).
		r3 := RAKP3{Tag: s.setupTag(), Status: StatusInvalidIntegrityCheck, BMCSessionID: hs.BMCSessionID}
		body := r3.Append(nil)
		_, err := s.conn.Write(AppendPlain(nil, PayloadRAKP3, 0, 0, body))
		s.traceSetup(true, setupMsg{pt: PayloadRAKP3, data: body}, err)
		return a, fmt.Errorf("ipmi: RAKP 2 from %s: %w (the BMC's key-exchange code does not match user %q's password)",
			s.addr, ErrAuth, s.cfg.Username)
	}
	keys := DeriveKeys(suite.Auth, s.cfg.Password, s.cfg.Kg, &hs)

	// From here the keys are shared: accept packets inside the session (a
	// BMC may send RAKP 4 there, ipmi_sim does when RAKP 3 is repeated) and
	// allow Close Session.
	seal, err := NewSessionCipher(suite, keys, s.rand)
	if err != nil {
		return a, err
	}
	open, err := NewSessionCipher(suite, keys, s.rand)
	if err != nil {
		return a, err
	}
	s.sendMu.Lock()
	s.seal, s.bmcID, s.outSeq = seal, hs.BMCSessionID, 0
	s.sendMu.Unlock()
	s.in.Store(&inbound{consoleID: consoleID, open: open})
	a.keyed = true

	// RAKP 3 → RAKP 4.
	tag = s.setupTag()
	r3 := RAKP3{Tag: tag, BMCSessionID: hs.BMCSessionID, AuthCode: RAKP3Code(suite.Auth, s.cfg.Password, &hs)}
	body = r3.Append(nil)
	err = s.exchange(ctx, "RAKP 3", AppendPlain(nil, PayloadRAKP3, 0, 0, body),
		setupMsg{pt: PayloadRAKP3, data: body}, s.cfg.tries(), s.cfg.backoff,
		func(m setupMsg) (bool, error) {
			if ok, err := s.answers(m, "RAKP 3", PayloadRAKP4, tag); !ok {
				return false, err
			}
			r, err := ParseRAKP4(m.data)
			if err != nil {
				return false, err
			}
			if r.Status != StatusOK {
				return true, &StatusError{Step: "RAKP 4", Status: r.Status, Class: statusClass(r.Status)}
			}
			if r.ConsoleSessionID != consoleID {
				return false, malformed("RAKP 4 for console session 0x%08x, want 0x%08x", r.ConsoleSessionID, consoleID)
			}
			if n := suite.Auth.icvLen(); len(r.ICV) < n {
				return false, malformed("RAKP 4 of %d bytes, want %d: %s has a %d-byte integrity check value",
					len(m.data), 8+n, suite.Auth, n)
			}
			if icv := RAKP4ICV(suite.Auth, keys.SIK, &hs); !hmac.Equal(icv, r.ICV[:len(icv)]) {
				// The BMC derived other keys: nothing this side sends
				// reaches it.
				a.keyed = false
				if s.sent > 1 {
					return false, errRepeatedRAKP3
				}
				return true, fmt.Errorf("ipmi: RAKP 4 from %s: %w (integrity check value mismatch)", s.addr, ErrKg)
			}
			return true, nil
		})
	if err != nil {
		return a, s.stepErr("RAKP 3", err, false)
	}
	a.up = true

	s.step = CommandName(NetFnApp, CmdSetSessionPrivilege)
	d, err := s.Do(ctx, NetFnApp, CmdSetSessionPrivilege, []byte{byte(s.cfg.Privilege)})
	if err != nil {
		var ce *CompletionError
		if errors.As(err, &ce) {
			return a, fmt.Errorf("ipmi: %w: %s for user %q: %w", ErrPrivilege, s.cfg.Privilege, s.cfg.Username, err)
		}
		return a, s.stepErr(s.step, err, false)
	}
	s.suite, s.consoleID = suite, consoleID
	s.privilege = s.cfg.Privilege
	if len(d) >= 1 && d[0]&0x0F != 0 {
		s.privilege = Privilege(d[0] & 0x0F)
	}
	s.established.Store(true)
	return a, nil
}
