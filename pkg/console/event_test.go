package console

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
	"github.com/ghmicons/ghmicons/pkg/sol"
)

// The notes the program shows are the events' texts: each kind says what
// happened in a line, and every kind has one.
func TestEventString(t *testing.T) {
	lost := fmt.Errorf("sol: %w: keepalive failed", ipmi.ErrSessionLost)
	inUse := fmt.Errorf("sol: %w (BMC session 0x00000002)", sol.ErrInUse)
	sess := &SessionInfo{Addr: "bmc1:623", CipherSuite: ipmi.CipherSuite{ID: 17}}
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Kind: Connected, Session: sess}, "connected to bmc1:623 (cipher suite 17)"},
		{Event{Kind: Connected, Session: sess, Reconnect: true}, "reconnected to bmc1:623"},
		{Event{Kind: Connected, Session: sess, Reconnect: true, Polite: true}, "reconnected to bmc1:623: the console was free again"},
		{Event{Kind: ConnectFailed, Err: errors.New("no answer\nat all"), Retry: 1999 * time.Millisecond}, "cannot connect: no answer; at all; retrying in 2s"},
		{Event{Kind: ConnectFailed, Err: inUse, Retry: 4 * time.Second, Polite: true}, "the console is still in use by another session; checking again in 4s"},
		{Event{Kind: Lost, Err: lost, Retry: time.Second}, "connection lost: sol: session lost: keepalive failed; reconnecting in 1s"},
		{Event{Kind: TakenOver, Err: fmt.Errorf("sol: %w", sol.ErrTakenOver), Retry: time.Second},
			"sol: console taken over by another session; not taking it back: reconnecting once it is free (first check in 1s)"},
		{Event{Kind: InputStalled, Detail: "NACK for 2s; 5 bytes waiting"},
			"the BMC is not accepting console input (NACK for 2s; 5 bytes waiting); it is kept and sent when the BMC takes it"},
		{Event{Kind: Suppressed, Of: HostOff, Count: 57, Span: 10 * time.Second, Last: &Event{Kind: HostOn}},
			"57 more host power or serial port changes in the last 10s; the last: host serial port available again"},
		{Event{Kind: InputDiscarded, Bytes: 3, Detail: whyNotAccepting}, "3 bytes of typed input were not sent: the BMC was not accepting input"},
		{Event{Kind: InputUndelivered, Bytes: 7}, "7 bytes of input were not delivered: the session ended before the BMC accepted them"},
		{Event{Kind: ReaderLagged, Detail: "viewer alice", Bytes: 4096}, "viewer alice fell behind: 4096 bytes of console output skipped"},
	}
	for _, tt := range tests {
		if got := tt.ev.String(); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.ev.Kind, got, tt.want)
		}
	}
	for k := Connecting; k <= Missed; k++ {
		if n, ok := kindNames[k]; !ok || n == "" || k != Note && (Event{Kind: k}).String() == "" {
			t.Errorf("kind %d has no name or text", k)
		}
	}
}
