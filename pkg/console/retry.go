package console

import (
	"fmt"
	"time"

	"github.com/ghmicons/ghmicons/pkg/sol"
)

// RetryInfo is what the console knows of how the BMC retransmits console
// output: read from the BMC's SOL configuration (parameter 4, "SOL Retry")
// when the first session is up, or assumed when the BMC does not report it.
type RetryInfo struct {
	sol.Retry
	Reported bool // read from the BMC, not assumed
}

// AssumedRetry is what the console assumes of a BMC that does not report
// its SOL retry configuration (ipmi_sim answers 0x80, "parameter not
// supported"): a 1 s interval (ipmi_sim's, the longest seen) and 3 retries.
var AssumedRetry = sol.Retry{Count: 3, Interval: time.Second}

// quietMargin covers the round trip and the BMC's own timers.
const quietMargin = 250 * time.Millisecond

// Quiet is how long the console must hear nothing from the BMC before it may
// conclude that the BMC has no more output for it: the first copy of a
// packet and every retry, plus a margin for the round trip. Output that all
// of these copies fail to bring the BMC has given up on itself.
func (r RetryInfo) Quiet() time.Duration { return r.Span() + quietMargin }

func (r RetryInfo) String() string {
	src := "assumed"
	if r.Reported {
		src = "reported by the BMC"
	}
	return fmt.Sprintf("%v (%s)", r.Retry, src)
}

// activity counts the BMC's console data packets: new output, and
// retransmissions of output already delivered (the BMC did not hear the
// ACK, so it is still trying).
func activity(s sol.Stats) uint64 { return s.BytesIn + s.Duplicates + s.Stale }
