package fakebmc

import "time"

// ExecHostClock gives h a restart timer (after, for time.After) and a hook
// told how much input it discarded, for the tests in package fakebmc_test.
func ExecHostClock(h ExecHost, after func(time.Duration) <-chan time.Time, discarded func(n int)) ExecHost {
	h.after, h.discarded = after, discarded
	return h
}
