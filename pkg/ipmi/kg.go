package ipmi

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MaxKeyLen is the longest password or K_g an RMCP+ user or BMC key may have:
// 20 bytes (IPMI v2.0 §13.31, the key of the HMAC that makes SIK; §22.29,
// Set User Password, 20-byte form).
const MaxKeyLen = 20

// ParseKg reads a K_g as people write one in a file, an environment variable
// or a configuration: the key as text, or its bytes in hex after "0x" (a text
// key that itself begins with "0x" is then written in hex).
func ParseKg(v string) ([]byte, error) {
	if v == "" {
		return nil, errors.New("the K_g is empty")
	}
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		return DecodeKgHex(v)
	}
	if len(v) > MaxKeyLen {
		return nil, fmt.Errorf("the K_g is %d bytes, longer than IPMI's %d", len(v), MaxKeyLen)
	}
	return []byte(v), nil
}

// DecodeKgHex reads a K_g written in hex, with or without "0x".
func DecodeKgHex(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil || len(b) == 0 || len(b) > MaxKeyLen {
		return nil, fmt.Errorf("the K_g in hex is 1 to %d bytes (2 to %d hex digits)", MaxKeyLen, 2*MaxKeyLen)
	}
	return b, nil
}
