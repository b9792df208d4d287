package fakebmc

import (
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

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

	// LoseRequests ignores the listed arrivals of setup requests, as if
	// they were lost on the way to the BMC.
	LoseRequests []Loss
	// LoseReplies handles the listed arrivals of setup requests but loses
	// the answer, as if it were lost on the way back: {ReqRAKP3, 1} loses
	// the first RAKP 4, after which the BMC has the session up.
	LoseReplies []Loss
	// RAKP3Retry is how a retransmitted RAKP 3 is answered once the
	// session is up (after a lost RAKP 4).
	RAKP3Retry RAKP3Retry
	// NewSessionPerOpen opens a new session for every Open Session Request,
	// retransmissions included, as ipmi_sim does (it keeps no answers).
	NewSessionPerOpen bool
	// Malform breaks the answers to one kind of setup request: Open Session
	// (the Open Session Response), RAKP 1 (RAKP 2), RAKP 3 (RAKP 4), or Get
	// Channel Authentication Capabilities (Length only: its response data).
	Malform map[SetupRequest]Malformation
	// RefuseSetPrivilege, if non-zero, answers Set Session Privilege Level
	// with this completion code (0x80 and 0x81 are its refusals, IPMI v2.0
	// §22.18), leaving the session up.
	RefuseSetPrivilege ipmi.CompletionCode

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

// SetupRequest names a kind of request of session setup, for Faults.
type SetupRequest int

// Setup requests, in the order a console sends them.
const (
	ReqAuthCaps     SetupRequest = iota + 1 // Get Channel Authentication Capabilities, outside a session
	ReqCipherSuites                         // Get Channel Cipher Suites, outside a session
	ReqOpenSession                          // Open Session Request
	ReqRAKP1                                // RAKP 1 (answered with RAKP 2)
	ReqRAKP3                                // RAKP 3 (answered with RAKP 4)
	ReqSetPrivilege                         // Set Session Privilege Level, in the session
)

var setupRequestNames = map[SetupRequest]string{
	ReqAuthCaps: "Get Channel Authentication Capabilities", ReqCipherSuites: "Get Channel Cipher Suites",
	ReqOpenSession: "Open Session", ReqRAKP1: "RAKP 1", ReqRAKP3: "RAKP 3", ReqSetPrivilege: "Set Session Privilege Level",
}

func (r SetupRequest) String() string {
	if n, ok := setupRequestNames[r]; ok {
		return n
	}
	return "setup request ?"
}

// Loss picks one arrival of a kind of setup request: N = 1 is the first the
// server receives, retransmissions included.
type Loss struct {
	Request SetupRequest
	N       int
}

// RAKP3Retry is how a BMC answers a RAKP 3 that repeats one it has already
// answered (the console did not get the RAKP 4).
type RAKP3Retry int

// RAKP 3 retransmission behaviours.
const (
	// RAKP3RetryRepeat sends the same RAKP 4 again.
	RAKP3RetryRepeat RAKP3Retry = iota
	// RAKP3RetryInSession sends the RAKP 4 inside the session, authenticated
	// and encrypted under the new keys with the session's next sequence
	// number, as ipmi_sim does: once a session is up, every answer it sends
	// in that session's name is protected.
	RAKP3RetryInSession
	// RAKP3RetryIgnore does not answer: the session is up, and setup
	// messages for it are ignored.
	RAKP3RetryIgnore
	// RAKP3RetryRekey derives the session integrity key again on top of the
	// first (the new key appended to the old, as OpenBMC's netipmid does):
	// the RAKP 4 it sends carries an integrity check value made with that
	// key, and the session's keys change with it, so the session is lost
	// to the console.
	RAKP3RetryRekey
)

// Malformation is how an answer to a setup request is broken; set fields
// combine.
type Malformation struct {
	// Length, if positive, cuts the answer's payload to this many bytes.
	Length int
	// WrongTag answers with the request's message tag plus 0x80, a tag the
	// console has not sent.
	WrongTag bool
	// WrongConsoleID answers for another remote console session ID.
	WrongConsoleID bool
	// ZeroBMCID gives 0 as the managed system session ID (Open Session).
	ZeroBMCID bool
	// Seq, if non-zero, is put in the session header's sequence number,
	// which must be 0 outside a session.
	Seq uint32
	// As, if non-zero, sends the answer under this payload type instead: an
	// answer out of sequence (RAKP 4 for RAKP 1, say).
	As ipmi.PayloadType
}

func (r RAKP3Retry) String() string {
	switch r {
	case RAKP3RetryRepeat:
		return "repeat RAKP 4"
	case RAKP3RetryInSession:
		return "RAKP 4 inside the session"
	case RAKP3RetryIgnore:
		return "ignore"
	case RAKP3RetryRekey:
		return "rekey"
	}
	return "RAKP3Retry ?"
}
