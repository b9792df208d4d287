package fakebmc_test

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// The tests of this file's siblings talk to the BMC as a console would:
// pkg/ipmi sessions (fakebmctest) over UDP loopback, or over pkg/memnet
// inside testing/synctest, and SOL packets built by hand (solClient), so
// that they depend on nothing but the wire format.

var admin = ipmi.Config{Username: "admin", Password: []byte("password"), CipherSuites: []uint8{17}}

// udpBMC starts a BMC serving cfg on UDP loopback and returns a session to
// it, for tests with real processes and the real clock.
func udpBMC(t *testing.T, cfg fakebmc.Config) (*fakebmc.Server, *ipmi.Session) {
	t.Helper()
	b := fakebmctest.New(t, cfg, fakebmctest.UDP(""))
	return b.Server, b.Session(t, admin)
}

// solClient is a minimal SOL console (IPMI v2.0 §15.9 packet header):
// it acknowledges every data packet, keeps what it received once, and
// sends input stop-and-wait.
type solClient struct {
	t       *testing.T
	sess    *ipmi.Session
	mu      sync.Mutex
	out     []byte
	lastSeq byte
	changed chan struct{} // a token when out grew
	acks    chan byte     // sequence numbers the BMC acknowledged
	outSeq  byte
}

func activateSOL(t *testing.T, sess *ipmi.Session) *solClient {
	t.Helper()
	c := &solClient{t: t, sess: sess, changed: make(chan struct{}, 1), acks: make(chan byte, 16)}
	sess.SetSOLHandler(c.receive)
	// Encrypted and authenticated, as suite 17 allows (§24.1).
	if _, err := sess.ActivatePayload(context.Background(), ipmi.PayloadSOL, 1, 0xC0); err != nil {
		t.Fatalf("activate SOL: %v", err)
	}
	return c
}

func (c *solClient) receive(p []byte) {
	if len(p) < 4 {
		return
	}
	seq, ack := p[0]&0x0F, p[1]&0x0F
	if ack != 0 {
		select {
		case c.acks <- ack:
		default:
		}
	}
	if seq == 0 {
		return
	}
	data := p[4:]
	c.mu.Lock()
	if seq != c.lastSeq {
		c.out = append(c.out, data...)
		c.lastSeq = seq
	}
	c.mu.Unlock()
	_ = c.sess.SendSOL([]byte{0, seq, byte(len(data)), 0})
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// send types s, one packet, resent until acknowledged.
func (c *solClient) send(s string) {
	c.t.Helper()
	c.outSeq = c.outSeq%15 + 1
	pkt := append([]byte{c.outSeq, 0, 0, 0}, s...)
	for range 10 {
		if err := c.sess.SendSOL(pkt); err != nil {
			c.t.Fatalf("SOL send: %v", err)
		}
		t := time.NewTimer(500 * time.Millisecond)
		for {
			select {
			case a := <-c.acks:
				if a != c.outSeq {
					continue
				}
				t.Stop()
				return
			case <-t.C:
			}
			break
		}
	}
	c.t.Fatalf("SOL input %q never acknowledged", s)
}

// waitRe waits up to d for re to match the output after offset from and
// returns the submatches and the offset just after the match.
func (c *solClient) waitRe(re *regexp.Regexp, from int, d time.Duration) ([]string, int) {
	c.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		out := string(c.out)
		c.mu.Unlock()
		if from <= len(out) {
			if loc := re.FindStringSubmatchIndex(out[from:]); loc != nil {
				m := make([]string, len(loc)/2)
				for i := range m {
					if loc[2*i] >= 0 {
						m[i] = out[from+loc[2*i] : from+loc[2*i+1]]
					}
				}
				return m, from + loc[1]
			}
		}
		select {
		case <-c.changed:
		case <-deadline.C:
			c.t.Fatalf("no %q in the console output after %v; got %q", re, d, out[min(from, len(out)):])
		}
	}
}
