package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// tracer writes the --debug protocol trace: one line per packet, decoded.
// Session-setup messages come decoded by the session, without their
// key-exchange codes; the session never hands keys or passwords to the
// trace.
type tracer struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *tracer) event(e ipmi.TraceEvent) {
	dir := "<-"
	if e.Sent {
		dir = "->"
	}
	if e.Setup != "" {
		what := e.Detail
		if e.Err != nil {
			what += fmt.Sprintf(" (send failed: %v)", e.Err)
		}
		t.mu.Lock()
		fmt.Fprintf(t.w, "%s trace: %s setup %s: %s\n", time.Now().Format("15:04:05.000000"), dir, e.Setup, what)
		t.mu.Unlock()
		return
	}
	var what string
	switch e.PayloadType {
	case ipmi.PayloadIPMI:
		m, err := ipmi.ParseMessage(e.Payload)
		if err != nil {
			what = fmt.Sprintf("IPMI undecodable (%v)", err)
			break
		}
		what = fmt.Sprintf("IPMI %s rqSeq %d", ipmi.CommandName(m.NetFn, m.Cmd), m.Seq)
		if m.IsResponse() && len(m.Data) > 0 {
			what += fmt.Sprintf(" cc 0x%02x data % x", m.Data[0], m.Data[1:])
		} else {
			what += fmt.Sprintf(" data % x", m.Data)
		}
	case ipmi.PayloadSOL:
		p, err := sol.ParsePacket(e.Payload)
		if err != nil {
			what = "SOL undecodable"
			break
		}
		what = fmt.Sprintf("SOL seq %d ack %d accepted %d status 0x%02x chars %d", p.Seq, p.AckSeq, p.Accepted, p.Status, len(p.Data))
	default:
		what = fmt.Sprintf("payload type 0x%02x, %d bytes", e.PayloadType, len(e.Payload))
	}
	if e.Err != nil {
		what += fmt.Sprintf(" (send failed: %v)", e.Err)
	}
	t.mu.Lock()
	fmt.Fprintf(t.w, "%s trace: %s session seq %d %s\n", time.Now().Format("15:04:05.000000"), dir, e.Seq, what)
	t.mu.Unlock()
}

func suitesText(s []uint8) string {
	if s == nil {
		return "negotiated (17, then 3)"
	}
	return fmt.Sprint(s)
}

// debugWriter is where --debug goes: nil without it, stderr for --debug,
// the file for --debug=FILE (appended). The func closes what was opened.
func (o *options) debugWriter(stderr io.Writer) (io.Writer, func(), error) {
	switch o.debug {
	case "":
		return nil, func() {}, nil
	case "-":
		return stderr, func() {}, nil
	}
	f, err := os.OpenFile(o.debug, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, &usageError{fmt.Sprintf("--debug: %v", err)}
	}
	return f, func() { f.Close() }, nil
}
