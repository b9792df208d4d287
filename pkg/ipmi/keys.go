package ipmi

import (
	"crypto/hmac"
	"encoding/binary"
)

// Handshake holds the values both sides feed into the RAKP computations
// (IPMI v2.0 §13.31).
type Handshake struct {
	ConsoleSessionID uint32 // SIDm
	BMCSessionID     uint32 // SIDc
	ConsoleRandom    [16]byte
	BMCRandom        [16]byte
	BMCGUID          [16]byte
	// Role is RAKP 1 byte 24, including the name-only lookup bit 4.
	Role     byte
	Username []byte
}

// Keys are the session keys derived after RAKP.
type Keys struct {
	SIK, K1, K2 []byte
}

func mac(alg AuthAlg, key []byte, parts ...[]byte) []byte {
	h := hmac.New(alg.hash(), key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func (h *Handshake) roleUser() []byte {
	b := []byte{h.Role, byte(len(h.Username))}
	return append(b, h.Username...)
}

// RAKP2Code is the BMC's key-exchange auth code, keyed with the password.
func RAKP2Code(alg AuthAlg, password []byte, h *Handshake) []byte {
	if alg == AuthNone {
		return nil
	}
	return mac(alg, password, le32(h.ConsoleSessionID), le32(h.BMCSessionID),
		h.ConsoleRandom[:], h.BMCRandom[:], h.BMCGUID[:], h.roleUser())
}

// RAKP3Code is the console's key-exchange auth code, keyed with the password.
func RAKP3Code(alg AuthAlg, password []byte, h *Handshake) []byte {
	if alg == AuthNone {
		return nil
	}
	return mac(alg, password, h.BMCRandom[:], le32(h.ConsoleSessionID), h.roleUser())
}

// KgSet reports whether kg is a real BMC key: nil or all zeros means "use the
// password", as ipmitool and FreeIPMI treat it (IPMI v2.0 §13.31;
// docs/client-quirks.md).
func KgSet(kg []byte) bool {
	for _, c := range kg {
		if c != 0 {
			return true
		}
	}
	return false
}

var (
	constK1 = []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	constK2 = []byte{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}
)

// DeriveKeys computes SIK, K1 and K2. The K1/K2 constants are 20 bytes even
// for SHA-256, as every client has them (IPMI v2.0 §13.31, §13.32;
// docs/test-vectors.md).
func DeriveKeys(alg AuthAlg, password, kg []byte, h *Handshake) Keys {
	if alg == AuthNone {
		return Keys{}
	}
	key := password
	if KgSet(kg) {
		key = kg
	}
	return DeriveKeysFromSIK(alg, mac(alg, key, h.ConsoleRandom[:], h.BMCRandom[:], h.roleUser()))
}

// DeriveKeysFromSIK computes K1 and K2 from a session integrity key.
func DeriveKeysFromSIK(alg AuthAlg, sik []byte) Keys {
	if alg == AuthNone {
		return Keys{}
	}
	return Keys{SIK: sik, K1: mac(alg, sik, constK1), K2: mac(alg, sik, constK2)}
}

// RAKP4ICV is the BMC's integrity check value in RAKP 4, truncated by the
// authentication algorithm.
func RAKP4ICV(alg AuthAlg, sik []byte, h *Handshake) []byte {
	if alg == AuthNone {
		return nil
	}
	return mac(alg, sik, h.ConsoleRandom[:], le32(h.BMCSessionID), h.BMCGUID[:])[:alg.icvLen()]
}
