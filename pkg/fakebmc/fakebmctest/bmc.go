package fakebmctest

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/memnet"
)

// BMC is a simulated BMC serving for one test. Its fields are set by New
// (Server and Link again by Restart) and are not to be changed.
type BMC struct {
	// Server is the simulated BMC: Addr, Chassis, SetInputStall, Stats,
	// Close (it is closed when the test ends; a test may close it sooner,
	// as a BMC that reboots).
	Server *fakebmc.Server
	// Addr is where consoles reach it: its memnet address ("bmc") or its
	// UDP host:port.
	Addr string
	// Events records the BMC's events as they happen.
	Events *Events
	// Host is the recording host behind the serial port, nil when
	// Config.SOL.Host named another.
	Host *Host
	// Link is the BMC's socket as seen through pkg/impair: SetSilent,
	// SetConfig, SetReadConfig (datagrams to the BMC), SetWriteConfig (from
	// it), Stats.
	Link *impair.Conn

	net     *memnet.Network // nil when serving on UDP
	opts    options
	cfg     fakebmc.Config // as served: host and OnEvent filled in
	current atomic.Pointer[fakebmc.Server]
}

// Option changes how New serves a BMC.
type Option func(*options)

type options struct {
	where   int // one of the where* constants
	udpAddr string
	pc      net.PacketConn
	net     *memnet.Network
	addr    string
	in, out impair.Config
	each    bool
	wrap    func(net.PacketConn) net.PacketConn
	noEcho  bool
}

const (
	whereMemory = iota // a memnet network of its own
	whereNetwork
	whereUDP
	wherePC
)

// UDP serves the BMC on UDP at addr ("" means a fresh port on 127.0.0.1;
// "127.0.0.1:9623" a fixed one, for a BMC restarted at the same address).
func UDP(addr string) Option {
	return func(o *options) { o.where, o.udpAddr = whereUDP, addr }
}

// PacketConn serves the BMC on pc, a socket the test opened itself (an
// IPv6 one, say); it is closed with the BMC. The BMC is dialed over UDP.
func PacketConn(pc net.PacketConn) Option {
	return func(o *options) { o.where, o.pc = wherePC, pc }
}

// Network serves the BMC on n at addr, so that several BMCs (and the
// program under test) share one in-memory network.
func Network(n *memnet.Network, addr string) Option {
	return func(o *options) { o.where, o.net, o.addr = whereNetwork, n, addr }
}

// Impair faults the datagrams the BMC receives and sends with cfg (pkg/impair),
// both ways from one generator seeded with cfg.Seed. BMC.Link changes the
// faults while the test runs.
func Impair(cfg impair.Config) Option {
	return func(o *options) { o.in, o.out, o.each = cfg, cfg, false }
}

// ImpairEach faults the datagrams the BMC receives (the consoles' requests
// and SOL packets) with in and those it sends with out, each direction from
// a generator of its own seeded with its Seed.
func ImpairEach(in, out impair.Config) Option {
	return func(o *options) { o.in, o.out, o.each = in, out, true }
}

// Tap puts wrap(socket) between the impairment and the socket: wrap sees
// the datagrams that are on the wire (it may count, record, drop or inject
// them).
func Tap(wrap func(net.PacketConn) net.PacketConn) Option {
	return func(o *options) { o.wrap = wrap }
}

// NoEcho makes the recording host keep console input without sending it
// back, so that all host output is what the test writes.
func NoEcho() Option {
	return func(o *options) { o.noEcho = true }
}

// Admin is the account every simulated BMC has unless Config.Users says
// otherwise: admin with password "password", at the administrator level.
func Admin() ipmi.Config {
	return ipmi.Config{Username: "admin", Password: []byte("password")}
}

// New starts a simulated BMC serving cfg, stopped when the test ends. It
// serves in memory, on a memnet network of its own at "bmc", unless an
// option says otherwise. It fails the test if it cannot listen.
//
// cfg.OnEvent, if set, is called after the event is recorded (it must not
// call the BMC's Events: the server lock is held). If cfg.SOL.Host is nil,
// the host is a recording Host (BMC.Host).
func New(t testing.TB, cfg fakebmc.Config, opts ...Option) *BMC {
	t.Helper()
	b := &BMC{Events: newEvents()}
	for _, opt := range opts {
		opt(&b.opts)
	}
	if cfg.SOL.Host == nil {
		b.Host = NewHost()
		b.Host.Echo = !b.opts.noEcho
		cfg.SOL.Host = b.Host
	}
	if then := cfg.OnEvent; then != nil {
		cfg.OnEvent = func(e fakebmc.Event) {
			b.Events.add(e)
			then(e)
		}
	} else {
		cfg.OnEvent = b.Events.add
	}
	b.cfg = cfg
	b.Events.barrier = func() { b.current.Load().Stats() }
	pc, err := b.listen()
	if err != nil {
		t.Fatalf("fakebmctest: %v", err)
		return nil
	}
	b.Addr = pc.LocalAddr().String()
	b.serve(t, pc)
	return b
}

// serve runs a new server on pc.
func (b *BMC) serve(t testing.TB, pc net.PacketConn) {
	o := &b.opts
	sock := pc
	if o.wrap != nil {
		sock = o.wrap(pc)
	}
	if o.each {
		b.Link = impair.WrapEach(sock, o.in, o.out)
	} else {
		b.Link = impair.Wrap(sock, o.in)
	}
	srv := fakebmc.New(b.cfg)
	b.Server = srv
	b.current.Store(srv)
	srv.Start(b.Link)
	t.Cleanup(func() { srv.Close() })
}

func (b *BMC) listen() (net.PacketConn, error) {
	o := &b.opts
	switch o.where {
	case whereUDP:
		addr := o.udpAddr
		if b.Addr != "" {
			addr = b.Addr // restarting: the port it had
		} else if addr == "" {
			addr = "127.0.0.1:0"
		}
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("listening on UDP %s: %w", addr, err)
		}
		return pc, nil
	case wherePC:
		return o.pc, nil
	case whereNetwork:
		b.net = o.net
		return o.net.Listen(o.addr)
	}
	if b.net == nil {
		b.net = &memnet.Network{}
	}
	return b.net.Listen("bmc")
}

// Restart reboots the BMC: it closes the server, so that every session is
// gone, and serves a new one with the same configuration at the same
// address, with the same host (the machine stays up while its BMC
// reboots), the same Events (they go on: a test counts activations across
// the reboot) and a new Link with the same faults from their seed. Server
// and Link are the new ones afterwards; a chassis of its own starts powered
// on, unless Config.Chassis named one. It fails the test if the address
// cannot be taken again.
func (b *BMC) Restart(t testing.TB) {
	t.Helper()
	if b.opts.where == wherePC {
		t.Fatalf("fakebmctest: the BMC at %s serves a conn of the test's (PacketConn): it cannot be restarted", b.Addr)
		return
	}
	b.Server.Close()
	pc, err := b.listen()
	if err != nil {
		t.Fatalf("fakebmctest: restarting: %v", err)
		return
	}
	b.serve(t, pc)
}

// NewRack starts n simulated BMCs serving cfg on one memnet network, at
// the addresses "bmc-1" … "bmc-n" (BMC.Network dials them), each stopped
// when the test ends. opts apply to every BMC; UDP("") puts each on a UDP
// port of its own instead.
//
// cfg is shared: leave cfg.SOL.Host nil for a recording Host each (a Host
// value given there serves them all, which suits a stateless one such as
// fakebmc.EchoHost), cfg.Chassis nil for a chassis each, and cfg.Rand nil
// (or safe for concurrent use).
func NewRack(t testing.TB, n int, cfg fakebmc.Config, opts ...Option) []*BMC {
	t.Helper()
	shared := &memnet.Network{}
	rack := make([]*BMC, n)
	for i := range rack {
		rack[i] = New(t, cfg, append([]Option{Network(shared, fmt.Sprintf("bmc-%d", i+1))}, opts...)...)
	}
	return rack
}

// Network is the in-memory network the BMC serves on, nil on UDP: the
// program under test dials the BMC's Addr there.
func (b *BMC) Network() *memnet.Network { return b.net }

// Transport returns a new transport to the BMC, for a test that sets up
// its own sessions (ipmi.NewSession); it is closed when the test ends.
func (b *BMC) Transport(t testing.TB) ipmi.Transport {
	t.Helper()
	tr, err := b.transport()
	if err != nil {
		t.Fatalf("fakebmctest: %v", err)
		return nil
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func (b *BMC) transport() (ipmi.Transport, error) {
	if b.net != nil {
		return b.net.Dial(b.Addr)
	}
	return ipmi.DialUDP("udp", b.Addr)
}

// DialTransport returns a new transport to the BMC, which its caller
// closes: the method value is a dial function to give the program under
// test (one that reconnects dials again), in memory or over UDP alike.
func (b *BMC) DialTransport(ctx context.Context) (ipmi.Transport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.transport()
}

// Dial sets up a session to the BMC with cfg and returns setup's error, for
// tests of setup and its failures. A session it returns is closed (Close
// Session) when the test ends, if the test has not closed it.
func (b *BMC) Dial(t testing.TB, cfg ipmi.Config) (*ipmi.Session, error) {
	t.Helper()
	tr, err := b.transport()
	if err != nil {
		return nil, err
	}
	s, err := ipmi.NewSession(context.Background(), tr, cfg) // closes tr on failure
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { s.Close() })
	return s, nil
}

// Session is Dial for a session that must come up: a setup failure fails
// the test.
func (b *BMC) Session(t testing.TB, cfg ipmi.Config) *ipmi.Session {
	t.Helper()
	s, err := b.Dial(t, cfg)
	if err != nil {
		t.Fatalf("fakebmctest: session to the BMC at %s: %v", b.Addr, err)
		return nil
	}
	return s
}
