// Package sol is the console side of IPMI 2.0 Serial-over-LAN on an RMCP+
// session from package ipmi.
//
// Layers:
//
//	packet.go   the 4-byte SOL header codec (IPMI v2.0 §15.9)
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
// The rules, from IPMI v2.0 §15.9 (the SOL payload) and the ways real peers
// lose data: one data packet in flight per direction, sequence numbers 1–15
// wrapping to 1; a retransmission keeps its sequence number and data; any
// ACK or NACK ends a sequence number, so unaccepted characters go first in
// the next packet under a new number; every BMC data packet is ACKed,
// duplicates too, and a retransmission that grew delivers only its new
// bytes; no more than 255 characters are taken from one packet, so what is
// delivered is exactly what the one-byte count acknowledges.
//
// Against BMCs that misbehave (docs/sol-behaviour.md has the figures): an
// answer that takes nothing (0 accepted, NACK) holds the next packet,
// a round trip doubling to 2 s, or until the BMC says it has room; input that waits 2 s with nothing accepted is
// reported once (InputStalled, then InputResumed); data unacknowledged for
// 1 s sends a keepalive at once, and two failed keepalives in a row or 20 s
// without an ACK end the stream; each session's input opens with a packet
// without characters, so a BMC that remembers the last sequence number of
// the session before (ipmi_sim) cannot take the first keystroke for a
// duplicate.
package sol
