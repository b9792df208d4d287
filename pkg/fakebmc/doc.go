// Package fakebmc is a simulated BMC: the BMC side of IPMI 2.0 RMCP+ and
// Serial-over-LAN, built on the codecs of package ipmi. New makes one and
// Serve runs it on any net.PacketConn: a UDP socket (Start listens on
// loopback), or a memnet endpoint under testing/synctest. Tests start one
// through package fakebmctest, which also records its events, gives it a
// recording host and dials sessions to it. Misbehaviours of the BMC are
// Config.Faults; those of the network (drop, duplicate, reorder, delay,
// corrupt, go silent) come from wrapping the PacketConn with package
// impair.
//
// One goroutine reads the socket and handles each datagram under the server
// lock; timers (SOL retransmission, accumulation) take the same lock. Power
// and boot hooks (Chassis.Hook) run on goroutines of their own, outside it,
// and answer their request when they end. Hosts run on their own goroutine
// and reach the BMC through a Line.
package fakebmc
