package fakebmc

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

	// ---------------------------------------------------------------
	// Hosts and power/boot hooks.
	// ---------------------------------------------------------------
}
