package sol

import (
	"bytes"
	"testing"
	"time"
)

func TestParseRetry(t *testing.T) {
	if !bytes.Equal(RetryRequest(), []byte{0x0E, 4, 0, 0}) {
		t.Errorf("request % x", RetryRequest())
	}
	tests := []struct {
		data []byte
		want Retry
		span time.Duration
		err  bool
	}{
		// revision, count, interval: Supermicro-like 7 × 500 ms.
		{[]byte{0x11, 0x07, 50}, Retry{Count: 7, Interval: 500 * time.Millisecond}, 4 * time.Second, false},
		// Reserved bits above the count are ignored.
		{[]byte{0x11, 0xFB, 10}, Retry{Count: 3, Interval: 100 * time.Millisecond}, 400 * time.Millisecond, false},
		// No retries, back to back.
		{[]byte{0x11, 0, 0}, Retry{}, 0, false},
		// The longest a BMC can say.
		{[]byte{0x11, 7, 255}, Retry{Count: 7, Interval: 2550 * time.Millisecond}, 20400 * time.Millisecond, false},
		{[]byte{0x11, 7}, Retry{}, 0, true},
		{nil, Retry{}, 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRetry(tt.data)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRetry(% x) = %+v, %v; want %+v, error %v", tt.data, got, err, tt.want, tt.err)
			continue
		}
		if !tt.err && got.Span() != tt.span {
			t.Errorf("span for % x = %v, want %v", tt.data, got.Span(), tt.span)
		}
	}
}

// FuzzParseSOLRetry: any answer decodes to a count of 0–7 and an interval of
// at most 2.55 s, or is refused.
func FuzzParseSOLRetry(f *testing.F) {
	f.Add([]byte{0x11, 0x07, 50})
	f.Add([]byte{0x11, 0xFF, 0xFF})
	f.Add([]byte{0x11})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, d []byte) {
		r, err := ParseRetry(d)
		if err != nil {
			return
		}
		if r.Count < 0 || r.Count > 7 || r.Interval < 0 || r.Interval > 255*retryUnit {
			t.Fatalf("out of range: %+v", r)
		}
		if s := r.Span(); s < 0 || s > 8*255*retryUnit {
			t.Fatalf("span %v out of range", s)
		}
	})
}
