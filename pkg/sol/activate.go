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
	// Encryption and authentication as the session has them (protocol.md
	// §5.1); serial alerts and the handshake lines at the BMC's defaults.
	var aux byte
	if sess.CipherSuite().Conf != ipmi.ConfNone {
		aux |= 0x80
	}
	if sess.CipherSuite().Integrity != ipmi.IntegrityNone {
		aux |= 0x40
	}
	resp, err := sess.ActivatePayload(ctx, ipmi.PayloadSOL, inst, aux)
	var ce *ipmi.CompletionError
	if errors.As(err, &ce) && ce.Code == ipmi.CCPayloadAlreadyActive {
		resp, err = reactivate(ctx, sess, cfg, inst, aux)
	}
	if err != nil {
		return nil, activationError(err)
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

// reactivate handles "payload already active": the active instance may be
// our own (a retried Activate whose first answer was lost, protocol.md §10),
// or another session's, which is taken over unless NoSteal.
func reactivate(ctx context.Context, sess *ipmi.Session, cfg Config, inst, aux byte) (ipmi.ActivatePayloadResponse, error) {
	info, err := sess.PayloadInstanceInfo(ctx, ipmi.PayloadSOL, inst)
	ours := err == nil && info.SessionID == sess.BMCSessionID()
	if !ours && cfg.NoSteal {
		if err == nil && info.SessionID != 0 {
			return ipmi.ActivatePayloadResponse{}, fmt.Errorf("sol: %w (BMC session 0x%08x)", ErrInUse, info.SessionID)
		}
		return ipmi.ActivatePayloadResponse{}, fmt.Errorf("sol: %w", ErrInUse)
	}
	// Deactivate (ours or theirs) and activate afresh, which also gives us
	// the sizes and port the lost answer had.
	if err := sess.DeactivatePayload(ctx, ipmi.PayloadSOL, inst); err != nil {
		var ce *ipmi.CompletionError
		if !errors.As(err, &ce) || ce.Code != 0x80 {
			return ipmi.ActivatePayloadResponse{}, fmt.Errorf("sol: taking over the console: %w", err)
		}
	}
	return sess.ActivatePayload(ctx, ipmi.PayloadSOL, inst, aux)
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

// Close deactivates the console, if the session still works, waiting a
// bounded time for input already written to be accepted and for the BMC to
// answer, then closes the session. It returns the stream's terminal error,
// if any came before.
func (st *Stream) Close() error {
	var prev error
	st.closed.Do(func() {
		bound := 2 * st.sess.Config().Timeout
		if bound <= 0 {
			bound = 2 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		_ = st.Drain(ctx)
		st.mu.Lock()
		prev = st.err
		st.fail(ErrClosed, 0)
		st.mu.Unlock()
		st.sess.SetSOLHandler(nil)
		st.loopWG.Wait()
		if st.sess.Err() == nil && (prev == nil || !errors.Is(prev, ErrTakenOver)) {
			// Not when taken over: the console belongs to someone else now.
			_ = deactivate(ctx, st.sess, st.inst)
		}
		st.sess.Close()
	})
	if prev != nil && !errors.Is(prev, ErrClosed) {
		return prev
	}
	return nil
}

func deactivate(ctx context.Context, sess *ipmi.Session, inst byte) error {
	_, err := sess.Do(ctx, ipmi.NetFnApp, ipmi.CmdDeactivatePayload, ipmi.DeactivatePayloadRequest(ipmi.PayloadSOL, inst))
	return err
}
