package fakebmc

import (
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The "SOL status bits" faults (Faults) and SOL configuration parameters.

// statusFaults is the state those faults keep; guarded by Server.mu.
type statusFaults struct {
	flapped     bool   // the last packet said the host is unavailable
	activations uint64 // counts activations, so a late timer knows its own
}

// faultyStatus applies the status-bit faults to the operation/status byte of
// a packet about to be sent; s.mu held.
func (p *solPort) faultyStatus(st byte) byte {
	f := &p.s.cfg.Faults
	if f.FlapHostPower {
		p.faults.flapped = !p.faults.flapped
		if p.faults.flapped {
			st |= solUnavailable
		} else {
			st &^= solUnavailable
		}
	}
	if f.BreakEveryPacket {
		st |= solBreakSeen
	}
	if f.OverrunEveryPacket {
		st |= solOverrun
	}
	return st
}

// armDeactivateFault ends this activation after Faults.DeactivateAfter, as
// a deactivation by another session would; s.mu held.
func (p *solPort) armDeactivateFault(ss *session) {
	p.faults.activations++
	d := p.s.cfg.Faults.DeactivateAfter
	if d <= 0 {
		return
	}
	gen := p.faults.activations
	time.AfterFunc(d, func() {
		p.s.mu.Lock()
		defer p.s.mu.Unlock()
		if p.closed || p.s.closed || p.owner != ss || p.faults.activations != gen {
			return
		}
		p.release()
		p.s.event(EventDeactivate, ss.bmcID, "fault: DeactivateAfter")
		ss.sol.takenAway = true
		p.sendStatus(ss, solDeactivating)
	})
}

// cmdGetSOLConfig is Get SOL Configuration Parameters (NetFn Transport,
// IPMI v2.0 §26.3).
const cmdGetSOLConfig = 0x22

// getConfig answers Get SOL Configuration Parameters for parameter 4, SOL
// Retry (IPMI v2.0 table 26-5: byte 1 bits 2:0 retry count, byte 2 retry
// interval in 10 ms units), from the BMC's own retransmission settings;
// other parameters are "not supported" (0x80), as on ipmi_sim. s.mu held.
func (p *solPort) getConfig(d []byte) []byte {
	const revision = 0x11
	if len(d) < 4 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	if d[0]&0x80 != 0 {
		return []byte{0, revision} // parameter revision only
	}
	if d[1] != 4 {
		return cc(0x80)
	}
	// RetryCount 0 retries until the session ends: the most the field can
	// say is 7.
	count := p.cfg.RetryCount
	if count <= 0 || count > 7 {
		count = 7
	}
	iv := min(max(p.cfg.RetryInterval/(10*time.Millisecond), 1), 255)
	return []byte{0, revision, byte(count), byte(iv)}
}
