package fakebmc

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
)

// Rack runs many simulated BMCs in one process, each a Server on a UDP
// socket of its own, known by name. An idle BMC costs no CPU: its socket's
// reader and its host are parked goroutines, and its timers (SOL
// retransmission and accumulation, session expiry on the next packet) are
// armed only while a console is attached. Add, Remove and Replace change
// the rack while it serves; the other BMCs and their sessions are not
// touched.
type Rack struct {
	mu      sync.Mutex
	members map[string]*RackMember
	order   []string // names in the order added
	closed  bool
}

// RackBMC describes one BMC for Rack.Add.
type RackBMC struct {
	// Name identifies the BMC in the rack.
	Name string
	// Listen is the UDP address to serve on ("127.0.0.1:0" for any port).
	Listen string
	// Config is the BMC's configuration; its Chassis and SOL.Host must be
	// its own (nil Chassis makes one).
	Config Config
	// Wrap, if set, wraps the socket (fault injection: package impair).
	Wrap func(net.PacketConn) net.PacketConn
	// Info is free text kept with the member for listings (the CLI keeps
	// the provider's name there).
	Info string
}

// RackMember is a BMC of a rack.
type RackMember struct {
	Name   string
	Info   string
	Server *Server
}

// Addr is where the member serves.
func (m *RackMember) Addr() string { return m.Server.Addr() }

// Errors of Rack methods, for callers that branch on them.
var (
	ErrRackClosed = errors.New("fakebmc: rack closed")
	ErrNoSuchBMC  = errors.New("fakebmc: no such BMC in the rack")
	ErrDuplicate  = errors.New("fakebmc: a BMC of that name is in the rack")
)

// NewRack returns an empty rack.
func NewRack() *Rack { return &Rack{members: map[string]*RackMember{}} }

// Add listens on b.Listen and serves b there. A name already in the rack
// is ErrDuplicate; an address that cannot be listened on is an error
// naming the BMC.
func (r *Rack) Add(b RackBMC) (*RackMember, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrRackClosed
	}
	if r.members[b.Name] != nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrDuplicate, b.Name)
	}
	// Reserve the name while listening without the lock.
	r.members[b.Name] = nil
	r.mu.Unlock()
	m, err := startMember(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || r.closed {
		delete(r.members, b.Name)
		if err == nil {
			m.Server.Close()
			err = ErrRackClosed
		}
		return nil, err
	}
	r.members[b.Name] = m
	r.order = append(r.order, b.Name)
	return m, nil
}

func startMember(b RackBMC) (*RackMember, error) {
	pc, err := net.ListenPacket("udp", b.Listen)
	if err != nil {
		return nil, fmt.Errorf("fakebmc: BMC %q: %w", b.Name, err)
	}
	var conn net.PacketConn = pc
	if b.Wrap != nil {
		conn = b.Wrap(pc)
	}
	s := New(b.Config)
	s.Start(conn)
	return &RackMember{Name: b.Name, Info: b.Info, Server: s}, nil
}

// Remove stops the BMC called name and closes its sessions.
func (r *Rack) Remove(name string) error {
	r.mu.Lock()
	m := r.members[name]
	if m == nil {
		r.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNoSuchBMC, name)
	}
	delete(r.members, name)
	r.order = slices.DeleteFunc(r.order, func(n string) bool { return n == name })
	r.mu.Unlock()
	return m.Server.Close()
}

// Replace stops the BMC of b's name (if any) and serves b in its place,
// at its position in the listing: its sessions end, the others' do not.
func (r *Rack) Replace(b RackBMC) (*RackMember, error) {
	r.mu.Lock()
	old := r.members[b.Name]
	pos := slices.Index(r.order, b.Name)
	if old != nil {
		delete(r.members, b.Name)
		r.order = slices.Delete(r.order, pos, pos+1)
	}
	r.mu.Unlock()
	if old != nil {
		old.Server.Close() // frees its address for b
	}
	m, err := r.Add(b)
	if err != nil || pos < 0 {
		return m, err
	}
	r.mu.Lock()
	if i := slices.Index(r.order, b.Name); i >= 0 && pos < len(r.order) {
		r.order = slices.Insert(slices.Delete(r.order, i, i+1), pos, b.Name)
	}
	r.mu.Unlock()
	return m, nil
}

// Get returns the member called name, or nil.
func (r *Rack) Get(name string) *RackMember {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.members[name]
}

// Members returns the rack's BMCs in the order they were added.
func (r *Rack) Members() []*RackMember {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*RackMember, 0, len(r.order))
	for _, n := range r.order {
		if m := r.members[n]; m != nil {
			out = append(out, m)
		}
	}
	return out
}

// Len is the number of BMCs serving.
func (r *Rack) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.order)
}

// Close stops every BMC (in parallel: a rack of a thousand closes in the
// time of the slowest) and refuses further Adds.
func (r *Rack) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	ms := make([]*RackMember, 0, len(r.members))
	for _, m := range r.members {
		if m != nil {
			ms = append(ms, m)
		}
	}
	r.members, r.order = map[string]*RackMember{}, nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() { m.Server.Close() })
	}
	wg.Wait()
	return nil
}
