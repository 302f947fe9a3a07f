package netcode

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Connect tokens (secure mode). A backend that has authenticated a player
// issues a token with IssueConnectToken and hands the bytes to the client.
// The token has a public part the client reads (protocol, expiry, server
// addresses, the two packet keys) and a private part sealed with
// XChaCha20-Poly1305 under a key that only the backend and the game servers
// know. The client passes the sealed part to the server in its connection
// request; the server opens it, checks its expiry and that it lists the
// server's own address, and takes the client id, packet keys and user data
// from it. A client can neither forge nor alter a token. The public part
// carries the packet keys in the clear, so deliver tokens over a secure
// channel (HTTPS): whoever reads a token in transit can use it until it
// expires.

// KeySize is the size of the backend–server token key and of packet keys.
const KeySize = chacha20poly1305.KeySize

const (
	// tokenVersion is the connect token format's version, apart from the
	// connection packets' wireVersion: tokens a backend issued stay valid
	// when only the packets change.
	tokenVersion = 1

	// MaxTokenServers is the most server addresses a token lists.
	MaxTokenServers = 4
	// MaxTokenUserData is the most bytes of user data a token carries.
	MaxTokenUserData = 256

	tokenNonceSize         = chacha20poly1305.NonceSizeX
	tokenAddrSize          = 1 + 16 + 2
	privateTokenSize       = 416 // padded; 407 used
	privateTokenSealedSize = privateTokenSize + aeadTagSize
	// PublicTokenSize is the size of an encoded connect token.
	PublicTokenSize = 1 + 8 + 8 + tokenNonceSize + privateTokenSealedSize +
		1 + MaxTokenServers*tokenAddrSize + 2*KeySize
)

// ClientID identifies a connected client on a server. In secure mode it is
// the id the backend put in the connect token; otherwise the server assigns
// ids 1, 2, 3... in connection order.
type ClientID uint64

// ConnectToken is what a backend fills in to let one client connect.
type ConnectToken struct {
	ProtocolID uint64
	ClientID   ClientID
	// Expires is when servers stop accepting the token (the connection, once
	// made, outlives it).
	Expires time.Time
	// ServerAddrs lists the servers that accept the token (1..MaxTokenServers).
	// A server accepts a token only if its public address is listed.
	ServerAddrs []netip.AddrPort
	// Packet keys. IssueConnectToken fills zero keys from its rand source.
	ClientToServerKey, ServerToClientKey [KeySize]byte
	// UserData is opaque to netcode and reaches the server (≤ MaxTokenUserData).
	UserData []byte
}

// GenerateKey returns a random key for IssueConnectToken and
// ServerConfig.TokenKey. rand is usually crypto/rand.Reader.
func GenerateKey(rand io.Reader) ([KeySize]byte, error) {
	var k [KeySize]byte
	if _, err := io.ReadFull(rand, k[:]); err != nil {
		return k, fmt.Errorf("netcode: generate key: %w", err)
	}
	return k, nil
}

// IssueConnectToken seals tok under key and returns the encoded token
// (PublicTokenSize bytes) to give to the client for ClientConfig.Token.
// rand supplies the nonce and any zero packet key (use crypto/rand.Reader).
func IssueConnectToken(key [KeySize]byte, tok ConnectToken, rand io.Reader) ([]byte, error) {
	if n := len(tok.ServerAddrs); n < 1 || n > MaxTokenServers {
		return nil, fmt.Errorf("%w: %d server addresses, want 1..%d", ErrInvalidToken, n, MaxTokenServers)
	}
	for _, a := range tok.ServerAddrs {
		if !a.IsValid() {
			return nil, fmt.Errorf("%w: server address %v is not valid", ErrInvalidToken, a)
		}
	}
	if len(tok.UserData) > MaxTokenUserData {
		return nil, fmt.Errorf("%w: %d bytes of user data, want at most %d", ErrInvalidToken, len(tok.UserData), MaxTokenUserData)
	}
	for _, k := range []*[KeySize]byte{&tok.ClientToServerKey, &tok.ServerToClientKey} {
		if *k == ([KeySize]byte{}) {
			var err error
			if *k, err = GenerateKey(rand); err != nil {
				return nil, err
			}
		}
	}
	pt := publicToken{
		ProtocolID: tok.ProtocolID,
		Expires:    tok.Expires.UnixMilli(),
		C2SKey:     tok.ClientToServerKey,
		S2CKey:     tok.ServerToClientKey,
	}
	pt.NumAddrs = copy(pt.Addrs[:], tok.ServerAddrs)
	if _, err := io.ReadFull(rand, pt.Nonce[:]); err != nil {
		return nil, fmt.Errorf("netcode: token nonce: %w", err)
	}
	priv := privateToken{
		ClientID: tok.ClientID,
		NumAddrs: pt.NumAddrs,
		Addrs:    pt.Addrs,
		C2SKey:   pt.C2SKey,
		S2CKey:   pt.S2CKey,
	}
	priv.UserDataLen = copy(priv.UserData[:], tok.UserData)
	plain := appendPrivateToken(make([]byte, 0, privateTokenSealedSize), &priv)
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, fmt.Errorf("netcode: token key: %w", err)
	}
	var ad [tokenADSize]byte
	sealed := aead.Seal(plain[:0], pt.Nonce[:], plain, tokenAD(&ad, pt.ProtocolID, pt.Expires))
	copy(pt.Sealed[:], sealed)
	return appendPublicToken(make([]byte, 0, PublicTokenSize), &pt), nil
}

// ParseConnectToken decodes the public part of a token, as a client sees it:
// ClientID and UserData are sealed and stay zero.
func ParseConnectToken(b []byte) (ConnectToken, error) {
	pt, _, err := decodePublicToken(b)
	if err != nil {
		return ConnectToken{}, err
	}
	return ConnectToken{
		ProtocolID:        pt.ProtocolID,
		Expires:           time.UnixMilli(pt.Expires),
		ServerAddrs:       append([]netip.AddrPort(nil), pt.Addrs[:pt.NumAddrs]...),
		ClientToServerKey: pt.C2SKey,
		ServerToClientKey: pt.S2CKey,
	}, nil
}

// publicToken is the decoded token as the client holds it.
type publicToken struct {
	ProtocolID uint64
	Expires    int64 // unix milliseconds
	Nonce      [tokenNonceSize]byte
	Sealed     [privateTokenSealedSize]byte
	NumAddrs   int
	Addrs      [MaxTokenServers]netip.AddrPort
	C2SKey     [KeySize]byte
	S2CKey     [KeySize]byte
}

func appendPublicToken(b []byte, t *publicToken) []byte {
	b = append(b, tokenVersion)
	b = binary.BigEndian.AppendUint64(b, t.ProtocolID)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Expires))
	b = append(b, t.Nonce[:]...)
	b = append(b, t.Sealed[:]...)
	b = appendTokenAddrs(b, t.NumAddrs, &t.Addrs)
	b = append(b, t.C2SKey[:]...)
	return append(b, t.S2CKey[:]...)
}

func decodePublicToken(b []byte) (t publicToken, n int, err error) {
	if len(b) < PublicTokenSize {
		return t, 0, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidToken, len(b), PublicTokenSize)
	}
	if b[0] != tokenVersion {
		return t, 0, fmt.Errorf("%w: token version %d, want %d", ErrInvalidToken, b[0], tokenVersion)
	}
	t.ProtocolID = binary.BigEndian.Uint64(b[1:])
	t.Expires = int64(binary.BigEndian.Uint64(b[9:]))
	p := b[17:]
	p = p[copy(t.Nonce[:], p):]
	p = p[copy(t.Sealed[:], p):]
	t.NumAddrs, p, err = decodeTokenAddrs(p, &t.Addrs)
	if err != nil {
		return t, 0, err
	}
	if t.NumAddrs == 0 {
		return t, 0, fmt.Errorf("%w: no server address", ErrInvalidToken)
	}
	p = p[copy(t.C2SKey[:], p):]
	copy(t.S2CKey[:], p)
	return t, PublicTokenSize, nil
}

// privateToken is the sealed part, as the server sees it after opening.
type privateToken struct {
	ClientID    ClientID
	NumAddrs    int
	Addrs       [MaxTokenServers]netip.AddrPort
	C2SKey      [KeySize]byte
	S2CKey      [KeySize]byte
	UserDataLen int
	UserData    [MaxTokenUserData]byte
}

func appendPrivateToken(b []byte, t *privateToken) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint64(b, uint64(t.ClientID))
	b = appendTokenAddrs(b, t.NumAddrs, &t.Addrs)
	b = append(b, t.C2SKey[:]...)
	b = append(b, t.S2CKey[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(t.UserDataLen))
	b = append(b, t.UserData[:]...)
	for len(b)-start < privateTokenSize {
		b = append(b, 0)
	}
	return b
}

func decodePrivateToken(b []byte, t *privateToken) (n int, err error) {
	if len(b) != privateTokenSize {
		return 0, fmt.Errorf("%w: private part is %d bytes, want %d", ErrInvalidToken, len(b), privateTokenSize)
	}
	t.ClientID = ClientID(binary.BigEndian.Uint64(b))
	p := b[8:]
	t.NumAddrs, p, err = decodeTokenAddrs(p, &t.Addrs)
	if err != nil {
		return 0, err
	}
	if t.NumAddrs == 0 {
		return 0, fmt.Errorf("%w: no server address", ErrInvalidToken)
	}
	p = p[copy(t.C2SKey[:], p):]
	p = p[copy(t.S2CKey[:], p):]
	t.UserDataLen = int(binary.BigEndian.Uint16(p))
	if t.UserDataLen > MaxTokenUserData {
		return 0, fmt.Errorf("%w: %d bytes of user data, want at most %d", ErrInvalidToken, t.UserDataLen, MaxTokenUserData)
	}
	copy(t.UserData[:], p[2:])
	return privateTokenSize, nil
}

func appendTokenAddrs(b []byte, n int, addrs *[MaxTokenServers]netip.AddrPort) []byte {
	b = append(b, byte(n))
	for i := range addrs {
		if i >= n {
			b = append(b, make([]byte, tokenAddrSize)...)
			continue
		}
		a := addrs[i]
		fam := byte(6)
		if a.Addr().Is4() {
			fam = 4
		}
		ip := a.Addr().As16()
		b = append(b, fam)
		b = append(b, ip[:]...)
		b = binary.BigEndian.AppendUint16(b, a.Port())
	}
	return b
}

func decodeTokenAddrs(p []byte, addrs *[MaxTokenServers]netip.AddrPort) (int, []byte, error) {
	n := int(p[0])
	if n > MaxTokenServers {
		return 0, nil, fmt.Errorf("%w: %d server addresses, want at most %d", ErrInvalidToken, n, MaxTokenServers)
	}
	p = p[1:]
	for i := range addrs {
		e := p[i*tokenAddrSize : (i+1)*tokenAddrSize]
		if i >= n {
			addrs[i] = netip.AddrPort{}
			continue
		}
		ip := netip.AddrFrom16([16]byte(e[1:17]))
		switch e[0] {
		case 4:
			if !ip.Is4In6() {
				return 0, nil, fmt.Errorf("%w: address %d is not IPv4", ErrInvalidToken, i)
			}
			ip = ip.Unmap()
		case 6:
		default:
			return 0, nil, fmt.Errorf("%w: address %d has family %d", ErrInvalidToken, i, e[0])
		}
		addrs[i] = netip.AddrPortFrom(ip, binary.BigEndian.Uint16(e[17:]))
	}
	return n, p[MaxTokenServers*tokenAddrSize:], nil
}

const tokenADSize = 1 + 8 + 8

func tokenAD(ad *[tokenADSize]byte, protocolID uint64, expires int64) []byte {
	ad[0] = tokenVersion
	binary.BigEndian.PutUint64(ad[1:], protocolID)
	binary.BigEndian.PutUint64(ad[9:], uint64(expires))
	return ad[:]
}

// tokenOpener opens the private part of tokens on a server. Not safe for
// concurrent use (it reuses its buffers).
type tokenOpener struct {
	aead  cipher.AEAD
	ad    [tokenADSize]byte
	plain [privateTokenSealedSize]byte
}

func newTokenOpener(key [KeySize]byte) (*tokenOpener, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, fmt.Errorf("netcode: token key: %w", err)
	}
	return &tokenOpener{aead: aead}, nil
}

// open authenticates and decodes the token carried by a hello into t.
func (o *tokenOpener) open(h *hello, t *privateToken) error {
	plain, err := o.aead.Open(o.plain[:0], h.TokenNonce[:], h.TokenSealed[:], tokenAD(&o.ad, h.ProtocolID, h.TokenExpires))
	if err != nil {
		return fmt.Errorf("%w: does not authenticate", ErrInvalidToken)
	}
	_, err = decodePrivateToken(plain, t)
	return err
}
