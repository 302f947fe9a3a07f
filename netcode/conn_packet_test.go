package netcode

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testHello(secure bool) hello {
	h := hello{Wire: wireVersion, ProtocolID: 0x1122334455667788, Version: 7, ClientNonce: 0xdeadbeefcafef00d, Secure: secure}
	if secure {
		h.TokenExpires = 1_700_000_000_000
		for i := range h.TokenNonce {
			h.TokenNonce[i] = byte(i)
		}
		for i := range h.TokenSealed {
			h.TokenSealed[i] = byte(i * 7)
		}
	}
	return h
}

func TestHelloRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		typ    connPacketType
		secure bool
	}{
		{"request", ptRequest, false},
		{"secure request", ptRequest, true},
		{"response", ptResponse, false},
		{"secure response", ptResponse, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHello(tt.secure)
			if tt.typ == ptResponse {
				h.Cookie = cookie{Timestamp: 12345, MAC: [16]byte{1, 2, 3}}
			}
			b := appendHello(make([]byte, 0, helloSize), tt.typ, &h)
			require.Len(t, b, helloSize)
			var got hello
			typ, n, err := decodeHello(b, &got)
			require.NoError(t, err)
			assert.Equal(t, tt.typ, typ)
			assert.Equal(t, helloSize, n)
			assert.Equal(t, h, got)
		})
	}
}

func TestHelloRejects(t *testing.T) {
	h := testHello(false)
	good := appendHello(nil, ptRequest, &h)
	badFlags := append([]byte(nil), good...)
	badFlags[20] = 0x80
	badType := append([]byte(nil), good...)
	badType[0] = byte(ptChallenge)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", good[:helloSize-1]},
		{"oversized", append(append([]byte(nil), good...), 0)},
		{"unknown flags", badFlags},
		{"wrong type", badType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got hello
			_, _, err := decodeHello(tt.b, &got)
			assert.ErrorIs(t, err, errBadConnPacket)
		})
	}
}

func TestSmallPacketsRoundTrip(t *testing.T) {
	c := cookie{Timestamp: -5, MAC: [16]byte{9, 8, 7}}
	tag := [hsTagSize]byte{0xaa, 0xbb}
	for _, sealed := range []bool{false, true} {
		var tp *[hsTagSize]byte
		size, dsize := challengeSize, deniedSize
		if sealed {
			tp, size, dsize = &tag, challengeSealedSize, deniedSealedSize
		}
		b := appendChallenge(nil, 42, c, tp)
		require.Len(t, b, size)
		nonce, gotC, gotTag, gotSealed, err := decodeChallenge(b)
		require.NoError(t, err)
		assert.Equal(t, uint64(42), nonce)
		assert.Equal(t, c, gotC)
		assert.Equal(t, sealed, gotSealed)
		if sealed {
			assert.Equal(t, tag, gotTag)
		}

		b = appendDenied(nil, 43, DenyServerFull, tp)
		require.Len(t, b, dsize)
		nonce, r, gotTag, gotSealed, err := decodeDenied(b)
		require.NoError(t, err)
		assert.Equal(t, uint64(43), nonce)
		assert.Equal(t, DenyServerFull, r)
		assert.Equal(t, sealed, gotSealed)
		if sealed {
			assert.Equal(t, tag, gotTag)
		}
	}
	_, _, _, _, err := decodeDenied(appendDenied(nil, 1, 0, nil))
	assert.ErrorIs(t, err, errBadConnPacket, "reason 0 is not valid")
	_, _, _, _, err = decodeChallenge(appendChallenge(nil, 1, c, nil)[:challengeSize-1])
	assert.ErrorIs(t, err, errBadConnPacket, "truncated challenge")
	_, _, _, _, err = decodeDenied(append(appendDenied(nil, 1, DenyServerFull, &tag), 0))
	assert.ErrorIs(t, err, errBadConnPacket, "denial one byte too long")

	hdr := connHeader{Type: ptAccept, ConnID: 0xabcdef01, Seq: 1 << 40}
	b := appendAcceptBody(hdr.append(nil), 77, 88)
	gotH, n, err := decodeConnHeader(b)
	require.NoError(t, err)
	assert.Equal(t, hdr, gotH)
	id, nonce, _, err := decodeAcceptBody(b[n:])
	require.NoError(t, err)
	assert.Equal(t, ClientID(77), id)
	assert.Equal(t, uint64(88), nonce)

	reason, echo, _, err := decodeDisconnectBody(appendDisconnectBody(nil, ReasonServerClosed, 1<<50+3))
	require.NoError(t, err)
	assert.Equal(t, ReasonServerClosed, reason)
	assert.Equal(t, uint64(1<<50+3), echo)
	_, _, _, err = decodeDisconnectBody([]byte{byte(ReasonClosed)})
	assert.ErrorIs(t, err, errBadConnPacket, "a disconnect without its echo")
}

func TestHandshakeRepliesNeverExceedRequest(t *testing.T) {
	// Anti-amplification by construction: every reply to an unverified
	// address is smaller than the fixed-size hello that provokes it.
	accept := connHeaderSize + acceptBodySize + aeadTagSize
	for _, size := range []int{challengeSize, challengeSealedSize, deniedSize, deniedSealedSize, accept} {
		assert.Less(t, size, helloSize)
	}
	assert.LessOrEqual(t, helloFixedSize+helloSecureSize, helloCookieOff, "secure fields overlap the cookie")
}

func FuzzDecodeHello(f *testing.F) {
	for _, secure := range []bool{false, true} {
		h := testHello(secure)
		f.Add(appendHello(nil, ptRequest, &h))
		f.Add(appendHello(nil, ptResponse, &h))
	}
	f.Add([]byte{byte(ptRequest)})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h hello
		typ, n, err := decodeHello(b, &h)
		if err != nil {
			return
		}
		assert.Equal(t, helloSize, n)
		again := appendHello(nil, typ, &h)
		var h2 hello
		_, _, err = decodeHello(again, &h2)
		require.NoError(t, err)
		assert.Equal(t, h, h2)
	})
}

func FuzzDecodeChallenge(f *testing.F) {
	f.Add(appendChallenge(nil, 1, cookie{Timestamp: 2, MAC: [16]byte{3}}, nil))
	f.Add(appendChallenge(nil, 1, cookie{Timestamp: 2, MAC: [16]byte{3}}, &[hsTagSize]byte{4}))
	f.Add([]byte{byte(ptChallenge), 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		nonce, c, tag, sealed, err := decodeChallenge(b)
		if err != nil {
			return
		}
		var tp *[hsTagSize]byte
		if sealed {
			tp = &tag
		}
		assert.Equal(t, b, appendChallenge(nil, nonce, c, tp))
	})
}

func FuzzDecodeDenied(f *testing.F) {
	f.Add(appendDenied(nil, 1, DenyTokenExpired, nil))
	f.Add(appendDenied(nil, 1, DenyServerFull, &[hsTagSize]byte{5}))
	f.Add([]byte{byte(ptDenied)})
	f.Fuzz(func(t *testing.T, b []byte) {
		nonce, r, tag, sealed, err := decodeDenied(b)
		if err != nil {
			return
		}
		var tp *[hsTagSize]byte
		if sealed {
			tp = &tag
		}
		assert.Equal(t, b, appendDenied(nil, nonce, r, tp))
	})
}

func FuzzDecodeConnPacket(f *testing.F) {
	f.Add(appendAcceptBody(connHeader{Type: ptAccept, ConnID: 1, Seq: 2}.append(nil), 3, 4))
	f.Add(append(connHeader{Type: ptPayload, ConnID: 1, Seq: 9}.append(nil), 1, 2, 3))
	f.Add(appendDisconnectBody(connHeader{Type: ptDisconnect, ConnID: 1, Seq: 10}.append(nil), ReasonClosed, 9))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := decodeConnHeader(b)
		if err != nil {
			return
		}
		assert.Equal(t, b[:n], h.append(nil))
		switch h.Type {
		case ptAccept:
			if id, nonce, _, err := decodeAcceptBody(b[n:]); err == nil {
				assert.Equal(t, b[n:], appendAcceptBody(nil, id, nonce))
			}
		case ptDisconnect:
			if r, echo, _, err := decodeDisconnectBody(b[n:]); err == nil {
				assert.Equal(t, b[n:], appendDisconnectBody(nil, r, echo))
			}
		}
	})
}

func TestTokenAddrFamilies(t *testing.T) {
	addrs := [MaxTokenServers]netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:40000"),
		netip.MustParseAddrPort("[::1]:40001"),
	}
	b := appendTokenAddrs(nil, 2, &addrs)
	var got [MaxTokenServers]netip.AddrPort
	n, rest, err := decodeTokenAddrs(b, &got)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Empty(t, rest)
	assert.Equal(t, addrs, got)
}

// TestHelloUserData: a plain hello carries the client's user data; a
// length beyond MaxTokenUserData, or user data beside a token, is rejected.
func TestHelloUserData(t *testing.T) {
	h := testHello(false)
	h.UserDataLen = copy(h.UserData[:], "room=arena-7")
	for _, typ := range []connPacketType{ptRequest, ptResponse} {
		b := appendHello(nil, typ, &h)
		require.Len(t, b, helloSize)
		var got hello
		_, _, err := decodeHello(b, &got)
		require.NoError(t, err)
		assert.Equal(t, "room=arena-7", string(got.UserData[:got.UserDataLen]))
	}
	b := appendHello(nil, ptRequest, &h)
	tooLong := append([]byte(nil), b...)
	tooLong[helloFixedSize], tooLong[helloFixedSize+1] = 0x01, 0x01 // 257
	both := append([]byte(nil), b...)
	both[20] = helloFlagSecure | helloFlagUserData
	for name, bad := range map[string][]byte{"too long": tooLong, "secure and user data": both} {
		var got hello
		_, _, err := decodeHello(bad, &got)
		assert.ErrorIs(t, err, errBadConnPacket, name)
	}
	secure := testHello(true)
	secure.UserDataLen = copy(secure.UserData[:], "ignored")
	var got hello
	_, _, err := decodeHello(appendHello(nil, ptRequest, &secure), &got)
	require.NoError(t, err)
	assert.Zero(t, got.UserDataLen, "a secure hello carries no plain user data")
}

// TestPlainUserData: in plain mode the client's UserData reaches the
// server's ClientInfo; too much of it, or beside a token, is a config error.
func TestPlainUserData(t *testing.T) {
	noLeaks(t)
	l := startServer(t, nil, ServerConfig{ProtocolID: 7})
	cli, err := dialTest(t, l.addr(), ClientConfig{ProtocolID: 7, UserData: []byte("arena-7")})
	require.NoError(t, err)
	defer cli.Close()
	l.do(func(s *Server) {
		info, ok := s.Client(cli.ID())
		require.True(t, ok)
		assert.Equal(t, "arena-7", string(info.UserData))
	})
	_, err = dialTest(t, l.addr(), ClientConfig{ProtocolID: 7, UserData: make([]byte, MaxTokenUserData+1)})
	require.ErrorIs(t, err, ErrInvalidConnConfig)
	assert.Contains(t, err.Error(), "ClientConfig.UserData")
	_, err = dialTest(t, l.addr(), ClientConfig{ProtocolID: 7, UserData: []byte("x"), Token: []byte("tok")})
	require.ErrorIs(t, err, ErrInvalidConnConfig)
}
