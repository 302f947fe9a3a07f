package netcode

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// Connection packets. Every datagram of the connection layer starts with one
// type byte. The handshake packets travel in the clear (in secure mode the
// server's carry a MAC under a key derived from the token's server-to-client
// key, and the response's cookie is replaced by a proof under the
// client-to-server key); connected packets (accept, payload, disconnect)
// carry a 13-byte header — type, connection id, 64-bit connection sequence —
// that is the associated data of their AEAD seal in secure mode.
//
//	request   (client→server, exactly helloSize bytes, zero padded)
//	  type | wire | protocolID u64 | version u16 | clientNonce u64 | flags |
//	  [secure: tokenExpires i64 | tokenNonce 24 | sealed private token] |
//	  [plain, flag userData: length u16 | user data (≤ MaxTokenUserData)] | padding
//	response  (client→server, exactly helloSize bytes)
//	  the request's fields, with the challenge cookie in the last cookieSize
//	  bytes (secure: the cookie's timestamp and the key proof in place of its MAC)
//	challenge (server→client, 33 bytes; secure 49)   type | clientNonce u64 | cookie [| tag]
//	denied    (server→client, 10 bytes; sealed 26)   type | clientNonce u64 | reason [| tag]
//	accept     header | clientID u64 | clientNonce u64       [| AEAD tag]
//	payload    header | endpoint packet                      [| AEAD tag]
//	disconnect header | reason | echo u64                    [| AEAD tag]
//
// The server answers an unverified address only with a challenge or a denied
// packet, both far smaller than the helloSize request that provoked them, so
// the handshake cannot amplify traffic toward a spoofed source. A
// disconnect's echo is the newest connection sequence its sender received
// from the other side: in plain mode it proves that the sender sees the
// connection's traffic (see Server.handleConnected).

type connPacketType uint8

const (
	ptRequest connPacketType = iota + 1
	ptChallenge
	ptResponse
	ptDenied
	ptAccept
	ptPayload
	ptDisconnect
)

const (
	// wireVersion 2: handshake MACs and key proof, the connection id in the
	// AEAD nonce, the disconnect echo.
	wireVersion = 2

	helloSize      = 512 // request and response size
	helloFixedSize = 21  // type, wire, protocolID, version, nonce, flags
	cookieSize     = 24  // timestamp + MAC
	cookieMACSize  = 16
	challengeSize  = 1 + 8 + cookieSize
	deniedSize     = 1 + 8 + 1
	hsTagSize      = 16 // MAC of a secure challenge or denial

	challengeSealedSize = challengeSize + hsTagSize
	deniedSealedSize    = deniedSize + hsTagSize

	connHeaderSize     = 1 + 4 + 8
	aeadTagSize        = 16
	acceptBodySize     = 16
	disconnectBodySize = 1 + 8

	// ConnOverhead is the largest number of bytes the connection layer adds
	// to an endpoint packet (header + AEAD tag in secure mode). A datagram is
	// at most the endpoint's MaxPacketSize + ConnOverhead bytes.
	ConnOverhead = connHeaderSize + aeadTagSize

	helloFlagSecure   = 1
	helloFlagUserData = 2 // plain mode: the client's user data follows
)

// Sizes of the secure part of a hello packet.
const (
	helloSecureSize = 8 + tokenNonceSize + privateTokenSealedSize
	helloCookieOff  = helloSize - cookieSize
)

// hello is the body of a connection request and of a connection response.
type hello struct {
	Wire        uint8
	ProtocolID  uint64
	Version     uint16
	ClientNonce uint64
	Secure      bool
	// Secure mode only: the public part of the connect token.
	TokenExpires int64 // unix milliseconds
	TokenNonce   [tokenNonceSize]byte
	TokenSealed  [privateTokenSealedSize]byte
	// Plain mode only: what the client says about itself (unauthenticated).
	UserData    [MaxTokenUserData]byte
	UserDataLen int
	// Response only.
	Cookie cookie
}

type cookie struct {
	Timestamp int64 // unix milliseconds on the server's clock
	MAC       [cookieMACSize]byte
}

// connPacketError says why a connection packet was rejected. The values
// are package-level so that rejecting a datagram (a flood of them, say)
// does not allocate.
type connPacketError struct{ reason string }

func (e *connPacketError) Error() string        { return "netcode: malformed connection packet: " + e.reason }
func (e *connPacketError) Is(target error) bool { return target == errBadConnPacket }

var (
	errHelloSize      = &connPacketError{"hello is not " + strconv.Itoa(helloSize) + " bytes"}
	errHelloType      = &connPacketError{"not a request or response"}
	errHelloFlags     = &connPacketError{"unknown hello flags"}
	errHelloUserData  = &connPacketError{"hello user data longer than " + strconv.Itoa(MaxTokenUserData) + " bytes"}
	errCookieShort    = &connPacketError{"cookie truncated"}
	errChallengeSize  = &connPacketError{"challenge is not " + strconv.Itoa(challengeSize) + " or " + strconv.Itoa(challengeSealedSize) + " bytes"}
	errChallengeType  = &connPacketError{"not a challenge"}
	errDeniedSize     = &connPacketError{"denied packet is not " + strconv.Itoa(deniedSize) + " or " + strconv.Itoa(deniedSealedSize) + " bytes"}
	errDeniedType     = &connPacketError{"not a denied packet"}
	errDeniedReason   = &connPacketError{"unknown deny reason"}
	errConnShort      = &connPacketError{"connected packet truncated"}
	errConnType       = &connPacketError{"not a connected packet type"}
	errAcceptSize     = &connPacketError{"accept body has the wrong size"}
	errDisconnectSize = &connPacketError{"disconnect body is not " + strconv.Itoa(disconnectBodySize) + " bytes"}
	errSealedShort    = &connPacketError{"sealed packet shorter than its tag"}
	errAuth           = &connPacketError{"does not authenticate"}
)

// appendHello encodes a request (t == ptRequest) or a response
// (t == ptResponse) of exactly helloSize bytes.
func appendHello(b []byte, t connPacketType, h *hello) []byte {
	start := len(b)
	b = append(b, byte(t), h.Wire)
	b = binary.BigEndian.AppendUint64(b, h.ProtocolID)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint64(b, h.ClientNonce)
	var flags byte
	if h.Secure {
		flags |= helloFlagSecure
	} else if h.UserDataLen > 0 {
		flags |= helloFlagUserData
	}
	b = append(b, flags)
	if h.Secure {
		b = binary.BigEndian.AppendUint64(b, uint64(h.TokenExpires))
		b = append(b, h.TokenNonce[:]...)
		b = append(b, h.TokenSealed[:]...)
	} else if h.UserDataLen > 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(h.UserDataLen))
		b = append(b, h.UserData[:h.UserDataLen]...)
	}
	for len(b)-start < helloCookieOff {
		b = append(b, 0)
	}
	if t == ptResponse {
		b = appendCookie(b, h.Cookie)
	} else {
		for len(b)-start < helloSize {
			b = append(b, 0)
		}
	}
	return b
}

// decodeHello decodes a request or a response. It checks sizes and the type
// byte only; the caller checks the wire version, protocol and version so that
// it can deny them with the right reason.
func decodeHello(b []byte, h *hello) (t connPacketType, n int, err error) {
	if len(b) != helloSize {
		return 0, 0, errHelloSize
	}
	t = connPacketType(b[0])
	if t != ptRequest && t != ptResponse {
		return 0, 0, errHelloType
	}
	h.Wire = b[1]
	h.ProtocolID = binary.BigEndian.Uint64(b[2:])
	h.Version = binary.BigEndian.Uint16(b[10:])
	h.ClientNonce = binary.BigEndian.Uint64(b[12:])
	flags := b[20]
	if flags&^(helloFlagSecure|helloFlagUserData) != 0 || flags == helloFlagSecure|helloFlagUserData {
		return 0, 0, errHelloFlags
	}
	h.Secure = flags&helloFlagSecure != 0
	h.UserDataLen = 0
	if flags&helloFlagUserData != 0 {
		p := b[helloFixedSize:]
		n := int(binary.BigEndian.Uint16(p))
		if n > MaxTokenUserData {
			return 0, 0, errHelloUserData
		}
		h.UserDataLen = copy(h.UserData[:], p[2:2+n])
	}
	if h.Secure {
		p := b[helloFixedSize:]
		h.TokenExpires = int64(binary.BigEndian.Uint64(p))
		copy(h.TokenNonce[:], p[8:])
		copy(h.TokenSealed[:], p[8+tokenNonceSize:])
	} else {
		h.TokenExpires = 0
		h.TokenNonce = [tokenNonceSize]byte{}
		h.TokenSealed = [privateTokenSealedSize]byte{}
	}
	h.Cookie = cookie{}
	if t == ptResponse {
		if _, err := decodeCookie(b[helloCookieOff:], &h.Cookie); err != nil {
			return 0, 0, err
		}
	}
	return t, helloSize, nil
}

func appendCookie(b []byte, c cookie) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(c.Timestamp))
	return append(b, c.MAC[:]...)
}

func decodeCookie(b []byte, c *cookie) (int, error) {
	if len(b) < cookieSize {
		return 0, errCookieShort
	}
	c.Timestamp = int64(binary.BigEndian.Uint64(b))
	copy(c.MAC[:], b[8:cookieSize])
	return cookieSize, nil
}

// appendChallenge encodes a challenge: the server's stateless cookie, sent to
// the address of a request, with the MAC tag in secure mode (tag nil in
// plain mode).
func appendChallenge(b []byte, clientNonce uint64, c cookie, tag *[hsTagSize]byte) []byte {
	b = append(b, byte(ptChallenge))
	b = binary.BigEndian.AppendUint64(b, clientNonce)
	b = appendCookie(b, c)
	if tag != nil {
		b = append(b, tag[:]...)
	}
	return b
}

// decodeChallenge decodes a plain (challengeSize) or a sealed
// (challengeSealedSize) challenge; sealed says which, and tag is the MAC of
// a sealed one, still to be checked.
func decodeChallenge(b []byte) (clientNonce uint64, c cookie, tag [hsTagSize]byte, sealed bool, err error) {
	switch len(b) {
	case challengeSize:
	case challengeSealedSize:
		sealed = true
		copy(tag[:], b[challengeSize:])
	default:
		return 0, c, tag, false, errChallengeSize
	}
	if connPacketType(b[0]) != ptChallenge {
		return 0, c, tag, false, errChallengeType
	}
	clientNonce = binary.BigEndian.Uint64(b[1:])
	if _, err := decodeCookie(b[9:], &c); err != nil {
		return 0, c, tag, false, err
	}
	return clientNonce, c, tag, sealed, nil
}

// appendDenied encodes a denial, sealed with tag when tag is not nil.
func appendDenied(b []byte, clientNonce uint64, r DenyReason, tag *[hsTagSize]byte) []byte {
	b = append(b, byte(ptDenied))
	b = binary.BigEndian.AppendUint64(b, clientNonce)
	b = append(b, byte(r))
	if tag != nil {
		b = append(b, tag[:]...)
	}
	return b
}

// decodeDenied decodes a plain (deniedSize) or sealed (deniedSealedSize)
// denial; see decodeChallenge.
func decodeDenied(b []byte) (clientNonce uint64, r DenyReason, tag [hsTagSize]byte, sealed bool, err error) {
	switch len(b) {
	case deniedSize:
	case deniedSealedSize:
		sealed = true
		copy(tag[:], b[deniedSize:])
	default:
		return 0, 0, tag, false, errDeniedSize
	}
	if connPacketType(b[0]) != ptDenied {
		return 0, 0, tag, false, errDeniedType
	}
	r = DenyReason(b[9])
	if !r.valid() {
		return 0, 0, tag, false, errDeniedReason
	}
	return binary.BigEndian.Uint64(b[1:]), r, tag, sealed, nil
}

// connHeader starts every connected packet.
type connHeader struct {
	Type   connPacketType
	ConnID uint32
	Seq    uint64
}

func (h connHeader) append(b []byte) []byte {
	b = append(b, byte(h.Type))
	b = binary.BigEndian.AppendUint32(b, h.ConnID)
	return binary.BigEndian.AppendUint64(b, h.Seq)
}

// decodeConnHeader decodes the header of an accept, payload or disconnect
// packet; the body is b[n:].
func decodeConnHeader(b []byte) (h connHeader, n int, err error) {
	if len(b) < connHeaderSize {
		return h, 0, errConnShort
	}
	h.Type = connPacketType(b[0])
	if h.Type != ptAccept && h.Type != ptPayload && h.Type != ptDisconnect {
		return h, 0, errConnType
	}
	h.ConnID = binary.BigEndian.Uint32(b[1:])
	h.Seq = binary.BigEndian.Uint64(b[5:])
	return h, connHeaderSize, nil
}

func appendAcceptBody(b []byte, clientID ClientID, clientNonce uint64) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(clientID))
	return binary.BigEndian.AppendUint64(b, clientNonce)
}

func decodeAcceptBody(b []byte) (clientID ClientID, clientNonce uint64, n int, err error) {
	if len(b) != acceptBodySize {
		return 0, 0, 0, errAcceptSize
	}
	return ClientID(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint64(b[8:]), acceptBodySize, nil
}

// appendDisconnectBody encodes a disconnect's body: the reason, and echo,
// the newest connection sequence the sender received from its peer (0 when
// none).
func appendDisconnectBody(b []byte, r DisconnectReason, echo uint64) []byte {
	b = append(b, byte(r))
	return binary.BigEndian.AppendUint64(b, echo)
}

func decodeDisconnectBody(b []byte) (r DisconnectReason, echo uint64, n int, err error) {
	if len(b) != disconnectBodySize {
		return 0, 0, 0, errDisconnectSize
	}
	return DisconnectReason(b[0]), binary.BigEndian.Uint64(b[1:]), disconnectBodySize, nil
}

// newConnIDs draws a connection's id (never 0) and its first sequence.
func newConnIDs(rand io.Reader) (connID uint32, firstSeq uint64, err error) {
	var b [4]byte
	for connID == 0 {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, 0, fmt.Errorf("netcode: connection id: %w", err)
		}
		connID = binary.BigEndian.Uint32(b[:])
	}
	firstSeq, err = randomFirstSeq(rand)
	return connID, firstSeq, err
}

// randomFirstSeq draws the sequence a side's connected packets count up
// from: random, so that a plain-mode peer's echo of it (see echoProves) is
// not guessable from the connection's age; below 2^62, so that it never
// wraps.
func randomFirstSeq(rand io.Reader) (uint64, error) {
	var b [8]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return 0, fmt.Errorf("netcode: first sequence: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]) >> 2, nil
}
