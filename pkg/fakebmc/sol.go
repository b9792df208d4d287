package fakebmc

import "github.com/ghmicons/ghmicons/pkg/ipmi"

// SOLConfig configures Serial-over-LAN on the simulated BMC.
type SOLConfig struct{}

type solPort struct{ s *Server }

type solSession struct{}

func (x *solSession) stop() {}

func newSOLPort(s *Server, cfg SOLConfig) *solPort { return &solPort{s: s} }

func (p *solPort) handlePacket(ss *session, payload []byte) { p.s.drop() }
func (p *solPort) sessionGone(ss *session)                  {}
func (p *solPort) close()                                   {}
func (p *solPort) activate(ss *session, d []byte) []byte    { return cc(ipmi.CCPayloadDisabled) }
func (p *solPort) deactivate(ss *session, d []byte) []byte  { return cc(ipmi.CCPayloadDisabled) }
func (p *solPort) activationStatus(d []byte) []byte         { return []byte{0, 1, 0, 0} }
func (p *solPort) instanceInfo(d []byte) []byte             { return cc(ipmi.CCInvalidDataField) }
