package sol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Activate starts the SOL console on an established session. When the
// console is active on another session (a client that died, most often) it
// is taken over unless cfg.NoSteal is set.
func Activate(ctx context.Context, sess *ipmi.Session, cfg Config) (*Stream, error) {
	inst := cfg.Instance
	if inst == 0 {
		inst = 1
	}
	if inst > 15 {
		return nil, fmt.Errorf("sol: instance %d out of range 1–15", inst)
	}
	// Encryption and authentication as the session has them (IPMI v2.0
	// §24.1, auxiliary request data); serial alerts and the handshake lines
	// at the BMC's defaults.
	var aux byte
	if sess.CipherSuite().Conf != ipmi.ConfNone {
		aux |= 0x80
	}
	if sess.CipherSuite().Integrity != ipmi.IntegrityNone {
		aux |= 0x40
	}
	resp, err := activate(ctx, sess, cfg, inst, aux)
	if err != nil {
		return nil, err
	}
	maxChars := int(resp.InboundSize) - HeaderLen
	if resp.InboundSize < HeaderLen+1 {
		// pyghmi's fake BMC says 1, others 0: nothing sane to go by. 28
		// characters fit every BMC seen (ipmi_sim's buffer is 32).
		maxChars = 28
	}
	// A BMC may ask for SOL on another port. Its own port, or that port
	// byte-swapped (pyghmi's BMC sends it big-endian), means "this one".
	if p, sp := resp.Port, sess.SessionPort(); p != 0 && sp != 0 && p != sp && p != sp>>8|sp<<8 {
		if err := sess.SetSOLPort(p); err != nil {
			_ = deactivate(ctx, sess, inst)
			return nil, fmt.Errorf("sol: %w", err)
		}
	}
	st := newStream(sess, cfg, inst, min(maxChars, MaxChars))
	st.start()
	return st, nil
}

// maxReactivations bounds how often Activate deactivates and activates
// again after "payload already active" (IPMI v2.0 §24.1, completion code
// 0x80).
const maxReactivations = 8

// activate sends Activate Payload (IPMI v2.0 §24.1) and handles "payload
// already active". The active instance may be our own: a retried Activate
// whose earlier try succeeded but whose answer was lost is answered 0x80 by
// a BMC without a duplicate-request cache (ipmi_sim, docs/sol-behaviour.md), and
// that can happen again on the Activate after the recovery, any number of
// times. Our own instance is deactivated and activated afresh, which also
// gives the sizes and port the lost answer had, up to maxReactivations
// times. Another session's is taken over once (unless NoSteal): if it is
// active on another session again after that, two consoles are fighting
// over it, and that is ErrInUse.
func activate(ctx context.Context, sess *ipmi.Session, cfg Config, inst, aux byte) (ipmi.ActivatePayloadResponse, error) {
	resp, err := sess.ActivatePayload(ctx, ipmi.PayloadSOL, inst, aux)
	stolen := false
	for round := 0; isAlreadyActive(err); round++ {
		info, ierr := sess.PayloadInstanceInfo(ctx, ipmi.PayloadSOL, inst)
		owner := uint32(0)
		if ierr == nil {
			owner = info.SessionID
		}
		ours := ierr == nil && owner == sess.BMCSessionID()
		// Owner 0 is nobody: activating again takes it from no one.
		theirs := !ours && (ierr != nil || owner != 0)
		switch {
		case theirs && cfg.NoSteal, theirs && stolen:
			if owner != 0 {
				return resp, fmt.Errorf("sol: %w (BMC session 0x%08x)", ErrInUse, owner)
			}
			return resp, fmt.Errorf("sol: %w: %w", ErrInUse, err)
		case round >= maxReactivations:
			return resp, fmt.Errorf("sol: %w: still active after %d deactivations of our own instance: %w", ErrInUse, round, err)
		}
		stolen = stolen || theirs
		if derr := sess.DeactivatePayload(ctx, ipmi.PayloadSOL, inst); derr != nil {
			var ce *ipmi.CompletionError
			if !errors.As(derr, &ce) || ce.Code != 0x80 { // 0x80: already deactivated
				return resp, fmt.Errorf("sol: taking over the console: %w", derr)
			}
		}
		resp, err = sess.ActivatePayload(ctx, ipmi.PayloadSOL, inst, aux)
	}
	if err != nil {
		return resp, activationError(err)
	}
	return resp, nil
}

func isAlreadyActive(err error) bool {
	var ce *ipmi.CompletionError
	return errors.As(err, &ce) && ce.Code == ipmi.CCPayloadAlreadyActive
}

func activationError(err error) error {
	var ce *ipmi.CompletionError
	if !errors.As(err, &ce) {
		return fmt.Errorf("sol: activating: %w", err)
	}
	switch ce.Code {
	case ipmi.CCPayloadAlreadyActive:
		return fmt.Errorf("sol: %w: %w", ErrInUse, err)
	case ipmi.CCPayloadDisabled:
		return fmt.Errorf("sol: %w: %w", ErrDisabled, err)
	case ipmi.CCPayloadLimitReached:
		return fmt.Errorf("sol: %w: activation limit reached: %w", ErrInUse, err)
	case ipmi.CCCannotActivateEncrypt:
		return fmt.Errorf("sol: the BMC cannot encrypt SOL on this session (try another cipher suite): %w", err)
	case ipmi.CCCannotActivateNoEncrypt:
		return fmt.Errorf("sol: the BMC requires SOL encryption (use cipher suite 3 or 17): %w", err)
	case ipmi.CCInsufficientPriv:
		return fmt.Errorf("sol: %w: %w", ipmi.ErrPrivilege, err)
	}
	return fmt.Errorf("sol: activating: %w", err)
}

// Close deactivates the console, if the session still works, and closes the
// session. First it waits a bounded time (twice the session's request
// timeout) for input already written to be accepted, less if the input is
// stalled (InputStalled); the Deactivate Payload and Close Session that
// follow have bounds of their own, so Close returns within about three
// times that bound whatever the BMC does. A Write blocked on a full buffer
// returns ErrClosed. Close returns the stream's terminal error, if any came
// before, else ErrUndelivered if input was left that the BMC had not
// accepted.
func (st *Stream) Close() error {
	var prev error
	pending := 0
	st.closed.Do(func() {
		bound := 2 * st.sess.Config().Timeout
		if bound <= 0 {
			bound = 2 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		_ = st.drain(ctx, true)
		cancel()
		st.mu.Lock()
		prev = st.err
		pending = st.w.Queued()
		st.fail(ErrClosed, 0)
		st.mu.Unlock()
		st.sess.SetSOLHandler(nil)
		st.loopWG.Wait()
		if st.sess.Err() == nil && (prev == nil || !errors.Is(prev, ErrTakenOver)) {
			// Not when taken over: the console belongs to someone else now.
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			_ = deactivate(ctx, st.sess, st.inst)
			cancel()
		}
		st.sess.Close()
	})
	if prev != nil && !errors.Is(prev, ErrClosed) {
		return prev
	}
	if pending > 0 {
		return fmt.Errorf("sol: %w: the BMC did not accept the last %s", ErrUndelivered, nbytes(pending))
	}
	return nil
}

func deactivate(ctx context.Context, sess *ipmi.Session, inst byte) error {
	_, err := sess.Do(ctx, ipmi.NetFnApp, ipmi.CmdDeactivatePayload, ipmi.DeactivatePayloadRequest(ipmi.PayloadSOL, inst))
	return err
}
