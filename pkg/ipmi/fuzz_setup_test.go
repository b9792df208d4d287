package ipmi

import (
	"strings"
	"testing"
)

// FuzzDescribeSetup: the trace decoder of setup messages never panics, and
// never shows a key-exchange code, an integrity check value or a random of
// a message it decodes: the summary does not change when they do.
func FuzzDescribeSetup(f *testing.F) {
	seeds := []struct {
		pt   PayloadType
		data string
	}{
		{PayloadOpenSessionRequest, "00 00 0000 a4a3a2a0 " + algs3},
		{PayloadOpenSessionResponse, "00 00 04 00 a4a3a2a0 2f1ab612 " + algs3},
		{PayloadOpenSessionResponse, "05 11"},
		{PayloadRAKP1, "00 000000 2f1ab612 " + katRm + " 14 0000 05 61646d696e"},
		{PayloadRAKP2, "00 00 0000 a4a3a2a0 " + katRc + katGUID + katRAKP2},
		{PayloadRAKP2, "00 0d 0000 a4a3a2a0"},
		{PayloadRAKP3, "00 00 0000 2f1ab612 " + katRAKP3},
		{PayloadRAKP4, "00 00 0000 a4a3a2a0 " + katICV},
		{PayloadIPMI, "20 18 c8 81 04 38 8e 04 b5"},
		{PayloadRAKP2, "00 00 0000"},
	}
	for _, s := range seeds {
		f.Add(byte(s.pt), hx(f, s.data))
	}
	f.Fuzz(func(t *testing.T, pt byte, data []byte) {
		name, detail := DescribeSetup(PayloadType(pt), data)
		if name == "" || strings.Contains(detail, "\n") {
			t.Fatalf("name %q, detail %q", name, detail)
		}
		// The hidden fields, by offset, of a message that decodes: flipping
		// their bits must not change the summary.
		var hidden [][2]int
		switch PayloadType(pt) {
		case PayloadRAKP1:
			if _, err := ParseRAKP1(data); err == nil {
				hidden = [][2]int{{8, 24}}
			}
		case PayloadRAKP2:
			if m, err := ParseRAKP2(data); err == nil && m.Status == StatusOK {
				hidden = [][2]int{{8, 24}, {40, len(data)}}
			}
		case PayloadRAKP3, PayloadRAKP4:
			if len(data) >= 8 {
				hidden = [][2]int{{8, len(data)}}
			}
		}
		if hidden == nil {
			return
		}
		flipped := append([]byte(nil), data...)
		for _, h := range hidden {
			for i := h[0]; i < h[1]; i++ {
				flipped[i] ^= 0xFF
			}
		}
		if _, again := DescribeSetup(PayloadType(pt), flipped); again != detail {
			t.Fatalf("the summary shows hidden bytes: %q, with them flipped %q", detail, again)
		}
	})
}
