// Package fakebmc is a simulated BMC: the BMC side of IPMI 2.0 RMCP+ and
// Serial-over-LAN, built on the codecs of package ipmi. Tests start one in a
// line (Start, in the manner of net/http/httptest) over UDP loopback, or
// Serve it on any net.PacketConn such as a memnet endpoint under
// testing/synctest. Faults (drop, duplicate, reorder, delay, corrupt, go
// silent) come from wrapping the PacketConn with package impair.
//
// One goroutine reads the socket and handles each datagram under the server
// lock; timers (SOL retransmission, accumulation) take the same lock. Power
// and boot hooks (Chassis.Hook) run on goroutines of their own, outside it,
// and answer their request when they end. Hosts run on their own goroutine
// and reach the BMC through a Line.
package fakebmc
