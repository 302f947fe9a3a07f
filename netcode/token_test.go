package netcode

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seededReader is a deterministic io.Reader for keys and nonces in tests.
type seededReader struct{ r *rand.ChaCha8 }

func newSeededReader(seed byte) seededReader {
	return seededReader{rand.NewChaCha8([32]byte{seed})}
}

func (s seededReader) Read(p []byte) (int, error) { return s.r.Read(p) }

func testToken(expires time.Time) ConnectToken {
	return ConnectToken{
		ProtocolID:  0x5457,
		ClientID:    991,
		Expires:     expires,
		ServerAddrs: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:5000"), netip.MustParseAddrPort("[::1]:5001")},
		UserData:    []byte("player=ada"),
	}
}

func TestIssueAndOpenToken(t *testing.T) {
	rng := newSeededReader(1)
	key, err := GenerateKey(rng)
	require.NoError(t, err)
	expires := time.UnixMilli(1_800_000_000_000)
	b, err := IssueConnectToken(key, testToken(expires), rng)
	require.NoError(t, err)
	require.Len(t, b, PublicTokenSize)

	pub, err := ParseConnectToken(b)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x5457), pub.ProtocolID)
	assert.True(t, pub.Expires.Equal(expires))
	assert.Equal(t, testToken(expires).ServerAddrs, pub.ServerAddrs)
	assert.NotEqual(t, [KeySize]byte{}, pub.ClientToServerKey, "zero keys are generated")
	assert.NotEqual(t, pub.ClientToServerKey, pub.ServerToClientKey)
	assert.Zero(t, pub.ClientID, "client id is sealed")

	pt, _, err := decodePublicToken(b)
	require.NoError(t, err)
	h := hello{ProtocolID: pt.ProtocolID, Secure: true, TokenExpires: pt.Expires, TokenNonce: pt.Nonce, TokenSealed: pt.Sealed}
	op, err := newTokenOpener(key)
	require.NoError(t, err)
	var priv privateToken
	require.NoError(t, op.open(&h, &priv))
	assert.Equal(t, ClientID(991), priv.ClientID)
	assert.Equal(t, "player=ada", string(priv.UserData[:priv.UserDataLen]))
	assert.Equal(t, pub.ClientToServerKey, priv.C2SKey)
	assert.Equal(t, pub.ServerToClientKey, priv.S2CKey)
	assert.Equal(t, pt.Addrs, priv.Addrs)

	t.Run("tampered sealed part", func(t *testing.T) {
		bad := h
		bad.TokenSealed[10] ^= 1
		assert.ErrorIs(t, op.open(&bad, &priv), ErrInvalidToken)
	})
	t.Run("extended expiry", func(t *testing.T) {
		bad := h
		bad.TokenExpires += 1000
		assert.ErrorIs(t, op.open(&bad, &priv), ErrInvalidToken)
	})
	t.Run("other protocol", func(t *testing.T) {
		bad := h
		bad.ProtocolID++
		assert.ErrorIs(t, op.open(&bad, &priv), ErrInvalidToken)
	})
	t.Run("other key", func(t *testing.T) {
		other, err := newTokenOpener([KeySize]byte{1})
		require.NoError(t, err)
		assert.ErrorIs(t, other.open(&h, &priv), ErrInvalidToken)
	})
}

func TestIssueTokenRejects(t *testing.T) {
	rng := newSeededReader(2)
	many := make([]netip.AddrPort, MaxTokenServers+1)
	for i := range many {
		many[i] = netip.MustParseAddrPort("127.0.0.1:1")
	}
	tests := []struct {
		name string
		edit func(*ConnectToken)
	}{
		{"no server", func(c *ConnectToken) { c.ServerAddrs = nil }},
		{"too many servers", func(c *ConnectToken) { c.ServerAddrs = many }},
		{"invalid server", func(c *ConnectToken) { c.ServerAddrs = []netip.AddrPort{{}} }},
		{"user data too long", func(c *ConnectToken) { c.UserData = make([]byte, MaxTokenUserData+1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := testToken(time.Now())
			tt.edit(&tok)
			_, err := IssueConnectToken([KeySize]byte{}, tok, rng)
			assert.ErrorIs(t, err, ErrInvalidToken)
		})
	}
	_, err := ParseConnectToken([]byte{wireVersion, 1, 2})
	assert.ErrorIs(t, err, ErrInvalidToken)
}

func FuzzDecodePublicToken(f *testing.F) {
	rng := newSeededReader(3)
	b, err := IssueConnectToken([KeySize]byte{4}, testToken(time.UnixMilli(1e12)), rng)
	require.NoError(f, err)
	f.Add(b)
	f.Add(b[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, n, err := decodePublicToken(b)
		if err != nil {
			return
		}
		again := appendPublicToken(nil, &pt)
		pt2, _, err := decodePublicToken(again)
		require.NoError(t, err)
		assert.Equal(t, pt, pt2)
		assert.Equal(t, PublicTokenSize, n)
	})
}

func FuzzDecodePrivateToken(f *testing.F) {
	priv := privateToken{ClientID: 5, NumAddrs: 1, UserDataLen: 3}
	priv.Addrs[0] = netip.MustParseAddrPort("10.0.0.1:7777")
	copy(priv.UserData[:], "abc")
	f.Add(appendPrivateToken(nil, &priv))
	f.Add(bytes.Repeat([]byte{0xff}, privateTokenSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p privateToken
		if _, err := decodePrivateToken(b, &p); err != nil {
			return
		}
		var p2 privateToken
		_, err := decodePrivateToken(appendPrivateToken(nil, &p), &p2)
		require.NoError(t, err)
		assert.Equal(t, p.ClientID, p2.ClientID)
		assert.Equal(t, p.Addrs, p2.Addrs)
		assert.Equal(t, p.UserData[:p.UserDataLen], p2.UserData[:p2.UserDataLen])
	})
}
