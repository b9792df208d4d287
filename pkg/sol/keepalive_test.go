package sol

import (
	"testing"
	"time"
)

// TestKeepaliveWait: the wait to the next keepalive stays within ¾–1 of
// the interval whatever the jitter and the clock, spreads over that range,
// and (for intervals of 4 s and more) ends on the shared 250 ms grid.
func TestKeepaliveWait(t *testing.T) {
	base := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	for _, k := range []time.Duration{15 * time.Second, 4 * time.Second, 2 * time.Second, time.Second, 100 * time.Millisecond, 10} {
		lo, hi := time.Duration(-1), time.Duration(0)
		for i := range 1000 {
			f := float64(i%100) / 100
			now := base.Add(time.Duration(i) * 7919 * time.Microsecond)
			w := keepaliveWait(k, f, now)
			if w < k*3/4 || w > k {
				t.Fatalf("k=%v f=%v now=%v: wait %v outside %v–%v", k, f, now, w, k*3/4, k)
			}
			if g := min(keepaliveGrain, k/16); g > 0 && now.Add(w).UnixNano()%int64(g) != 0 {
				t.Fatalf("k=%v: %v + %v is not on the %v grid", k, now, w, g)
			}
			if lo < 0 || w < lo {
				lo = w
			}
			hi = max(hi, w)
		}
		if k >= time.Second && (lo > k*3/4+k/16 || hi < k-k/16) {
			t.Errorf("k=%v: waits span only %v–%v", k, lo, hi)
		}
	}
}
