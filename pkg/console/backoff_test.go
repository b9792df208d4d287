package console

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	mid := func() float64 { return 0.5 } // no jitter
	b := backoffState{rand: mid}
	var got []time.Duration
	for range 8 {
		got = append(got, b.next())
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("waits %v, want 1 s doubling to 60 s", got)
		}
	}
	// A session that died soon after connecting does not reset it.
	b.sessionEnded(30*time.Second - time.Millisecond)
	if d := b.next(); d != 60*time.Second {
		t.Errorf("after a short session: %v, want 60s", d)
	}
	// One that stayed up does.
	b.sessionEnded(30 * time.Second)
	if d := b.next(); d != time.Second {
		t.Errorf("after a healthy session: %v, want 1s", d)
	}
	// Jitter: ±20%.
	lo, hi := backoffState{rand: func() float64 { return 0 }}, backoffState{rand: func() float64 { return 0.999999 }}
	if d := lo.next(); d != 800*time.Millisecond {
		t.Errorf("low jitter %v", d)
	}
	if d := hi.next(); d < 1199*time.Millisecond || d > 1200*time.Millisecond {
		t.Errorf("high jitter %v", d)
	}
}

// A schedule of its own: what a console server with many consoles sets.
func TestBackoffConfigured(t *testing.T) {
	b := Backoff{First: 500 * time.Millisecond, Max: 3 * time.Second, Jitter: 0.5, HealthyAfter: 5 * time.Second}
	var got []time.Duration
	for n := range 5 {
		got = append(got, b.Delay(n, 0.5))
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	if d := b.Delay(0, 0); d != 250*time.Millisecond {
		t.Errorf("jitter 50%%, low end: %v", d)
	}
	if d := (Backoff{Jitter: -1}).Delay(0, 0); d != time.Second {
		t.Errorf("no jitter: %v, want 1s", d)
	}
	s := backoffState{sched: b, rand: func() float64 { return 0.5 }}
	s.next()
	s.next()
	s.sessionEnded(5 * time.Second)
	if d := s.next(); d != 500*time.Millisecond {
		t.Errorf("after HealthyAfter: %v, want First", d)
	}
}

func TestRetryInfoQuiet(t *testing.T) {
	// A BMC that does not say: ipmi_sim's 1 s interval, 3 retries.
	if q := (RetryInfo{Retry: AssumedRetry}).Quiet(); q != 4250*time.Millisecond {
		t.Errorf("assumed quiet %v", q)
	}
	r := RetryInfo{Reported: true}
	r.Count, r.Interval = 7, 500*time.Millisecond
	if q := r.Quiet(); q != 4250*time.Millisecond {
		t.Errorf("7 × 500 ms: quiet %v", q)
	}
	if q := (RetryInfo{Reported: true}).Quiet(); q != quietMargin {
		t.Errorf("no retries: quiet %v, want the margin", q)
	}
}
