package netcode

import (
	"encoding/binary"
	"strconv"
)

// Connection packets. Every datagram of the connection layer starts with one
// type byte. The handshake packets travel in the clear; connected packets
// (accept, payload, disconnect) carry a 13-byte header — type, connection id,
// 64-bit connection sequence — that is the associated data of their AEAD seal
// in secure mode.
//
//	request   (client→server, exactly helloSize bytes, zero padded)
//	  type | wire | protocolID u64 | version u16 | clientNonce u64 | flags |
//	  [secure: tokenExpires i64 | tokenNonce 24 | sealed private token] | padding
//	response  (client→server, exactly helloSize bytes)
//	  the request's fields, with the challenge cookie in the last cookieSize bytes
//	challenge (server→client, 33 bytes)   type | clientNonce u64 | cookie
//	denied    (server→client, 10 bytes)   type | clientNonce u64 | reason
//	accept    header | clientID u64 | clientNonce u64       [| tag]
//	payload   header | endpoint packet                      [| tag]
//	disconnect header | reason                              [| tag]
//
// The server answers an unverified address only with a challenge or a denied
// packet, both far smaller than the helloSize request that provoked them, so
// the handshake cannot amplify traffic toward a spoofed source.

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
	wireVersion = 1

	helloSize      = 512 // request and response size
	helloFixedSize = 21  // type, wire, protocolID, version, nonce, flags
	cookieSize     = 24  // timestamp + MAC
	cookieMACSize  = 16
	challengeSize  = 1 + 8 + cookieSize
	deniedSize     = 1 + 8 + 1

	connHeaderSize = 1 + 4 + 8
	aeadTagSize    = 16
	acceptBodySize = 16

	// ConnOverhead is the largest number of bytes the connection layer adds
	// to an endpoint packet (header + AEAD tag in secure mode). A datagram is
	// at most the endpoint's MaxPacketSize + ConnOverhead bytes.
	ConnOverhead = connHeaderSize + aeadTagSize

	helloFlagSecure = 1
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
	errCookieShort    = &connPacketError{"cookie truncated"}
	errChallengeSize  = &connPacketError{"challenge has the wrong size"}
	errChallengeType  = &connPacketError{"not a challenge"}
	errDeniedSize     = &connPacketError{"denied packet has the wrong size"}
	errDeniedType     = &connPacketError{"not a denied packet"}
	errDeniedReason   = &connPacketError{"unknown deny reason"}
	errConnShort      = &connPacketError{"connected packet truncated"}
	errConnType       = &connPacketError{"not a connected packet type"}
	errAcceptSize     = &connPacketError{"accept body has the wrong size"}
	errDisconnectSize = &connPacketError{"disconnect body has the wrong size"}
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
	}
	b = append(b, flags)
	if h.Secure {
		b = binary.BigEndian.AppendUint64(b, uint64(h.TokenExpires))
		b = append(b, h.TokenNonce[:]...)
		b = append(b, h.TokenSealed[:]...)
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
	if flags&^helloFlagSecure != 0 {
		return 0, 0, errHelloFlags
	}
	h.Secure = flags&helloFlagSecure != 0
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
// the address of a request.
func appendChallenge(b []byte, clientNonce uint64, c cookie) []byte {
	b = append(b, byte(ptChallenge))
	b = binary.BigEndian.AppendUint64(b, clientNonce)
	return appendCookie(b, c)
}

func decodeChallenge(b []byte) (clientNonce uint64, c cookie, n int, err error) {
	if len(b) != challengeSize {
		return 0, c, 0, errChallengeSize
	}
	if connPacketType(b[0]) != ptChallenge {
		return 0, c, 0, errChallengeType
	}
	clientNonce = binary.BigEndian.Uint64(b[1:])
	if _, err := decodeCookie(b[9:], &c); err != nil {
		return 0, c, 0, err
	}
	return clientNonce, c, challengeSize, nil
}

func appendDenied(b []byte, clientNonce uint64, r DenyReason) []byte {
	b = append(b, byte(ptDenied))
	b = binary.BigEndian.AppendUint64(b, clientNonce)
	return append(b, byte(r))
}

func decodeDenied(b []byte) (clientNonce uint64, r DenyReason, n int, err error) {
	if len(b) != deniedSize {
		return 0, 0, 0, errDeniedSize
	}
	if connPacketType(b[0]) != ptDenied {
		return 0, 0, 0, errDeniedType
	}
	r = DenyReason(b[9])
	if !r.valid() {
		return 0, 0, 0, errDeniedReason
	}
	return binary.BigEndian.Uint64(b[1:]), r, deniedSize, nil
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

func decodeDisconnectBody(b []byte) (DisconnectReason, int, error) {
	if len(b) != 1 {
		return 0, 0, errDisconnectSize
	}
	return DisconnectReason(b[0]), 1, nil
}
