package ipmi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// PayloadType is the RMCP+ payload type (IPMI v2.0 §13.27.3, Table 13-16).
type PayloadType uint8

// Payload types.
const (
	PayloadIPMI                PayloadType = 0x00
	PayloadSOL                 PayloadType = 0x01
	PayloadOEM                 PayloadType = 0x02
	PayloadOpenSessionRequest  PayloadType = 0x10
	PayloadOpenSessionResponse PayloadType = 0x11
	PayloadRAKP1               PayloadType = 0x12
	PayloadRAKP2               PayloadType = 0x13
	PayloadRAKP3               PayloadType = 0x14
	PayloadRAKP4               PayloadType = 0x15
)

const (
	bitAuthenticated = 0x40
	bitEncrypted     = 0x80
	nextHeader       = 0x07
	// sessionHeaderLen counts the bytes from the auth type to the payload length.
	sessionHeaderLen = 12
	aesBlock         = aes.BlockSize
)

// Header is the RMCP+ session header of a packet.
type Header struct {
	PayloadType   PayloadType
	Authenticated bool
	Encrypted     bool
	SessionID     uint32
	Seq           uint32
}

// ErrIntegrity is wrapped by errors for packets whose auth code, pads or
// protection bits are wrong.
var ErrIntegrity = errors.New("integrity check failed")

func integrityError(format string, args ...any) error {
	return fmt.Errorf("ipmi: %w: %s", ErrIntegrity, fmt.Sprintf(format, args...))
}

// AppendPlain appends a whole unprotected RMCP+ datagram: the session-setup
// payloads and session-less IPMI requests (session ID 0, sequence 0).
func AppendPlain(b []byte, pt PayloadType, sessionID, seq uint32, payload []byte) []byte {
	b = AppendRMCPHeader(b, ClassIPMI)
	b = append(b, AuthTypeRMCPPlus, byte(pt)&0x3F)
	b = binary.LittleEndian.AppendUint32(b, sessionID)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}

// ParseHeader decodes the session header of an RMCP+ packet (b starts at the
// auth type byte) and returns the payload area. OEM explicit payloads are
// rejected: nothing here uses them.
func ParseHeader(b []byte) (Header, []byte, error) {
	if len(b) < sessionHeaderLen {
		return Header{}, nil, malformed("RMCP+ header of %d bytes", len(b))
	}
	if b[0] != AuthTypeRMCPPlus {
		return Header{}, nil, malformed("auth type 0x%02x", b[0])
	}
	h := Header{
		PayloadType:   PayloadType(b[1] & 0x3F),
		Authenticated: b[1]&bitAuthenticated != 0,
		Encrypted:     b[1]&bitEncrypted != 0,
		SessionID:     binary.LittleEndian.Uint32(b[2:]),
		Seq:           binary.LittleEndian.Uint32(b[6:]),
	}
	if h.PayloadType == PayloadOEM {
		return h, nil, malformed("OEM explicit payload")
	}
	n := int(binary.LittleEndian.Uint16(b[10:]))
	if len(b) < sessionHeaderLen+n {
		return h, nil, malformed("payload length %d beyond datagram of %d", n, len(b))
	}
	return h, b[sessionHeaderLen : sessionHeaderLen+n], nil
}

// SessionCipher protects and checks the packets of one direction of one
// session: integrity (HMAC-SHA1-96, HMAC-SHA256-128, keyed with K1) and
// confidentiality (AES-CBC-128 keyed with the first 16 bytes of K2). It keeps
// scratch state, so a SessionCipher must not be used by two goroutines at once;
// each side keeps one for sealing and one for opening.
type SessionCipher struct {
	suite   CipherSuite
	mac     hash.Hash
	codeLen int
	block   cipher.Block
	rand    io.Reader
	sum     [64]byte
	iv      [aesBlock]byte
	chain   [aesBlock]byte
}

// NewSessionCipher builds the per-direction protection for suite from the
// session keys. rand supplies the AES IVs.
func NewSessionCipher(suite CipherSuite, keys Keys, rand io.Reader) (*SessionCipher, error) {
	c := &SessionCipher{suite: suite, rand: rand}
	if suite.Integrity != IntegrityNone {
		if len(keys.K1) == 0 {
			return nil, errors.New("ipmi: integrity needs K1")
		}
		c.mac = hmac.New(suite.Integrity.hash(), keys.K1)
		c.codeLen = suite.Integrity.authCodeLen()
	}
	if suite.Conf == ConfAESCBC128 {
		if len(keys.K2) < 16 {
			return nil, errors.New("ipmi: AES-CBC-128 needs 16 bytes of K2")
		}
		b, err := aes.NewCipher(keys.K2[:16])
		if err != nil {
			return nil, fmt.Errorf("ipmi: %w", err)
		}
		c.block = b
	} else if suite.Conf != ConfNone {
		return nil, fmt.Errorf("ipmi: confidentiality algorithm %s not supported", suite.Conf)
	}
	return c, nil
}

// Suite returns the cipher suite.
func (c *SessionCipher) Suite() CipherSuite { return c.suite }

// Seal appends a whole protected datagram carrying payload to dst.
func (c *SessionCipher) Seal(dst []byte, pt PayloadType, sessionID, seq uint32, payload []byte) ([]byte, error) {
	start := len(dst)
	dst = AppendRMCPHeader(dst, ClassIPMI)
	flags := byte(pt) & 0x3F
	if c.mac != nil {
		flags |= bitAuthenticated
	}
	if c.block != nil {
		flags |= bitEncrypted
	}
	dst = append(dst, AuthTypeRMCPPlus, flags)
	dst = binary.LittleEndian.AppendUint32(dst, sessionID)
	dst = binary.LittleEndian.AppendUint32(dst, seq)
	lenOff := len(dst)
	dst = append(dst, 0, 0)
	areaStart := len(dst)
	if c.block != nil {
		var err error
		if dst, err = c.encrypt(dst, payload); err != nil {
			return dst[:start], err
		}
	} else {
		dst = append(dst, payload...)
	}
	area := len(dst) - areaStart
	if area > 0xFFFF {
		return dst[:start], errors.New("ipmi: payload too large")
	}
	binary.LittleEndian.PutUint16(dst[lenOff:], uint16(area))
	if c.mac == nil {
		return dst, nil
	}
	// Pad so that the integrity-covered bytes (auth type … next header) are a
	// multiple of 4 (IPMI v2.0 §13.6, Table 13-8: integrity pad).
	pad := (4 - (sessionHeaderLen+area+2)%4) % 4
	for range pad {
		dst = append(dst, 0xFF)
	}
	dst = append(dst, byte(pad), nextHeader)
	c.mac.Reset()
	c.mac.Write(dst[start+rmcpHeaderLen:])
	sum := c.mac.Sum(c.sum[:0])
	return append(dst, sum[:c.codeLen]...), nil
}

// encrypt appends IV ‖ AES-CBC(payload ‖ 01 02 … N ‖ N) (IPMI v2.0 §13.29,
// Table 13-20).
func (c *SessionCipher) encrypt(dst, payload []byte) ([]byte, error) {
	if _, err := io.ReadFull(c.rand, c.iv[:]); err != nil {
		return dst, fmt.Errorf("ipmi: reading IV: %w", err)
	}
	dst = append(dst, c.iv[:]...)
	ctStart := len(dst)
	dst = append(dst, payload...)
	n := (aesBlock - (len(payload)+1)%aesBlock) % aesBlock
	for i := 1; i <= n; i++ {
		dst = append(dst, byte(i))
	}
	dst = append(dst, byte(n))
	prev := c.iv[:]
	for off := ctStart; off < len(dst); off += aesBlock {
		blk := dst[off : off+aesBlock]
		subtle16XOR(blk, prev)
		c.block.Encrypt(blk, blk)
		prev = blk
	}
	return dst, nil
}

func subtle16XOR(dst, src []byte) {
	_ = dst[15]
	_ = src[15]
	for i := range 16 {
		dst[i] ^= src[i]
	}
}

// Open checks a whole datagram (RMCP header included) protected with this
// cipher and returns its header and plaintext payload. It verifies the auth
// code in constant time before decrypting, and decrypts in place: the payload
// aliases b. The caller checks the session ID and the sequence window.
func (c *SessionCipher) Open(b []byte) (Header, []byte, error) {
	class, rest, err := ParseRMCPHeader(b)
	if err != nil {
		return Header{}, nil, err
	}
	if class != ClassIPMI {
		return Header{}, nil, malformed("RMCP class 0x%02x in session", class)
	}
	h, area, err := ParseHeader(rest)
	if err != nil {
		return h, nil, err
	}
	if h.Authenticated != (c.mac != nil) {
		return h, nil, integrityError("authenticated bit %v on a session with integrity %s", h.Authenticated, c.suite.Integrity)
	}
	if h.Encrypted != (c.block != nil) {
		return h, nil, integrityError("encrypted bit %v on a session with confidentiality %s", h.Encrypted, c.suite.Conf)
	}
	if c.mac != nil {
		trailer := rest[sessionHeaderLen+len(area):]
		if len(trailer) < 2+c.codeLen {
			return h, nil, integrityError("session trailer of %d bytes", len(trailer))
		}
		covered := rest[:len(rest)-c.codeLen]
		code := rest[len(rest)-c.codeLen:]
		c.mac.Reset()
		c.mac.Write(covered)
		sum := c.mac.Sum(c.sum[:0])
		if !hmac.Equal(sum[:c.codeLen], code) {
			return h, nil, integrityError("auth code mismatch")
		}
		if covered[len(covered)-1] != nextHeader {
			return h, nil, integrityError("next header 0x%02x", covered[len(covered)-1])
		}
		pad := int(covered[len(covered)-2])
		if pad > 3 || pad != len(trailer)-2-c.codeLen {
			return h, nil, integrityError("integrity pad length %d in a trailer of %d bytes", pad, len(trailer))
		}
		for _, p := range trailer[:pad] {
			if p != 0xFF {
				return h, nil, integrityError("integrity pad byte 0x%02x", p)
			}
		}
	} else if len(rest) != sessionHeaderLen+len(area) {
		return h, nil, malformed("%d bytes after the payload of an unauthenticated packet", len(rest)-sessionHeaderLen-len(area))
	}
	if c.block == nil {
		return h, area, nil
	}
	p, err := c.decrypt(area)
	return h, p, err
}

func (c *SessionCipher) decrypt(area []byte) ([]byte, error) {
	if len(area) < 2*aesBlock || len(area)%aesBlock != 0 {
		return nil, integrityError("encrypted payload area of %d bytes", len(area))
	}
	iv, ct := area[:aesBlock], area[aesBlock:]
	copy(c.chain[:], iv)
	var next [aesBlock]byte
	for off := 0; off < len(ct); off += aesBlock {
		blk := ct[off : off+aesBlock]
		copy(next[:], blk)
		c.block.Decrypt(blk, blk)
		subtle16XOR(blk, c.chain[:])
		c.chain = next
	}
	n := int(ct[len(ct)-1])
	if n >= aesBlock || n+1 > len(ct) {
		return nil, integrityError("confidentiality pad length %d", n)
	}
	padStart := len(ct) - 1 - n
	for i, p := range ct[padStart : len(ct)-1] {
		if int(p) != i+1 {
			return nil, integrityError("confidentiality pad byte %d is 0x%02x", i, p)
		}
	}
	return ct[:padStart], nil
}
