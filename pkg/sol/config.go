package sol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Retry is the BMC's SOL retry configuration: how often it sends a packet of
// console output that the console does not acknowledge. IPMI v2.0 §26.3
// (Get SOL Configuration Parameters), table 26-5, parameter 4 "SOL Retry":
// byte 1 bits 2:0 retry count (0 = no retries), byte 2 retry interval in
// 10 ms units (0 = retries back to back).
type Retry struct {
	Count    int
	Interval time.Duration
}

func (r Retry) String() string { return fmt.Sprintf("%d retries every %v", r.Count, r.Interval) }

// Span is how long a BMC that follows r goes on sending one packet of output
// nobody acknowledges: the first copy and every retry, (Count+1) intervals.
// A console that has heard nothing for Span (plus a round trip) knows that
// the BMC has no more output for it, or has given it up itself.
func (r Retry) Span() time.Duration { return time.Duration(r.Count+1) * r.Interval }

// Wire values of Get SOL Configuration Parameters (IPMI v2.0 §26.3).
const (
	cmdGetSOLConfig = 0x22 // NetFn Transport
	solParamRetry   = 4
	retryUnit       = 10 * time.Millisecond
)

// ErrShortRetry: the SOL Retry parameter's answer is too short.
var ErrShortRetry = errors.New("sol: SOL retry parameter: short response")

// RetryRequest is the Get SOL Configuration Parameters request for parameter
// 4 on this channel: channel (0x0E, "this channel", IPMI v2.0 §6.3),
// parameter, set selector, block selector.
func RetryRequest() []byte { return []byte{ipmi.ChannelThis, solParamRetry, 0, 0} }

// ParseRetry decodes the response data after the completion code: the
// parameter revision, then the parameter's two bytes. Reserved bits above
// the count are ignored.
func ParseRetry(d []byte) (Retry, error) {
	if len(d) < 3 {
		return Retry{}, fmt.Errorf("%w: %d bytes, want 3", ErrShortRetry, len(d))
	}
	return Retry{Count: int(d[1] & 0x07), Interval: time.Duration(d[2]) * retryUnit}, nil
}

// ReadRetry asks the BMC for its SOL retry configuration. BMCs that do not
// implement parameter 4 (ipmi_sim answers 0x80, "parameter not supported")
// return a *ipmi.CompletionError.
func ReadRetry(ctx context.Context, s *ipmi.Session) (Retry, error) {
	d, err := s.Do(ctx, ipmi.NetFnTransport, cmdGetSOLConfig, RetryRequest())
	if err != nil {
		return Retry{}, err
	}
	return ParseRetry(d)
}
