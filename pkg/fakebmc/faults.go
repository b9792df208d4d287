package fakebmc

import "time"

// Faults are misbehaviours of real or broken BMCs, called up by tests (and by
// cmd/fakebmc for experiments) so that a console can be tried against each.
// The zero value is a well-behaved BMC. Datagram-level faults (loss,
// duplication, reordering, corruption) are pkg/impair's job; these are
// protocol-level ones.
type Faults struct {
	// ---------------------------------------------------------------
	// SOL: how console input is acknowledged and how output is sent.
	// ---------------------------------------------------------------

	// ---------------------------------------------------------------
	// Session setup and IPMI requests.
	// ---------------------------------------------------------------

	// ---------------------------------------------------------------
	// SOL status bits.
	// ---------------------------------------------------------------

	// FlapHostPower reports "character transfer unavailable" (IPMI v2.0
	// §15.9, SOL payload byte 4 bit 5) on every other SOL packet the BMC
	// sends, as if the host lost and regained power each time.
	FlapHostPower bool
	// BreakEveryPacket sets "break detected" (bit 2) on every SOL packet.
	BreakEveryPacket bool
	// OverrunEveryPacket sets "transmit overrun" (bit 3) on every SOL packet.
	OverrunEveryPacket bool
	// DeactivateAfter, when positive, ends every activation that long after
	// it began, telling its console with the "SOL deactivating" bit (bit 4):
	// a console that dies as soon as it is up.
	DeactivateAfter time.Duration

	// ---------------------------------------------------------------
	// Hosts and power/boot hooks.
	// ---------------------------------------------------------------
	// ChassisDelay makes Chassis Control and boot flag writes (boot option
	// parameter 5) take this long before they take effect and are answered,
	// as on BMCs that answer a power command only once the power state has
	// changed. It runs like a hook (Chassis.Hook): without the server lock,
	// bounded by Chassis.HookTimeout, other changes meanwhile answered 0xC0
	// (node busy), a retransmission not run twice.
	ChassisDelay time.Duration

	// ---------------------------------------------------------------
	// Requests left unanswered (one-shot commands, signals).
	// ---------------------------------------------------------------

	// Unanswered names in-session IPMI commands, as ipmi.CommandName gives
	// them (e.g. "Get Chassis Status"), that the BMC receives, reports as a
	// "request" event, and never answers, however often they are resent: the
	// console's request stays in flight until it gives up. Other commands,
	// Close Session among them, are answered as usual.
	Unanswered []string
}

// unanswered reports whether the command named name is to go unanswered.
func (f *Faults) unanswered(name string) bool {
	for _, n := range f.Unanswered {
		if n == name {
			return true
		}
	}
	return false

}
