// Package fakebmctest starts simulated BMCs (package fakebmc) for tests, in
// the manner of net/http/httptest: one call starts one, its cleanup is
// registered with the test, and what a test observes or controls is at hand.
//
//	func TestPowerCycle(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			b := fakebmctest.New(t, fakebmc.Config{})
//			s := b.Session(t, fakebmctest.Admin())
//			if err := s.ChassisControl(context.Background(), ipmi.PowerCycle); err != nil {
//				t.Fatal(err)
//			}
//			b.Events.WaitFor(t, time.Second, fakebmc.EventChassisControl)
//		})
//	}
//
// Where it serves: on an in-memory network of its own (pkg/memnet) unless
// an option says otherwise, so that it runs inside testing/synctest with
// fake time; on a shared in-memory network (Network, NewRack); or on UDP
// (UDP, PacketConn), for a program under test in another process. Either
// way consoles speak real RMCP+ to it, the bytes a BMC on the wire would
// get.
//
// What a test controls and observes on a BMC:
//
//   - Misbehaviours of the BMC itself are fakebmc.Config's: Faults (lost
//     setup answers, stalled input, status bits, ...) and the SOL settings
//     that mimic real BMCs.
//   - Misbehaviours of the network are pkg/impair's: the BMC's socket always
//     passes through an impair.Conn (BMC.Link), clean unless Impair or
//     ImpairEach say otherwise, so a test can also make it go silent or
//     lossy while it runs.
//   - The host: unless Config.SOL.Host names one, the BMC's serial port is a
//     recording Host (BMC.Host) that keeps the console input it receives,
//     counts BREAKs, echoes (as the BMC's default host does; NoEcho turns
//     that off) and writes what the test gives it as host output.
//   - Events: every fakebmc.Event is recorded (BMC.Events), with counts,
//     times and waits for a kind, a number of them or a request.
//
// Waiting: every wait here is woken by what it waits for, never by polling,
// and bounded by a duration, which is fake time under synctest (a wait
// given no bound ends only when its condition holds: under synctest, a
// condition that never comes then shows as a deadlock). A BMC made inside
// a synctest bubble belongs to that bubble.
//
// Dialing: Session gives an *ipmi.Session to the BMC with any credentials
// and suites, Dial the same with setup's error for tests of setup
// failures, Transport a bare ipmi.Transport for tests that set up sessions
// themselves; each is closed when the test ends. DialTransport is a dial
// function for a program under test that dials (and redials) by itself.
package fakebmctest
