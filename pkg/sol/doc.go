// Package sol is the console side of IPMI 2.0 Serial-over-LAN on an RMCP+
// session from package ipmi.
//
// Layers:
//
//	packet.go   the 4-byte SOL header codec (protocol.md §6.1)
//	window.go   Window, a pure state machine for both directions: what is
//	            in flight, what to retransmit and when, what to deliver and
//	            what to ACK. Methods take the packet and now and return what
//	            to do; nothing in it does I/O.
//	stream.go   Stream, which drives a Window over a session: the session's
//	            reader goroutine hands it BMC packets, Write sends at once when
//	            nothing is in flight, and one goroutine runs the timers
//	            (retransmission, deferred ACKs, keepalive).
//	activate.go Activate Payload with takeover, and Close.
//
// The rules, from protocol.md §6 and the ways the peers lose data (§9):
// one data packet in flight per direction, sequence numbers 1–15 wrapping to
// 1; a retransmission keeps its sequence number and data; any ACK or NACK
// ends a sequence number, so unaccepted characters go first in the next
// packet under a new number; every BMC data packet is ACKed, duplicates too,
// and a retransmission that grew delivers only its new bytes.
package sol
