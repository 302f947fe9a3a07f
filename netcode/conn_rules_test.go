package netcode

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handshakeDriver drives a Server's handshake directly: it hands it
// datagrams as from a given address at an explicit time and returns what the
// server queued in answer. No goroutine runs the server; the reader waits on
// a chanConn nobody feeds.
type handshakeDriver struct {
	t     *testing.T
	s     *Server
	now   time.Time
	key   [KeySize]byte
	seeds byte // tokens issued: each has its own nonce and keys
}

func newHandshakeDriver(t *testing.T, secure bool, edit func(*ServerConfig)) *handshakeDriver {
	d := &handshakeDriver{t: t, now: time.Unix(1_700_000_000, 0), key: [KeySize]byte{3}}
	cfg := ServerConfig{ProtocolID: 9, Rand: newSeededReader(1), Clock: func() time.Time { return d.now }}
	if secure {
		cfg.TokenKey = &d.key
	}
	if edit != nil {
		edit(&cfg)
	}
	var err error
	d.s, err = NewServer(newChanConn(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { d.s.Close() })
	return d
}

// send hands b to the server as from from and returns the datagrams the
// server queued for from.
func (d *handshakeDriver) send(b []byte, from netip.AddrPort) [][]byte {
	d.s.batch.reset()
	d.s.handle(b, from, d.now)
	var out [][]byte
	for _, o := range d.s.batch.out {
		if o.to == from {
			out = append(out, append([]byte(nil), o.buf...))
		}
	}
	d.s.batch.reset()
	return out
}

// token issues a token for id and returns the public part the client holds.
func (d *handshakeDriver) token(id ClientID) publicToken {
	b, err := IssueConnectToken(d.key, ConnectToken{ProtocolID: 9, ClientID: id, Expires: d.now.Add(time.Hour),
		ServerAddrs: []netip.AddrPort{d.s.public}}, newSeededReader(100+d.seeds))
	d.seeds++
	require.NoError(d.t, err)
	pt, _, err := decodePublicToken(b)
	require.NoError(d.t, err)
	return pt
}

// fakeClient builds the handshake packets of a client with a nonce and,
// in secure mode, a token.
type fakeClient struct {
	h    hello
	keys *handshakeKeys
}

func newFakeClient(nonce uint64, tok *publicToken) *fakeClient {
	c := &fakeClient{h: hello{Wire: wireVersion, ProtocolID: 9, ClientNonce: nonce}}
	if tok != nil {
		c.h.Secure, c.h.TokenExpires, c.h.TokenNonce, c.h.TokenSealed = true, tok.Expires, tok.Nonce, tok.Sealed
		c.keys = newHandshakeKeys()
		c.keys.derive(&tok.C2SKey, &tok.S2CKey)
	}
	return c
}

func (c *fakeClient) request() []byte { return appendHello(nil, ptRequest, &c.h) }

// response answers challenge, with the key proof when withProof (and the
// client is secure), else with the cookie echoed as it came.
func (c *fakeClient) response(t testing.TB, challenge []byte, withProof bool) []byte {
	nonce, ck, tag, sealed, err := decodeChallenge(challenge)
	require.NoError(t, err)
	require.Equal(t, c.h.ClientNonce, nonce)
	require.Equal(t, c.keys != nil, sealed)
	if sealed {
		want := c.keys.challengeTag(nonce, ck)
		require.True(t, tagEqual(&want, &tag), "the challenge authenticates")
	}
	h := c.h
	h.Cookie = ck
	if c.keys != nil && withProof {
		h.Cookie.MAC = c.keys.proof(nonce, ck)
	}
	return appendHello(nil, ptResponse, &h)
}

// connect runs c's handshake from addr to the end and returns the accept.
func (d *handshakeDriver) connect(c *fakeClient, from netip.AddrPort) []byte {
	out := d.send(c.request(), from)
	require.Len(d.t, out, 1)
	out = d.send(c.response(d.t, out[0], true), from)
	require.Len(d.t, out, 1)
	require.Equal(d.t, ptAccept, connPacketType(out[0][0]))
	return out[0]
}

func TestHandshakeNeverTakesOverAConnection(t *testing.T) {
	a, b, c := testAddr(1), testAddr(2), testAddr(3)
	t.Run("plain: another nonce from a connected address", func(t *testing.T) {
		d := newHandshakeDriver(t, false, nil)
		first := newFakeClient(1, nil)
		d.connect(first, a)
		second := newFakeClient(2, nil)
		assert.Empty(t, d.send(second.request(), a), "ignored")
		assert.Equal(t, uint64(1), d.s.Stats().Refused[RefuseAddrInUse])
		// The first client's handshake packets, resent because its accept
		// was lost, are answered.
		ch := d.send(first.request(), a)
		require.Len(t, ch, 1)
		acc := d.send(first.response(t, ch[0], false), a)
		require.Len(t, acc, 1)
		assert.Equal(t, ptAccept, connPacketType(acc[0][0]))
		assert.Equal(t, uint64(1), d.s.Stats().Accepted)
	})
	t.Run("secure: the token or client id of a connection", func(t *testing.T) {
		d := newHandshakeDriver(t, true, nil)
		tok := d.token(5)
		player := newFakeClient(1, &tok)
		d.connect(player, a)

		// The player's request replayed from b, and the same token with
		// another nonce (a second device holding it): ignored.
		assert.Empty(t, d.send(player.request(), b))
		thief := newFakeClient(2, &tok)
		assert.Empty(t, d.send(thief.request(), b))
		assert.Equal(t, uint64(2), d.s.Stats().Refused[RefuseTokenInUse])
		// Another token for the same client id: ignored too.
		other := d.token(5)
		assert.Empty(t, d.send(newFakeClient(3, &other).request(), c))
		assert.Equal(t, uint64(1), d.s.Stats().Refused[RefuseClientIDInUse])
		assert.Equal(t, uint64(1), d.s.Stats().Accepted)
		info, ok := d.s.Client(5)
		require.True(t, ok)
		assert.Equal(t, a, info.Addr)

		// Once the connection has ended, the replayed request gets a
		// challenge, but the echo without the keys is refused...
		require.NoError(t, d.s.Disconnect(5))
		ch := d.send(player.request(), b)
		require.Len(t, ch, 1)
		assert.Empty(t, d.send(player.response(t, ch[0], false), b))
		assert.Equal(t, uint64(1), d.s.Stats().Refused[RefuseKeyProof])
		// ...and the token's holder connects from a new address.
		d.connect(thief, b)
		info, ok = d.s.Client(5)
		require.True(t, ok)
		assert.Equal(t, b, info.Addr)
		assert.Equal(t, uint64(2), d.s.Stats().Accepted)
	})
}

// The server seals what it can: the challenge and the denials of a token
// that opened. A denial for a token that did not open cannot be sealed.
func TestSecureHandshakePacketsSealed(t *testing.T) {
	d := newHandshakeDriver(t, true, func(c *ServerConfig) { c.MaxClients = 1 })
	tok := d.token(5)
	cl := newFakeClient(1, &tok)
	d.connect(cl, testAddr(1))

	tok2 := d.token(6)
	full := newFakeClient(2, &tok2)
	out := d.send(full.request(), testAddr(2))
	require.Len(t, out, 1)
	nonce, r, tag, sealed, err := decodeDenied(out[0])
	require.NoError(t, err)
	assert.Equal(t, DenyServerFull, r)
	require.True(t, sealed)
	want := full.keys.deniedTag(nonce, r)
	assert.True(t, tagEqual(&want, &tag))
	wrongKeys := newFakeClient(2, &tok)
	wrong := wrongKeys.keys.deniedTag(nonce, r)
	assert.False(t, tagEqual(&wrong, &tag), "another token's keys do not check it")

	bad := full.h
	bad.TokenSealed[0] ^= 1
	out = d.send(appendHello(nil, ptRequest, &bad), testAddr(3))
	require.Len(t, out, 1)
	_, r, _, sealed, err = decodeDenied(out[0])
	require.NoError(t, err)
	assert.Equal(t, DenyTokenInvalid, r)
	assert.False(t, sealed)
}

func TestHSMACIsHMACSHA256(t *testing.T) {
	m := newHSMAC()
	for _, key := range [][]byte{{}, {1}, bytes.Repeat([]byte{0xab}, KeySize), bytes.Repeat([]byte{7}, sha256.BlockSize)} {
		for _, msg := range [][]byte{nil, []byte("tickwire"), bytes.Repeat([]byte{9}, 300)} {
			ref := hmac.New(sha256.New, key)
			ref.Write(msg)
			m.setKey(key)
			assert.Equal(t, ref.Sum(nil), m.sum(msg), "key %d bytes, msg %d bytes", len(key), len(msg))
		}
	}
	key, msg := []byte{1, 2}, []byte{3}
	allocs := testing.AllocsPerRun(100, func() { m.setKey(key); m.sum(msg) })
	assert.Zero(t, allocs)
}

func TestHandshakeTagsDiffer(t *testing.T) {
	k := newHandshakeKeys()
	k.derive(&[KeySize]byte{1}, &[KeySize]byte{2})
	ck := cookie{Timestamp: 5, MAC: [cookieMACSize]byte{6}}
	tags := map[[hsTagSize]byte]string{}
	add := func(name string, tag [hsTagSize]byte) {
		if prev, ok := tags[tag]; ok {
			t.Errorf("%s has the tag of %s", name, prev)
		}
		tags[tag] = name
	}
	add("challenge", k.challengeTag(1, ck))
	add("challenge, other nonce", k.challengeTag(2, ck))
	add("proof of the same cookie", k.proof(1, ck))
	add("denied", k.deniedTag(1, DenyServerFull))
	add("denied, other reason", k.deniedTag(1, DenyVersionMismatch))
	k.derive(&[KeySize]byte{1}, &[KeySize]byte{3})
	add("challenge, other key", k.challengeTag(1, ck))
}

func TestEchoProves(t *testing.T) {
	const nonce, first = 999, 1 << 40
	tests := []struct {
		name       string
		echo, last uint64
		want       bool
	}{
		{"the newest sent", first + 10, first + 10, true},
		{"an older one in the window", first + 1, first + 10, true},
		{"the nonce before anything arrived", nonce, first + 10, true},
		{"the nonce, nothing sent", nonce, first, true},
		{"0, nothing sent", 0, first, false},
		{"not sent yet", first + 11, first + 10, false},
		{"the first sequence itself (never sent)", first, first + 10, false},
		{"too old", first + 1, first + disconnectEchoWindow + 1, false},
		{"the oldest in the window", first + 2, first + disconnectEchoWindow + 1, true},
		{"zero", 0, first + 10, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, echoProves(tt.echo, nonce, first, tt.last), tt.name)
	}
	var w replayWindow
	assert.True(t, w.within(1<<60), "before the first packet")
	assert.Equal(t, uint64(nonce), w.echo(nonce))
	w.accept(100)
	assert.True(t, w.within(100+replayWindowSize))
	assert.False(t, w.within(101+replayWindowSize))
	assert.True(t, w.within(3), "old ones are the replay check's business")
	assert.Equal(t, uint64(100), w.echo(nonce))
}

func TestRefusalsLoggedRateLimited(t *testing.T) {
	var logs bytes.Buffer
	d := newHandshakeDriver(t, false, func(c *ServerConfig) {
		c.Version = 2
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	logs.Reset()
	cl := newFakeClient(1, nil) // version 0: denied
	for range 30 {
		require.Len(t, d.send(cl.request(), testAddr(1)), 1)
	}
	lines := func() []string { return strings.Split(strings.TrimSpace(logs.String()), "\n") }
	assert.Len(t, lines(), 10, "a burst of ten lines")
	assert.Contains(t, lines()[0], "reason=version_mismatch")
	assert.Contains(t, lines()[0], "addr=10.0.0.1:1")
	d.now = d.now.Add(time.Second)
	d.send(cl.request(), testAddr(1))
	require.Len(t, lines(), 11)
	assert.Contains(t, lines()[10], "suppressed=20")
	assert.Equal(t, uint64(31), d.s.Stats().Refused[RefuseVersionMismatch])
}

func TestStatsEnumerateEveryCounter(t *testing.T) {
	st := ServerStats{DropsQueueFull: 1, DropsHandshakeQueueFull: 2}
	st.Refused[RefuseKeyProof] = 3
	var names []string
	var sum uint64
	for name, v := range st.Drops() {
		names = append(names, name)
		sum += v
	}
	assert.Equal(t, []string{"queue_full", "malformed", "unknown_addr", "wrong_conn", "replayed", "auth", "bad_cookie",
		"expired_cookie", "endpoint", "unproven", "rate_limited", "handshake_queue_full"}, names, "every drop, zeros included")
	assert.Equal(t, uint64(3), sum)
	assert.Equal(t, uint64(3), st.Dropped())
	var reasons []string
	for r, v := range st.Refusals() {
		reasons = append(reasons, r.String())
		if r == RefuseKeyProof {
			assert.Equal(t, uint64(3), v)
		}
	}
	assert.Equal(t, []string{"server_full", "version_mismatch", "protocol_mismatch", "token_invalid", "token_expired",
		"token_wrong_server", "addr_in_use", "client_id_in_use", "token_in_use", "key_proof"}, reasons)
	for r := range st.Refusals() {
		if r <= RefuseTokenWrongServer {
			assert.Equal(t, RefuseReason(r), RefuseReason(DenyReason(r)), "numbered like the denial")
		}
	}
	assert.Equal(t, "refuse_reason_99", RefuseReason(99).String())
}
