// Package ipmi implements the console side of IPMI 2.0 RMCP+ ("lanplus")
// sessions and the wire codecs that both sides of the protocol share.
//
// The package is layered; each layer only uses the ones above it:
//
//	framing     rmcp.go, message.go       RMCP header, ASF ping, IPMI 1.5
//	                                      session-less frames, IPMI messages
//	setup       rakp.go, keys.go, suite.go Open Session, RAKP 1-4, key
//	                                      derivation, cipher suites
//	protection  cipher.go, window.go      per-packet integrity and AES-CBC-128
//	                                      confidentiality, inbound sequence window
//	commands    commands.go, completion.go typed requests and responses,
//	                                      completion codes
//	session     session.go, setup.go,     the client: one reader goroutine that
//	            transport.go              demultiplexes responses and SOL payloads
//
// A datagram in a session looks like this (IPMI v2.0 §13.6, Table 13-8):
//
//	RMCP header (4) | 06 | payload type | session ID | seq | length |
//	payload area (IV ‖ AES-CBC ciphertext when encrypted) |
//	integrity pad (FF…) | pad length | 07 | auth code (12 or 16)
//
// The codecs are pure functions of their inputs: randomness comes from an
// io.Reader supplied by the caller, so recorded transcripts replay exactly.
package ipmi
