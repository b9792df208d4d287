package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// TestTraceSetupLine: a setup event is one line naming the message and its
// decoded summary; an in-session one is still decoded from its payload.
func TestTraceSetupLine(t *testing.T) {
	var b strings.Builder
	tr := &tracer{w: &b}
	tr.event(ipmi.TraceEvent{Sent: true, PayloadType: ipmi.PayloadRAKP1, Setup: "RAKP 1",
		Detail: `tag 5, user "admin", console random (16 bytes, not shown)`})
	tr.event(ipmi.TraceEvent{Setup: "RAKP 4", PayloadType: ipmi.PayloadRAKP4, Detail: "tag 6", Err: errors.New("x")})
	msg := ipmi.AppendMessage(nil, &ipmi.Message{TargetAddr: ipmi.AddrBMC, NetFn: ipmi.NetFnApp, SourceAddr: ipmi.AddrConsole,
		Seq: 3, Cmd: ipmi.CmdSetSessionPrivilege, Data: []byte{4}})
	tr.event(ipmi.TraceEvent{Sent: true, PayloadType: ipmi.PayloadIPMI, Seq: 1, Payload: msg})
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	for i, want := range []string{
		`trace: -> setup RAKP 1: tag 5, user "admin", console random (16 bytes, not shown)`,
		`trace: <- setup RAKP 4: tag 6 (send failed: x)`,
		`trace: -> session seq 1 IPMI Set Session Privilege Level rqSeq 3 data 04`,
	} {
		if !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q, want it to end in %q", i, lines[i], want)
		}
	}
}
