package cli

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// The console's timing rules, without I/O: the reconnection backoff and the
// end-of-input wait. docs/console.md explains them in prose.

// Reconnection backoff: 1 s doubling to 60 s, ±20% jitter. It applies after
// every loss and every failed attempt, and starts again from 1 s only once a
// session has stayed up for healthyAfter: a session that dies as soon as it
// is up (a local error, a BMC that deactivates at once, two consoles taking
// the console from each other) backs off as a failed attempt does.
const (
	backoffFirst = time.Second
	backoffMax   = 60 * time.Second
	healthyAfter = 30 * time.Second
)

type backoff struct {
	next time.Duration
	rand func() float64 // [0, 1); nil means math/rand/v2
}

// wait returns the next delay and doubles the one after.
func (b *backoff) wait() time.Duration {
	if b.next == 0 {
		b.next = backoffFirst
	}
	d := b.next
	b.next = min(2*b.next, backoffMax)
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	return time.Duration(float64(d) * (0.8 + 0.4*r()))
}

// sessionEnded applies the reset rule to a session that was up for up.
func (b *backoff) sessionEnded(up time.Duration) {
	if up >= healthyAfter {
		b.next = 0
	}
}

// solRetry is the BMC's SOL retry configuration: how often it sends a packet
// of console output that the console does not acknowledge. IPMI v2.0 §26.3
// (Get SOL Configuration Parameters), table 26-5 parameter 4 "SOL Retry":
// byte 1 bits 2:0 retry count (0 = no retries), byte 2 retry interval in
// 10 ms units (0 = retries back to back).
type solRetry struct {
	count    int
	interval time.Duration
	reported bool // read from the BMC, not assumed
}

// assumedRetry is what ghmicons assumes of a BMC that does not report
// parameter 4 (ipmi_sim answers 0x80 "parameter not supported"): a 1 s
// interval (ipmi_sim's, the longest seen) and 3 retries.
var assumedRetry = solRetry{count: 3, interval: time.Second}

// SOL configuration parameter 4 on the wire.
const (
	solParamRetry      = 4
	cmdGetSOLConfig    = 0x22 // NetFn Transport, IPMI v2.0 §26.3
	solRetryUnit       = 10 * time.Millisecond
	quietMargin        = 250 * time.Millisecond
	lingerAfterQuiet   = 30 * time.Second // the longest the end of input waits for output that keeps coming
	inputStallBound    = 20 * time.Second // the longest the end of input waits for the BMC to accept anything
	outputDrainBound   = 10 * time.Second // the longest the end waits for stdout to take anything
	solConfigChannelID = 0x0E             // "this channel", IPMI v2.0 §6.3
)

var errShortSOLRetry = errors.New("SOL retry parameter: short response")

// solRetryRequest is the Get SOL Configuration Parameters request for
// parameter 4: channel, parameter, set selector, block selector.
func solRetryRequest() []byte { return []byte{solConfigChannelID, solParamRetry, 0, 0} }

// parseSOLRetry decodes the response data after the completion code:
// parameter revision, then the parameter's two bytes.
func parseSOLRetry(d []byte) (solRetry, error) {
	if len(d) < 3 {
		return solRetry{}, fmt.Errorf("%w: %d bytes, want 3", errShortSOLRetry, len(d))
	}
	return solRetry{count: int(d[1] & 0x07), interval: time.Duration(d[2]) * solRetryUnit, reported: true}, nil
}

// quiet is how long the console must hear nothing from the BMC before it
// may conclude that the BMC has no more output for it: the first copy of a
// packet and every retry, (count+1) intervals, plus a margin for the round
// trip and the BMC's own timers. Output that all of these copies fail to
// bring the BMC has given up on itself.
func (r solRetry) quiet() time.Duration {
	return time.Duration(r.count+1)*r.interval + quietMargin
}

func (r solRetry) String() string {
	src := "assumed"
	if r.reported {
		src = "reported by the BMC"
	}
	return fmt.Sprintf("%d retries every %v (%s)", r.count, r.interval, src)
}
