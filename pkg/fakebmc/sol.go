package fakebmc

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// SOLConfig configures Serial-over-LAN on the simulated BMC. Zero values
// pick defaults that keep every byte; the other settings reproduce the
// behaviour of real BMCs (docs/sol-behaviour.md).
type SOLConfig struct {
	// Host is the host side of the serial line; nil means a host that echoes.
	Host Host
	// Disabled makes Activate Payload fail with 0x81.
	Disabled bool
	// ForceEncryption refuses activation without the encryption bit (0x84).
	ForceEncryption bool
	// InboundSize is the largest SOL payload (header + characters) the console
	// may send, reported in the activation response; default 259.
	InboundSize uint16
	// OutboundSize is the largest SOL payload the BMC sends; default 259.
	OutboundSize uint16
	// ReportInbound and ReportOutbound, when non-zero, are reported instead
	// of the real sizes (to test consoles against BMCs that report nonsense).
	ReportInbound, ReportOutbound uint16
	// ReportPort, when non-zero, is reported as the SOL port.
	ReportPort uint16
	// InboundBuffer is how many console characters wait for the host at most
	// (ipmi_sim: 32); a packet that does not fit is partly accepted. Default
	// 4096.
	InboundBuffer int
	// NackWhenFull sets NACK on an ACK that leaves the inbound buffer full,
	// as ipmi_sim does.
	NackWhenFull bool
	// OutputBuffer bounds host output waiting for the console; a host writing
	// faster blocks. Default 64 KiB.
	OutputBuffer int
	// AccumulateInterval is the character accumulate interval: host output
	// waits this long for more before it is sent; default 5 ms.
	AccumulateInterval time.Duration
	// SendThreshold sends at once when this many characters wait; default 128.
	SendThreshold int
	// RetryInterval between retransmissions of unacknowledged output; default 500 ms.
	RetryInterval time.Duration
	// RetryCount, when positive, discards a packet's data after that many
	// retransmissions (as real BMCs do); 0 retries until the session ends.
	RetryCount int
	// SilentDeactivate ends a console taken by another session without
	// telling it (no deactivating bit), as ipmi_sim does.
	SilentDeactivate bool
	// AppendOnRetransmit lets a retransmission carry output that arrived
	// since the first copy (ipmi_sim does).
	AppendOnRetransmit bool
}

func (c *SOLConfig) defaults() {
	if c.Host == nil {
		c.Host = EchoHost{}
	}
	if c.InboundSize == 0 {
		c.InboundSize = 259
	}
	if c.OutboundSize == 0 {
		c.OutboundSize = 259
	}
	if c.InboundBuffer <= 0 {
		c.InboundBuffer = 4096
	}
	if c.OutputBuffer <= 0 {
		c.OutputBuffer = 64 << 10
	}
	if c.AccumulateInterval <= 0 {
		c.AccumulateInterval = 5 * time.Millisecond
	}
	if c.SendThreshold <= 0 {
		c.SendThreshold = 128
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 500 * time.Millisecond
	}
}

// InputStall is a way for the BMC to stop taking console input (Faults).
type InputStall int

// Ways to stop taking console input.
const (
	InputTaken InputStall = iota // console input is taken normally
	// InputAcceptNone answers every numbered console packet with an ACK
	// that accepts no characters, NACK clear: a buffer that never drains.
	InputAcceptNone
	// InputNackAll NACKs every numbered console packet, accepting nothing.
	InputNackAll
	// InputNoAck never answers a numbered console packet (host output and
	// IPMI requests are still served).
	InputNoAck
)

// SetInputStall changes Faults.InputStall while the server runs.
func (s *Server) SetInputStall(m InputStall) {
	s.mu.Lock()
	s.sol.stall = m
	s.mu.Unlock()
}

// SOL payload bits (IPMI v2.0 §15.9).
const (
	solNack         = 0x40
	solUnavailable  = 0x20 // BMC→console: character transfer unavailable
	solDeactivating = 0x10 // BMC→console
	solOverrun      = 0x08
	solBreakSeen    = 0x04
	solGenBreak     = 0x10 // console→BMC
	solFlushIn      = 0x02
	solFlushOut     = 0x01
)

// solSession is the per-session SOL state: only whether the session lost
// the console, so its next packet is told.
type solSession struct {
	takenAway bool
}

func (x *solSession) stop() {}

// solPort is the BMC's one SOL instance (instance 1). Everything is guarded
// by Server.mu; cond wakes a host blocked on a full buffer or an empty one.
type solPort struct {
	s    *Server
	cfg  SOLConfig
	line *Line
	cond *sync.Cond

	owner    *session
	outBuf   []byte // host output not yet acknowledged; the first inflight bytes are in flight
	inflight int
	outSeq   byte // sequence of the packet in flight, 0 = none
	lastSeq  byte
	retries  int
	nacked   bool
	retryT   *timer // retransmission of the packet in flight
	accumT   *timer // character accumulate interval
	overrun  bool
	breakOut bool // host sent a break; report it once

	inBuf      []byte // console input waiting for the host
	lastInSeq  byte
	lastInAcc  byte
	closed     bool
	faults     statusFaults // state of the "SOL status bits" faults
	stall      InputStall   // Faults.InputStall, changeable
	lostActs   int          // activation answers still to lose (Faults)
	hostCancel func()
	hostDone   chan struct{}
	pbuf       []byte
}

func newSOLPort(s *Server, cfg SOLConfig) *solPort {
	cfg.defaults()
	p := &solPort{s: s, cfg: cfg, cond: sync.NewCond(&s.mu), hostDone: make(chan struct{}),
		stall: s.cfg.Faults.InputStall, lostActs: s.cfg.Faults.LoseActivateAnswers}
	p.retryT = newTimer(s, func() bool { return p.closed }, p.retransmit)
	p.accumT = newTimer(s, func() bool { return p.closed }, p.flush)
	p.line = &Line{p: p, breaks: make(chan struct{}, 16)}
	done := make(chan struct{})
	p.hostCancel = func() { close(done) }
	go func() {
		defer close(p.hostDone)
		cfg.Host.Run(p.line, done)
	}()
	return p
}

func (p *solPort) close() {
	p.s.mu.Lock()
	if p.closed {
		p.s.mu.Unlock()
		return
	}
	p.closed = true
	p.stopTimers()
	p.cond.Broadcast()
	p.s.mu.Unlock()
	p.hostCancel()
	<-p.hostDone
}

func (p *solPort) stopTimers() {
	p.retryT.stop()
	p.accumT.stop()
}

// timer is a reusable timer whose function runs with the server lock held,
// and only if it is still armed and due: a firing that raced with a stop or
// a re-arm is ignored. Reusing one timer keeps the per-packet path free of
// allocations.
type timer struct {
	s      *Server
	t      *time.Timer
	armed  bool
	due    time.Time
	closed func() bool
	fn     func()
}

func newTimer(s *Server, closed func() bool, fn func()) *timer {
	x := &timer{s: s, closed: closed, fn: fn}
	x.t = time.AfterFunc(time.Hour, x.fire)
	x.t.Stop()
	return x
}

// arm (re)starts the timer; s.mu held.
func (x *timer) arm(d time.Duration) {
	x.armed, x.due = true, time.Now().Add(d)
	x.t.Reset(d)
}

// stop disarms it; s.mu held.
func (x *timer) stop() {
	x.armed = false
	x.t.Stop()
}

func (x *timer) fire() {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if !x.armed || x.closed() || x.s.closed || time.Now().Before(x.due) {
		return
	}
	x.armed = false
	x.fn()
}

func (p *solPort) port() uint16 {
	if p.cfg.ReportPort != 0 {
		return p.cfg.ReportPort
	}
	if u, ok := p.s.pc.LocalAddr().(*net.UDPAddr); ok {
		return uint16(u.Port)
	}
	return ipmi.DefaultPort
}

func (p *solPort) activate(ss *session, d []byte) []byte {
	if len(d) < 6 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	if ipmi.PayloadType(d[0]&0x3F) != ipmi.PayloadSOL {
		return cc(ipmi.CCPayloadDisabled)
	}
	if d[1]&0x0F != 1 {
		return cc(ipmi.CCInvalidDataField)
	}
	if p.cfg.Disabled {
		return cc(ipmi.CCPayloadDisabled)
	}
	aux := d[2]
	if aux&0x80 != 0 && ss.suite.Conf == ipmi.ConfNone {
		return cc(ipmi.CCCannotActivateEncrypt)
	}
	if aux&0x80 == 0 && p.cfg.ForceEncryption {
		return cc(ipmi.CCCannotActivateNoEncrypt)
	}
	if p.owner != nil {
		return cc(ipmi.CCPayloadAlreadyActive)
	}
	p.owner = ss
	if ss.sol == nil {
		ss.sol = &solSession{}
	}
	ss.sol.takenAway = false
	// A new activation starts both directions afresh (ipmi_sim does not, and
	// swallows the next console's first keystroke unless the console opens
	// with a packet that moves the remembered number: Faults.StaleInputSeq).
	p.outSeq, p.inflight, p.retries, p.nacked = 0, 0, 0, false
	if !p.s.cfg.Faults.StaleInputSeq {
		p.lastInSeq, p.lastInAcc = 0, 0
	}
	p.s.event(EventActivate, ss.bmcID, "")
	p.armDeactivateFault(ss)
	inb, outb := p.cfg.InboundSize, p.cfg.OutboundSize
	if p.cfg.ReportInbound != 0 {
		inb = p.cfg.ReportInbound
	}
	if p.cfg.ReportOutbound != 0 {
		outb = p.cfg.ReportOutbound
	}
	resp := ipmi.ActivatePayloadResponse{InboundSize: inb, OutboundSize: outb, Port: p.port(), VLAN: 0xFFFF}.Append([]byte{0})
	// Output that waited for a console goes out once the answer has.
	p.accumT.arm(p.cfg.AccumulateInterval)
	return resp
}

func (p *solPort) deactivate(ss *session, d []byte) []byte {
	if len(d) < 2 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	if ipmi.PayloadType(d[0]&0x3F) != ipmi.PayloadSOL || d[1]&0x0F != 1 {
		return cc(ipmi.CCInvalidDataField)
	}
	if p.owner == nil {
		return cc(0x80) // already deactivated
	}
	old := p.owner
	p.release()
	p.s.event(EventDeactivate, ss.bmcID, "")
	if old != ss && !p.cfg.SilentDeactivate {
		// Taken away by another session: tell the old owner at once, and
		// again on its next packet.
		old.sol.takenAway = true
		p.sendStatus(old, solDeactivating)
	}
	return cc(ipmi.CCOK)
}

// release ends the current activation; s.mu held.
func (p *solPort) release() {
	p.owner = nil
	p.stopTimers()
	// Data in flight was never acknowledged: it stays for the next console.
	p.inflight, p.outSeq = 0, 0
	p.cond.Broadcast()
}

func (p *solPort) sessionGone(ss *session) {
	if p.owner == ss {
		p.release()
		p.s.event(EventDeactivate, ss.bmcID, "session ended")
	}
}

func (p *solPort) activationStatus(d []byte) []byte {
	if len(d) < 1 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	var active byte
	if ipmi.PayloadType(d[0]&0x3F) == ipmi.PayloadSOL && p.owner != nil {
		active = 1
	}
	return []byte{0, 1, active, 0}
}

func (p *solPort) instanceInfo(d []byte) []byte {
	if len(d) < 2 {
		return cc(ipmi.CCDataLengthInvalid)
	}
	var id uint32
	if ipmi.PayloadType(d[0]&0x3F) == ipmi.PayloadSOL && d[1]&0x0F == 1 && p.owner != nil {
		id = p.owner.bmcID
	}
	return ipmi.PayloadInstanceInfo{SessionID: id, Port: 1}.Append([]byte{0})
}

// status is the operation/status byte for the owner's next packet.
func (p *solPort) status() byte {
	var st byte
	if !p.s.chassis.PoweredOn() {
		st |= solUnavailable
	}
	if p.overrun {
		st |= solOverrun
	}
	if p.breakOut {
		st |= solBreakSeen
	}
	return p.faultyStatus(st)
}

// powerChanged tells the console at once that the host went off or came
// back (character transfer unavailable); later packets repeat it. s.mu held.
func (p *solPort) powerChanged() {
	if p.owner != nil {
		p.sendStatus(p.owner, p.status())
	}
}

func (p *solPort) sendStatus(ss *session, st byte) {
	p.pbuf = append(p.pbuf[:0], 0, 0, 0, st)
	p.s.send(ss, ipmi.PayloadSOL, p.pbuf)
}

// handlePacket processes a SOL packet from a console; s.mu held.
func (p *solPort) handlePacket(ss *session, b []byte) {
	if len(b) < 4 {
		p.s.drop()
		return
	}
	if p.owner != ss {
		if ss.sol != nil && ss.sol.takenAway {
			p.sendStatus(ss, solDeactivating)
		} else {
			p.s.drop()
		}
		return
	}
	seq, ackSeq, count, op := b[0]&0x0F, b[1]&0x0F, b[2], b[3]
	data := b[4:]
	if ackSeq != 0 && ackSeq == p.outSeq {
		p.acked(count, op&solNack != 0)
	}
	if op&solFlushOut != 0 {
		p.outBuf = p.outBuf[:p.inflight]
		p.cond.Broadcast()
	}
	if op&solFlushIn != 0 {
		p.inBuf = p.inBuf[:0]
	}
	if seq == 0 {
		return
	}
	if seq == p.lastInSeq {
		// A retransmission: ACK again what was accepted the first time.
		if p.stall != InputNoAck {
			p.ack(seq, p.lastInAcc)
		}
		return
	}
	switch {
	case p.stall == InputNoAck:
		return
	case p.stall == InputAcceptNone || p.stall == InputNackAll:
		p.lastInSeq, p.lastInAcc = seq, 0
		st := p.status()
		if p.stall == InputNackAll {
			st |= solNack
		}
		p.pbuf = append(p.pbuf[:0], 0, seq, 0, st)
		p.s.send(p.owner, ipmi.PayloadSOL, p.pbuf)
		return
	case len(data) == 0 && p.s.cfg.Faults.IgnoreEmptyInput:
		return
	}
	if op&solGenBreak != 0 {
		select {
		case p.line.breaks <- struct{}{}:
		default:
		}
		p.s.event(EventBreak, ss.bmcID, "")
	}
	acc := min(len(data), p.cfg.InboundBuffer-len(p.inBuf), 255)
	p.inBuf = append(p.inBuf, data[:acc]...)
	if acc > 0 {
		p.cond.Broadcast()
	}
	p.lastInSeq, p.lastInAcc = seq, byte(acc)
	p.ack(seq, byte(acc))
}

func (p *solPort) ack(seq, acc byte) {
	st := p.status()
	if p.cfg.NackWhenFull && len(p.inBuf) >= p.cfg.InboundBuffer {
		st |= solNack
	}
	p.pbuf = append(p.pbuf[:0], 0, seq, acc, st)
	p.s.send(p.owner, ipmi.PayloadSOL, p.pbuf)
}

// acked handles the console's answer to the packet in flight.
func (p *solPort) acked(count byte, nack bool) {
	p.retryT.stop()
	if nack {
		// The console cannot take data now: keep it, retry after a pause.
		p.nacked = true
		p.retryT.arm(p.cfg.RetryInterval)
		return
	}
	n := min(int(count), p.inflight)
	p.outBuf = p.outBuf[n:]
	if len(p.outBuf) == 0 {
		p.outBuf = p.outBuf[:0:0] // let a large buffer go
	}
	p.inflight, p.outSeq, p.retries, p.nacked = 0, 0, 0, false
	p.overrun, p.breakOut = false, false
	p.cond.Broadcast()
	// The rest, and anything that arrived meanwhile, goes at once.
	if len(p.outBuf) > 0 {
		p.sendNext()
	}
}

func (p *solPort) maxChars() int {
	if n := p.s.cfg.Faults.OversizeOutput; n > 255 {
		return n
	}
	return min(int(p.cfg.OutboundSize)-4, 255)
}

// noCache says whether a request must be executed afresh even when it
// repeats one just answered (Faults.ActivateNotCached); s.mu held.
func (p *solPort) noCache(netFn ipmi.NetFn, cmd byte) bool {
	return netFn == ipmi.NetFnApp && cmd == ipmi.CmdActivatePayload && p.s.cfg.Faults.ActivateNotCached
}

// loseAnswer says whether the answer data to a request is to be dropped
// (Faults.LoseActivateAnswers); s.mu held.
func (p *solPort) loseAnswer(netFn ipmi.NetFn, cmd byte, data []byte) bool {
	if p.lostActs <= 0 || netFn != ipmi.NetFnApp || cmd != ipmi.CmdActivatePayload || len(data) == 0 || data[0] != 0 {
		return false
	}
	p.lostActs--
	p.s.event(EventAnswerLost, p.owner.bmcID, "Activate Payload")
	return true
}

// sendNext sends a new data packet from the head of outBuf; s.mu held.
func (p *solPort) sendNext() {
	if p.owner == nil || p.outSeq != 0 || len(p.outBuf) == 0 || p.closed {
		return
	}
	p.accumT.stop()
	p.lastSeq = p.lastSeq%15 + 1
	p.outSeq = p.lastSeq
	p.inflight = min(len(p.outBuf), p.maxChars())
	p.transmit()
}

func (p *solPort) transmit() {
	p.pbuf = append(p.pbuf[:0], p.outSeq, 0, 0, p.status())
	p.pbuf = append(p.pbuf, p.outBuf[:p.inflight]...)
	p.s.send(p.owner, ipmi.PayloadSOL, p.pbuf)
	p.retryT.arm(p.cfg.RetryInterval)
}

func (p *solPort) retransmit() {
	if p.owner == nil || p.outSeq == 0 {
		return
	}
	if p.nacked {
		p.nacked = false
	} else {
		p.retries++
	}
	if p.cfg.RetryCount > 0 && p.retries > p.cfg.RetryCount {
		// Give up on this packet as real BMCs do: its data is lost.
		p.outBuf = p.outBuf[p.inflight:]
		p.inflight, p.outSeq, p.retries = 0, 0, 0
		p.cond.Broadcast()
		p.sendNext()
		return
	}
	if p.cfg.AppendOnRetransmit {
		p.inflight = min(len(p.outBuf), p.maxChars())
	}
	p.transmit()
}

// flush sends waiting output after the accumulate interval.
func (p *solPort) flush() { p.sendNext() }

// hostOutput queues host output; s.mu held.
func (p *solPort) hostOutput() {
	if p.owner == nil || p.outSeq != 0 {
		return
	}
	if len(p.outBuf) >= p.cfg.SendThreshold {
		p.sendNext()
		return
	}
	if !p.accumT.armed {
		p.accumT.arm(p.cfg.AccumulateInterval)
	}
}

// ErrLineClosed is returned by Line operations after the BMC has closed.
var ErrLineClosed = errors.New("fakebmc: serial line closed")

// Line is the BMC end of the host's serial port, as the host sees it: Read
// returns what consoles typed, Write sends host output to the console.
type Line struct {
	p      *solPort
	breaks chan struct{}
}

// Read blocks until console input is available.
func (l *Line) Read(b []byte) (int, error) {
	p := l.p
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	for len(p.inBuf) == 0 {
		if p.closed {
			return 0, ErrLineClosed
		}
		p.cond.Wait()
	}
	full := len(p.inBuf) >= p.cfg.InboundBuffer
	n := copy(b, p.inBuf)
	p.inBuf = p.inBuf[:copy(p.inBuf, p.inBuf[n:])]
	if full && p.owner != nil && p.lastInSeq != 0 && p.stall == InputTaken {
		// Room again: ACK the last packet once more, as ipmi_sim does, so a
		// console that was refused need not wait out its back-off.
		p.ack(p.lastInSeq, p.lastInAcc)
	}
	return n, nil
}

// Write queues host output for the console. It blocks while the output
// buffer is full and a console is attached; with no console attached, the
// oldest output is dropped instead (and an overrun reported).
func (l *Line) Write(b []byte) (int, error) {
	p := l.p
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	n := 0
	for len(b) > 0 {
		if p.closed {
			return n, ErrLineClosed
		}
		space := p.cfg.OutputBuffer - len(p.outBuf)
		if space <= 0 {
			if p.owner != nil {
				p.cond.Wait()
				continue
			}
			drop := min(len(b), len(p.outBuf)-p.inflight)
			p.outBuf = append(p.outBuf[:p.inflight], p.outBuf[p.inflight+drop:]...)
			p.overrun = true
			space = p.cfg.OutputBuffer - len(p.outBuf)
			if space <= 0 {
				p.cond.Wait()
				continue
			}
		}
		k := min(space, len(b))
		p.outBuf = append(p.outBuf, b[:k]...)
		b = b[k:]
		n += k
		p.hostOutput()
	}
	return n, nil
}

// SendBreak reports a break from the host to the console.
func (l *Line) SendBreak() {
	l.p.s.mu.Lock()
	l.p.breakOut = true
	l.p.s.mu.Unlock()
}

// Breaks delivers one value per BREAK a console sent.
func (l *Line) Breaks() <-chan struct{} { return l.breaks }

// Chassis is the machine the host runs on, for power events.
func (l *Line) Chassis() *Chassis { return l.p.s.chassis }
