// Package ipmi implements IPMI 2.0 RMCP+ ("lanplus") sessions: the wire
// codecs that both ends of the protocol share, and the console (client)
// side of a session with its chassis and boot commands.
//
// Most programs need only the session client: [Dial] a BMC, run commands
// through the [Session], Close it. pkg/sol runs a Serial-over-LAN console
// over a [Session], and pkg/console keeps one alive.
//
// # One package for both ends
//
// The simulated BMC (pkg/fakebmc) and the client share the message types,
// the codecs, the key exchange and the packet cipher, so they live in one
// package, as the client and server halves of golang.org/x/crypto/ssh do.
// Split into "wire" and "client", the client would need the wire package
// to export what only it and a BMC use (the handshake state, the
// sequence window, the session cipher) and the split would buy nothing:
// the codecs are already pure functions, table-tested and fuzzed on their
// own. That the two ends share the codecs means a codec bug could pass a
// test against itself; the interop checks against ipmitool, FreeIPMI and
// ipmi_sim (scripts/interop-*.sh) are what keep them honest.
//
// # Framing
//
// RMCP header (IPMI v2.0 §13.1.3): [ParseRMCPHeader], [AppendRMCPHeader]. ASF
// presence ping and pong (§13.2.3, §13.2.4): [ParseASF], [AppendASF].
// Session-less IPMI 1.5 frames (§13.6, Table 13-8), used before a session
// exists: [ParseV15], [AppendV15]. The RMCP+ session header (§13.6) and its
// payload types (§13.27.3): [Header], [ParseHeader], [AppendPlain], [PayloadType].
// The inbound sequence number window (§6.12.13): [SeqWindow], [NextSeq].
//
// A datagram in a session looks like this (§13.6, Table 13-8):
//
//	RMCP header (4) | 06 | payload type | session ID | seq | length |
//	payload area (IV ‖ AES-CBC ciphertext when encrypted) |
//	integrity pad (FF…) | pad length | 07 | auth code (12 or 16)
//
// # Messages and codecs
//
// IPMI messages inside the payload (§13.8): [Message], [ParseMessage],
// [AppendMessage], [NetFn], [CommandName]; addresses (§5.5) [AddrBMC] and
// [AddrConsole]. Requests are built and responses parsed by one function
// each: [AuthCapsRequest] and [ParseAuthCaps] (Get Channel Authentication
// Capabilities, §22.13), [CipherSuitesRequest], [ParseCipherSuiteRecords] and
// [AppendCipherSuiteRecords] (Get Channel Cipher Suites, §22.15),
// [ParseDeviceID] (Get Device ID, §20.1), [ActivatePayloadRequest] and
// [ParseActivatePayload] (§24.1), [DeactivatePayloadRequest] (§24.2),
// [ParsePayloadActivation] (§24.4), [ParsePayloadInstanceInfo] (§24.5).
//
// The codecs are pure functions of their inputs: randomness comes from an
// io.Reader supplied by the caller, so recorded transcripts replay exactly.
//
// # Session setup
//
// Open Session (§13.17, §13.18): [OpenSessionRequest], [OpenSessionResponse].
// RAKP messages 1 to 4 (§13.20 to §13.23) and their status codes (§13.24):
// [RAKP1] … [RAKP4], their parsers, [Handshake] (what both ends have seen) and
// the codes they carry, [RAKP2Code], [RAKP3Code], [RAKP4ICV] (§13.31). [Keys]:
// [DeriveKeys] and [DeriveKeysFromSIK] make SIK, K1 and K2 (§13.31, §13.32)
// from the password and the BMC key K_g ([KgSet]). Algorithms and suites:
// [AuthAlg], [IntegrityAlg], [ConfAlg] (§13.28), [CipherSuite], [LookupCipherSuite],
// [SuiteForAlgorithms], [SupportedCipherSuites] (§22.15.2, Table 22-19).
// Packet protection, integrity (§13.28.4) and AES-CBC-128 (§13.29):
// [SessionCipher]. Privilege levels (§6.8): [Privilege], [ParsePrivilege].
// [DescribeSetup] and [TraceEvent] name setup messages for a protocol trace,
// without key-exchange codes or randoms.
//
// # Session client
//
// [Dial] resolves a BMC ([BMCAddress], [HostPort]) and sets a session up over
// UDP; [NewSession] does it over any [Transport] ([DialUDP], or an in-memory
// pkg/memnet endpoint in tests). [Config] holds the credentials, the cipher
// suites offered, the privilege, timeouts and retries. The [Session] is safe
// for concurrent use: exactly one goroutine reads the transport and hands
// each response to the request waiting for it ([Session.Do], retransmitted
// on timeout) and SOL payloads to the handler ([Session.SetSOLHandler],
// [Session.SendSOL], [Session.SetSOLPort]). [Session.Close] sends Close
// Session (§22.19); [Session.Done] and [Session.Err] say when and why a
// session ended; [Stats] counts packets.
//
// # Chassis and boot commands
//
// [Session.ChassisStatus] (Get Chassis Status, §28.2: [ChassisStatus]),
// [Session.ChassisControl] (Chassis Control, §28.3: [ChassisAction],
// [ParseChassisAction]), [Session.SetBootFlags] and [Session.BootFlags] (Set and
// Get System Boot Options, §28.12, §28.13, boot flags parameter 5:
// [BootFlags], [BootDevice], [ParseBootDevice]), [Session.GetDeviceID] (§20.1).
// pkg/command offers them by name (power, bootdev, info).
//
// # Errors
//
// Errors wrap sentinels for the conditions callers branch on (errors.Is):
// [ErrAuth], [ErrKg], [ErrPrivilege], [ErrNoCipherSuite], [ErrNoResponse],
// [ErrSetupFailed], [ErrPayloadEncryption], [ErrNotIPMI2], [ErrClosed],
// [ErrSessionLost], [ErrIntegrity], [ErrMalformed]. Typed errors carry the
// details (errors.As): *CompletionError, a command's completion code
// (§5.2, Table 5-2, and the command's own codes); *StatusError, an RMCP+
// status code of setup (§13.24); *SetupError, the step of setup that
// failed; *TimeoutError, a request that got no answer.
//
// # Files
//
//	framing     rmcp.go, message.go        RMCP header, ASF ping, IPMI 1.5
//	                                       frames, IPMI messages
//	setup       rakp.go, keys.go, suite.go Open Session, RAKP 1-4, key
//	                                       derivation, cipher suites
//	protection  cipher.go, window.go       integrity, AES-CBC-128, the
//	                                       inbound sequence window
//	commands    commands.go, completion.go typed requests and responses,
//	                                       completion codes
//	session     session.go, setup.go,      the client: one reader goroutine
//	            transport.go, client.go    that demultiplexes responses and
//	                                       SOL payloads; chassis and boot
//	errors      errors.go                  sentinel and typed errors
package ipmi
