package ipmi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
)

func suite3Keys(t testing.TB) Keys {
	h := kat81(t)
	return DeriveKeys(AuthHMACSHA1, []byte("password"), nil, &h)
}

// TestKnownAnswerFirstPacket replays the first encrypted packets of the live
// suite-3 exchange of docs/test-vectors.md (vector 1) byte for byte.
func TestKnownAnswerFirstPacket(t *testing.T) {
	suite, _ := LookupCipherSuite(3)
	iv := unhex(t, "2999918eb8e8fa8ab94d7f369693ad20")
	c, err := NewSessionCipher(suite, suite3Keys(t), bytes.NewReader(iv))
	if err != nil {
		t.Fatal(err)
	}
	payload := unhex(t, "2018c881043b043c")
	got, err := c.Seal(nil, PayloadIPMI, 0x12B61A2F, 3, payload)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "0600ff07"+
		"06c02f1ab612030000002000"+
		"2999918eb8e8fa8ab94d7f369693ad20"+
		"0861404b407457d687d4aee36c51efcf"+
		"ffff0207"+
		"6898ada88f5d5d398d6e4c03")
	if !bytes.Equal(got, want) {
		t.Fatalf("sealed\n %x\nwant\n %x", got, want)
	}

	// The BMC's reply opens to the Set Session Privilege Level response.
	reply := unhex(t, "0600ff07"+
		"06c0a4a3a2a0010000002000"+
		"7d4d8d09f04dd89114c8576a98689b33241d47dbff993f73a812ef9d6f314334"+
		"ffff0207"+
		"a38fb6a05712a7a2bb9bc8bf")
	open, _ := NewSessionCipher(suite, suite3Keys(t), nil)
	h, p, err := open.Open(reply)
	if err != nil {
		t.Fatal(err)
	}
	if h.SessionID != 0xA0A2A3A4 || h.Seq != 1 || h.PayloadType != PayloadIPMI || !h.Authenticated || !h.Encrypted {
		t.Errorf("header %+v", h)
	}
	if want := unhex(t, "811c6320043b00049d"); !bytes.Equal(p, want) {
		t.Errorf("plaintext %x, want %x", p, want)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	keys := suite3Keys(t)
	for _, id := range SupportedCipherSuites() {
		suite, _ := LookupCipherSuite(id)
		k := keys
		if suite.Auth == AuthHMACSHA256 {
			h := kat81(t)
			k = DeriveKeys(AuthHMACSHA256, []byte("password"), nil, &h)
		}
		for _, n := range []int{0, 1, 15, 16, 17, 31, 255, 259} {
			payload := make([]byte, n)
			rand.Read(payload)
			seal, _ := NewSessionCipher(suite, k, rand.Reader)
			open, _ := NewSessionCipher(suite, k, rand.Reader)
			pkt, err := seal.Seal(nil, PayloadSOL, 7, 9, payload)
			if err != nil {
				t.Fatal(err)
			}
			if suite.Integrity != IntegrityNone && (len(pkt)-4-suite.Integrity.authCodeLen())%4 != 0 {
				t.Errorf("suite %d: covered length %d not a multiple of 4", id, len(pkt)-4-suite.Integrity.authCodeLen())
			}
			h, got, err := open.Open(pkt)
			if err != nil {
				t.Fatalf("suite %d len %d: %v", id, n, err)
			}
			if !bytes.Equal(got, payload) || h.Seq != 9 || h.SessionID != 7 || h.PayloadType != PayloadSOL {
				t.Fatalf("suite %d len %d: round trip differs", id, n)
			}
		}
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	suite, _ := LookupCipherSuite(17)
	h := kat81(t)
	k := DeriveKeys(AuthHMACSHA256, []byte("password"), nil, &h)
	seal, _ := NewSessionCipher(suite, k, rand.Reader)
	open, _ := NewSessionCipher(suite, k, rand.Reader)
	pkt, _ := seal.Seal(nil, PayloadIPMI, 1, 1, []byte("hello, BMC"))
	for i := 4; i < len(pkt); i++ {
		bad := append([]byte(nil), pkt...)
		bad[i] ^= 0x01
		if _, _, err := open.Open(bad); err == nil {
			t.Errorf("flipping byte %d went unnoticed", i)
		}
	}
	for n := 0; n < len(pkt); n++ {
		if _, _, err := open.Open(pkt[:n]); err == nil {
			t.Errorf("truncation to %d bytes went unnoticed", n)
		}
	}
	// A packet without the protection bits on a protected session.
	plain := AppendPlain(nil, PayloadIPMI, 1, 1, []byte("hello"))
	if _, _, err := open.Open(plain); !errors.Is(err, ErrIntegrity) {
		t.Errorf("unprotected packet: %v, want ErrIntegrity", err)
	}
	// Wrong key.
	other, _ := NewSessionCipher(suite, Keys{K1: make([]byte, 32), K2: make([]byte, 32)}, rand.Reader)
	if _, _, err := other.Open(pkt); !errors.Is(err, ErrIntegrity) {
		t.Errorf("wrong key: %v, want ErrIntegrity", err)
	}
}

func BenchmarkSealOpen(b *testing.B) {
	for _, id := range []uint8{3, 17} {
		suite, _ := LookupCipherSuite(id)
		h := kat81(b)
		k := DeriveKeys(suite.Auth, []byte("password"), nil, &h)
		seal, _ := NewSessionCipher(suite, k, rand.Reader)
		open, _ := NewSessionCipher(suite, k, rand.Reader)
		payload := make([]byte, 255)
		buf := make([]byte, 0, 512)
		b.Run(fmt.Sprintf("suite%d", id), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for i := range b.N {
				pkt, err := seal.Seal(buf[:0], PayloadSOL, 1, uint32(i+1), payload)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := open.Open(pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
