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

	// InputStall makes the BMC stop taking console input in one of the ways
	// a full or wedged BMC does (InputAcceptNone, InputNackAll,
	// InputNoAck); zero takes input normally. Server.SetInputStall changes
	// it while the server runs.
	InputStall InputStall
	// OversizeOutput, when above 255, is how many host characters one SOL
	// packet to the console carries, more than the one-byte accepted count
	// can acknowledge (a BMC that ignores the limit). The unaccepted rest of
	// a partly acknowledged packet is resent under the next sequence number,
	// as after any partial ACK.
	OversizeOutput int
	// StaleInputSeq keeps the sequence number and accepted count of the last
	// console packet across activations, as ipmi_sim does: a new console
	// whose first packet carries that number is answered as a duplicate and
	// its characters are dropped.
	StaleInputSeq bool
	// IgnoreEmptyInput neither answers nor remembers a numbered console
	// packet without characters, unless it repeats the remembered number (then
	// it is ACKed as a duplicate), as OpenIPMI's ipmi_sim did before 2.0.33.
	IgnoreEmptyInput bool
	// LoseActivateAnswers drops the answers to the first N Activate Payload
	// requests that activate the console (the activation happens; the console
	// never hears of it; the BMC reports an "answer-lost" Event). A dropped
	// answer is not kept for a retransmission, which therefore meets
	// "payload already active", as on ipmi_sim.
	LoseActivateAnswers int
	// ActivateNotCached executes every Activate Payload request afresh,
	// retransmissions included, instead of answering a retransmission from
	// the duplicate-request cache: after a lost answer the retry meets
	// "payload already active" (0x80), as on ipmi_sim.
	ActivateNotCached bool

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
