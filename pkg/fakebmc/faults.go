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
}
