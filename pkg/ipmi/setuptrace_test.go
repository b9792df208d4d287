package ipmi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// recorder keeps every datagram the console sends and receives.
type recorder struct {
	ipmi.Transport
	mu      sync.Mutex
	packets [][]byte
}

func (r *recorder) Read(b []byte) (int, error) {
	n, err := r.Transport.Read(b)
	if err == nil {
		r.mu.Lock()
		r.packets = append(r.packets, append([]byte(nil), b[:n]...))
		r.mu.Unlock()
	}
	return n, err
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	r.packets = append(r.packets, append([]byte(nil), b...))
	r.mu.Unlock()
	return r.Transport.Write(b)
}

// secrets collects, from the datagrams of a setup, every value a trace must
// not show: the key-exchange codes, integrity check values, randoms and the
// keys derived from them.
func secrets(t *testing.T, packets [][]byte, password, kg []byte) [][]byte {
	t.Helper()
	out := [][]byte{password, kg}
	var hs ipmi.Handshake
	var auth ipmi.AuthAlg
	for _, p := range packets {
		_, rest, err := ipmi.ParseRMCPHeader(p)
		if err != nil || len(rest) == 0 || rest[0] != ipmi.AuthTypeRMCPPlus {
			continue
		}
		h, area, err := ipmi.ParseHeader(rest)
		if err != nil || h.SessionID != 0 {
			continue
		}
		switch h.PayloadType {
		case ipmi.PayloadOpenSessionRequest:
			if m, err := ipmi.ParseOpenSessionRequest(area); err == nil {
				auth = m.Auth
				hs.ConsoleSessionID = m.ConsoleSessionID
			}
		case ipmi.PayloadOpenSessionResponse:
			if m, err := ipmi.ParseOpenSessionResponse(area); err == nil && m.ConsoleSessionID == hs.ConsoleSessionID {
				hs.BMCSessionID = m.BMCSessionID
			}
		case ipmi.PayloadRAKP1:
			if m, err := ipmi.ParseRAKP1(area); err == nil {
				out = append(out, append([]byte(nil), m.ConsoleRandom[:]...))
				hs.ConsoleRandom, hs.Role, hs.Username = m.ConsoleRandom, m.Role, append([]byte(nil), m.Username...)
				hs.BMCSessionID = m.BMCSessionID
			}
		case ipmi.PayloadRAKP2:
			if m, err := ipmi.ParseRAKP2(area); err == nil && len(m.AuthCode) > 0 {
				out = append(out, append([]byte(nil), m.AuthCode...), append([]byte(nil), m.BMCRandom[:]...))
				hs.BMCRandom, hs.BMCGUID = m.BMCRandom, m.BMCGUID
				// Every attempt's keys, ICV included (also for a RAKP 4
				// that came inside the session or was lost).
				k := ipmi.DeriveKeys(auth, password, kg, &hs)
				out = append(out, k.SIK, k.K1, k.K2, ipmi.RAKP4ICV(auth, k.SIK, &hs))
			}
		case ipmi.PayloadRAKP3:
			if m, err := ipmi.ParseRAKP3(area); err == nil && len(m.AuthCode) > 0 {
				out = append(out, append([]byte(nil), m.AuthCode...))
			}
		case ipmi.PayloadRAKP4:
			if m, err := ipmi.ParseRAKP4(area); err == nil && len(m.ICV) > 0 {
				out = append(out, append([]byte(nil), m.ICV...))
			}
		}
	}
	if len(out) < 8 {
		t.Fatalf("found only %d secrets in %d datagrams", len(out), len(packets))
	}
	return out
}

// leaks reports a secret (or a 4-byte piece of it) found in text or bytes.
func leaks(secret []byte, text string, payload []byte) bool {
	if len(secret) == 0 {
		return false
	}
	if bytes.Contains(payload, secret) || strings.Contains(text, string(secret)) {
		return true
	}
	for i := 0; i+4 <= len(secret); i += 4 {
		piece := secret[i : i+4]
		for _, f := range []string{"% x", "%x", "% X", "%X"} {
			if strings.Contains(text, fmt.Sprintf(f, piece)) {
				return true
			}
		}
		if len(payload) > 0 && bytes.Contains(payload, piece) && binary.LittleEndian.Uint32(piece) != 0 {
			return true
		}
	}
	return false
}

// TestSetupTrace: the trace names every setup message, in-session ones
// included, and shows none of the secrets.
func TestSetupTrace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults fakebmc.Faults
		want   string // an extra event the trace must have
	}{
		{"RAKP 4 inside the session", fakebmc.Faults{RAKP3Retry: fakebmc.RAKP3RetryInSession,
			LoseReplies: []fakebmc.Loss{{Request: fakebmc.ReqRAKP3, N: 1}}}, "(inside the session)"},
		{"restart", fakebmc.Faults{RAKP3Retry: fakebmc.RAKP3RetryIgnore,
			LoseReplies: []fakebmc.Loss{{Request: fakebmc.ReqRAKP3, N: 1}}}, "starting over from Open Session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				kg := []byte("the-bmc-key")
				b := fakebmctest.New(t, fakebmc.Config{Kg: kg, Faults: tc.faults})
				rec := &recorder{Transport: b.Transport(t)}
				type event struct {
					ipmi.TraceEvent
					payload []byte
				}
				var mu sync.Mutex
				var events []event
				cfg := admin
				cfg.Kg = kg
				cfg.Trace = func(e ipmi.TraceEvent) {
					mu.Lock()
					events = append(events, event{e, append([]byte(nil), e.Payload...)})
					mu.Unlock()
				}
				s, err := ipmi.NewSession(context.Background(), rec, cfg)
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				mu.Lock()
				defer mu.Unlock()
				rec.mu.Lock()
				defer rec.mu.Unlock()
				seen := map[string]bool{}
				var all strings.Builder
				for _, e := range events {
					name := e.Setup
					if e.Setup == "" && e.PayloadType == ipmi.PayloadIPMI {
						if msg, err := ipmi.ParseMessage(e.payload); err == nil {
							name = "in session: " + ipmi.CommandName(msg.NetFn, msg.Cmd)
						}
					}
					dir := map[bool]string{true: "sent", false: "received"}[e.Sent]
					seen[dir+" "+name] = true
					fmt.Fprintf(&all, "%s %s: %s\n", dir, name, e.Detail)
				}
				for _, want := range []string{
					"sent Get Channel Authentication Capabilities request",
					"received Get Channel Authentication Capabilities response",
					"sent Get Channel Cipher Suites request", "received Get Channel Cipher Suites response",
					"sent Open Session Request", "received Open Session Response",
					"sent RAKP 1", "received RAKP 2", "sent RAKP 3", "received RAKP 4",
					"sent in session: Set Session Privilege Level", "received in session: Set Session Privilege Level",
				} {
					if !seen[want] {
						t.Errorf("trace has no %q:\n%s", want, all.String())
					}
				}
				if !strings.Contains(all.String(), tc.want) {
					t.Errorf("trace does not say %q:\n%s", tc.want, all.String())
				}
				for _, secret := range secrets(t, rec.packets, admin.Password, kg) {
					for _, e := range events {
						if leaks(secret, e.Detail, e.payload) {
							t.Errorf("trace event %q %q shows secret % x", e.Setup, e.Detail, secret)
						}
					}
				}
				t.Logf("trace:\n%s", all.String())
			})
		})
	}
}
