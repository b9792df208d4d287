package cli

import (
	"bytes"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	mid := func() float64 { return 0.5 } // no jitter
	b := backoff{rand: mid}
	var got []time.Duration
	for range 8 {
		got = append(got, b.wait())
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("waits %v, want 1 s doubling to 60 s", got)
		}
	}
	// A session that died soon after connecting does not reset it.
	b.sessionEnded(healthyAfter - time.Millisecond)
	if d := b.wait(); d != 60*time.Second {
		t.Errorf("after a short session: %v, want 60s", d)
	}
	// One that stayed up does.
	b.sessionEnded(healthyAfter)
	if d := b.wait(); d != time.Second {
		t.Errorf("after a healthy session: %v, want 1s", d)
	}
	// Jitter: ±20%.
	lo, hi := backoff{rand: func() float64 { return 0 }}, backoff{rand: func() float64 { return 0.999999 }}
	if d := lo.wait(); d != 800*time.Millisecond {
		t.Errorf("low jitter %v", d)
	}
	if d := hi.wait(); d < 1199*time.Millisecond || d > 1200*time.Millisecond {
		t.Errorf("high jitter %v", d)
	}
}

func TestSOLRetry(t *testing.T) {
	if !bytes.Equal(solRetryRequest(), []byte{0x0E, 4, 0, 0}) {
		t.Errorf("request % x", solRetryRequest())
	}
	tests := []struct {
		data  []byte
		want  solRetry
		quiet time.Duration
		err   bool
	}{
		// revision, count, interval: Supermicro-like 7 × 500 ms.
		{[]byte{0x11, 0x07, 50}, solRetry{count: 7, interval: 500 * time.Millisecond, reported: true}, 4250 * time.Millisecond, false},
		// Reserved bits above the count are ignored.
		{[]byte{0x11, 0xFB, 10}, solRetry{count: 3, interval: 100 * time.Millisecond, reported: true}, 650 * time.Millisecond, false},
		// No retries, back to back: only the margin.
		{[]byte{0x11, 0, 0}, solRetry{reported: true}, quietMargin, false},
		// The longest a BMC can say.
		{[]byte{0x11, 7, 255}, solRetry{count: 7, interval: 2550 * time.Millisecond, reported: true}, 20650 * time.Millisecond, false},
		{[]byte{0x11, 7}, solRetry{}, 0, true},
		{nil, solRetry{}, 0, true},
	}
	for _, tt := range tests {
		got, err := parseSOLRetry(tt.data)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseSOLRetry(% x) = %+v, %v; want %+v, error %v", tt.data, got, err, tt.want, tt.err)
			continue
		}
		if !tt.err && got.quiet() != tt.quiet {
			t.Errorf("quiet for % x = %v, want %v", tt.data, got.quiet(), tt.quiet)
		}
	}
	// A BMC that does not say: ipmi_sim's 1 s interval, 3 retries.
	if q := assumedRetry.quiet(); q != 4250*time.Millisecond {
		t.Errorf("assumed quiet %v", q)
	}
}

func FuzzParseSOLRetry(f *testing.F) {
	f.Add([]byte{0x11, 0x07, 50})
	f.Add([]byte{0x11, 0xFF, 0xFF})
	f.Add([]byte{0x11})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, d []byte) {
		r, err := parseSOLRetry(d)
		if err != nil {
			return
		}
		if r.count < 0 || r.count > 7 || r.interval < 0 || r.interval > 255*solRetryUnit {
			t.Fatalf("out of range: %+v", r)
		}
		if q := r.quiet(); q < quietMargin || q > 8*255*solRetryUnit+quietMargin {
			t.Fatalf("quiet %v out of range", q)
		}
	})
}
