package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

const protocol = 0x70C3E5

// pipeServer is the server end's address of a netsim.Pipe.
var pipeServer = netip.MustParseAddrPort("192.0.2.2:10002")

type fixture struct {
	h   *Handler
	key [netcode.KeySize]byte
	now time.Time
}

// newFixture returns a handler with a shared secret, rooms "arena-1" and
// "arena-2", the servers given (the pipe's server end by default), a
// stepped clock and a seeded rand.
func newFixture(t testing.TB, mod func(*Config)) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)}
	rnd := rand.NewChaCha8([32]byte{1})
	var err error
	f.key, err = netcode.GenerateKey(rnd)
	require.NoError(t, err)
	p, err := NewPicker([]netip.AddrPort{pipeServer})
	require.NoError(t, err)
	cfg := Config{
		Key: f.key, ProtocolID: protocol, Auth: SharedSecret("s3cret"), Picker: p,
		Rooms: func(room string) bool { return room == "arena-1" || room == "arena-2" },
		Rate:  2, Burst: 3, Now: func() time.Time { return f.now }, Rand: rnd,
	}
	if mod != nil {
		mod(&cfg)
	}
	f.h, err = New(cfg)
	require.NoError(t, err)
	return f
}

// post sends a token request as player with the given secret and body.
func (f *fixture) post(secret, player, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
	if secret != "" {
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	if player != "" {
		r.Header.Set("X-Player-ID", player)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

// TestIssueTokenTheServerAccepts: a valid request gets a token, and a
// netcode server in secure mode with the same key accepts it and sees the
// room as the token's user data.
func TestIssueTokenTheServerAccepts(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.post("s3cret", "ana", `{"room":"arena-2"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	resp := decode[Response](t, rec)
	assert.Equal(t, pipeServer.String(), resp.Server)
	assert.Equal(t, "arena-2", resp.Room)
	assert.Equal(t, f.now.Add(DefaultTokenTTL), resp.ExpiresAt)
	tok, err := base64.StdEncoding.DecodeString(resp.Token)
	require.NoError(t, err)
	require.Len(t, tok, netcode.PublicTokenSize)
	pub, err := netcode.ParseConnectToken(tok)
	require.NoError(t, err)
	assert.Equal(t, []netip.AddrPort{pipeServer}, pub.ServerAddrs)

	synctest.Test(t, func(t *testing.T) {
		cpc, spc := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
		srv, err := netcode.NewServer(spc, netcode.ServerConfig{ProtocolID: protocol, TokenKey: &f.key})
		require.NoError(t, err)
		joined := make(chan []byte, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		defer func() { cancel(); <-done }()
		go func() { // the server's loop owns srv
			defer close(done)
			defer srv.Close()
			for ctx.Err() == nil {
				srv.Update(time.Now())
				for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
					if info, ok := srv.Client(ev.Client); ok && ev.Kind == netcode.EventConnect {
						joined <- info.UserData
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		// The token expires at f.now+30s on the handler's clock; the
		// bubble's clock starts at 2000-01-01, well before.
		cli, err := netcode.DialConn(t.Context(), cpc, pipeServer, netcode.ClientConfig{ProtocolID: protocol, Token: tok})
		require.NoError(t, err)
		defer cli.Close()
		assert.Equal(t, "arena-2", string(<-joined), "the server reads the room from the token's user data")
	})
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name           string
		secret, player string
		body           string
		status         int
		code, msg      string
	}{
		{"no authorization", "", "ana", `{"room":"arena-1"}`, 401, "unauthorized", `no "Authorization: Bearer <token>" header`},
		{"bad secret", "guess", "ana", `{"room":"arena-1"}`, 401, "unauthorized", "the bearer token is not the shared secret"},
		{"no player", "s3cret", "", `{"room":"arena-1"}`, 401, "unauthorized", `X-Player-ID "": want 1..64 bytes`},
		{"unknown room", "s3cret", "ana", `{"room":"arena-9"}`, 404, "unknown_room", `room "arena-9" does not exist`},
		{"bad room name", "s3cret", "ana", `{"room":"a b"}`, 400, "bad_request", `room "a b": byte 1 is ' '`},
		{"long room name", "s3cret", "ana", `{"room":"` + strings.Repeat("r", 65) + `"}`, 400, "bad_request", "65 bytes, want at most 64"},
		{"not JSON", "s3cret", "ana", `room=arena-1`, 400, "bad_request", `want JSON like {"room": "arena-1"}`},
		{"body too large", "s3cret", "ana", `{"room":"` + strings.Repeat(" ", MaxRequestBody) + `"}`, 400, "bad_request", "at most 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			rec := f.post(tt.secret, tt.player, tt.body)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			e := decode[ErrorResponse](t, rec)
			assert.Equal(t, tt.code, e.Error)
			assert.True(t, strings.HasPrefix(e.Message, "tokens: "), e.Message)
			assert.Contains(t, e.Message, tt.msg)
			if tt.status == 401 {
				assert.Equal(t, `Bearer realm="tickwire"`, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestNoRoomAndMethod(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.post("s3cret", "ana", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, decode[Response](t, rec).Room)

	r := httptest.NewRequest(http.MethodGet, "/token", nil)
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
	assert.Equal(t, "method_not_allowed", decode[ErrorResponse](t, rec).Error)
}

// TestRateLimit: a flood from one caller is refused after its burst with
// 429 and a Retry-After; other callers are not affected; the bucket
// refills at Rate.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, nil) // 2/s, burst 3
	for i := range 3 {
		require.Equal(t, http.StatusOK, f.post("s3cret", "ana", "").Code, "request %d within the burst", i)
	}
	for range 100 {
		rec := f.post("s3cret", "ana", "")
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		e := decode[ErrorResponse](t, rec)
		assert.Equal(t, "rate_limited", e.Error)
		assert.Contains(t, e.Message, `caller "ana"`)
	}
	assert.Equal(t, http.StatusOK, f.post("s3cret", "bob", "").Code, "another caller has a bucket of its own")
	f.now = f.now.Add(499 * time.Millisecond)
	assert.Equal(t, http.StatusTooManyRequests, f.post("s3cret", "ana", "").Code, "refused requests took no token")
	f.now = f.now.Add(time.Millisecond)
	assert.Equal(t, http.StatusOK, f.post("s3cret", "ana", "").Code, "one token after 500 ms at 2/s")
}

// TestRateLimitRemembersBoundedCallers: past MaxCallers the least recently
// seen caller is forgotten.
func TestRateLimitRemembersBoundedCallers(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxCallers, c.Burst = 3, 1 })
	for i := range 10 {
		require.Equal(t, http.StatusOK, f.post("s3cret", fmt.Sprint("p", i), "").Code)
	}
	assert.Equal(t, 3, f.h.limiter.callers())
	assert.Equal(t, http.StatusTooManyRequests, f.post("s3cret", "p9", "").Code, "p9 is remembered")
	assert.Equal(t, http.StatusOK, f.post("s3cret", "p0", "").Code, "p0 was forgotten: a full bucket")
	assert.Equal(t, 3, f.h.limiter.callers())
}

func TestBearerTokens(t *testing.T) {
	file := "# token caller\n\nAAAAAAAAAAAAAAAAAAAA web-eu\nBBBBBBBBBBBBBBBBBBBB  web-us\n"
	toks, err := ParseTokenFile(strings.NewReader(file))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"AAAAAAAAAAAAAAAAAAAA": "web-eu", "BBBBBBBBBBBBBBBBBBBB": "web-us"}, toks)
	f := newFixture(t, func(c *Config) { c.Auth = BearerTokens(toks) })
	rec := f.post("BBBBBBBBBBBBBBBBBBBB", "", `{"room":"arena-1"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = f.post("CCCCCCCCCCCCCCCCCCCC", "", `{"room":"arena-1"}`)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, decode[ErrorResponse](t, rec).Message, "unknown bearer token")

	for _, tt := range []struct{ file, want string }{
		{"short web\n", "line 1: a token of 5 bytes, want at least 16"},
		{"# c\nAAAAAAAAAAAAAAAAAAAA\n", "line 2: 1 fields"},
		{"AAAAAAAAAAAAAAAAAAAA a\nAAAAAAAAAAAAAAAAAAAA b\n", "line 2: a token listed before"},
		{"AAAAAAAAAAAAAAAAAAAA a\x01\n", `line 1: caller id "a\x01": byte 1`},
		{"# nothing\n", "lists no token"},
	} {
		_, err := ParseTokenFile(strings.NewReader(tt.file))
		require.Error(t, err, tt.file)
		assert.Contains(t, err.Error(), tt.want)
		assert.True(t, strings.HasPrefix(err.Error(), "tokens: "))
	}
}

// TestPicker: a room always goes to the same server, rooms spread over the
// servers, and no room means round-robin.
func TestPicker(t *testing.T) {
	servers := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:7777"), netip.MustParseAddrPort("10.0.0.2:7777"), netip.MustParseAddrPort("10.0.0.3:7777"),
	}
	p, err := NewPicker(servers)
	require.NoError(t, err)
	perServer := map[netip.AddrPort]int{}
	for i := range 300 {
		room := fmt.Sprint("room-", i)
		a, err := p.Pick(room)
		require.NoError(t, err)
		b, _ := p.Pick(room)
		require.Equal(t, a, b, "room %s moved", room)
		perServer[a]++
	}
	for _, s := range servers {
		assert.Greater(t, perServer[s], 60, "rooms spread: %v", perServer)
	}
	// Removing a server moves only its rooms.
	p2, err := NewPicker(servers[:2])
	require.NoError(t, err)
	for i := range 300 {
		room := fmt.Sprint("room-", i)
		a, _ := p.Pick(room)
		b, _ := p2.Pick(room)
		if a != servers[2] {
			assert.Equal(t, a, b, "room %s moved though its server stayed", room)
		}
	}
	var got []netip.AddrPort
	for range 4 {
		a, _ := p.Pick("")
		got = append(got, a)
	}
	assert.Equal(t, []netip.AddrPort{servers[0], servers[1], servers[2], servers[0]}, got)

	_, err = NewPicker(nil)
	assert.ErrorContains(t, err, "no server")
	_, err = NewPicker([]netip.AddrPort{servers[0], servers[0]})
	assert.ErrorContains(t, err, "10.0.0.1:7777 listed twice")
	_, err = NewPicker([]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:0")})
	assert.ErrorContains(t, err, "want an IP and a port 1..65535")
}

func TestNoServer(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Picker = PickerFunc(func(string) (netip.AddrPort, error) { return netip.AddrPort{}, ErrNoServer })
	})
	rec := f.post("s3cret", "ana", "")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "no_server", decode[ErrorResponse](t, rec).Error)
}

func TestUserDataHook(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.UserData = func(caller Caller, room string) ([]byte, error) { return []byte(room + "/" + caller.ID), nil }
	})
	rec := f.post("s3cret", "ana", `{"room":"arena-1"}`)
	require.Equal(t, http.StatusOK, rec.Code)
	f2 := newFixture(t, func(c *Config) {
		c.UserData = func(Caller, string) ([]byte, error) { return nil, fmt.Errorf("no team for this player") }
	})
	rec = f2.post("s3cret", "ana", `{"room":"arena-1"}`)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, decode[ErrorResponse](t, rec).Message, "no team for this player")
	f3 := newFixture(t, func(c *Config) {
		c.UserData = func(Caller, string) ([]byte, error) { return make([]byte, netcode.MaxTokenUserData+1), nil }
	})
	rec = f3.post("s3cret", "ana", `{"room":"arena-1"}`)
	require.Equal(t, http.StatusInternalServerError, rec.Code, "oversized user data is the game's bug")
	assert.Equal(t, "internal", decode[ErrorResponse](t, rec).Error)
}

func TestNewValidates(t *testing.T) {
	p, err := NewPicker([]netip.AddrPort{pipeServer})
	require.NoError(t, err)
	good := Config{Key: [netcode.KeySize]byte{1}, ProtocolID: 1, Auth: SharedSecret("x"), Picker: p}
	_, err = New(good)
	require.NoError(t, err)
	for _, tt := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Key = [netcode.KeySize]byte{} }, "Key is all zero"},
		{func(c *Config) { c.ProtocolID = 0 }, "ProtocolID is 0"},
		{func(c *Config) { c.Auth = nil }, "Auth is nil"},
		{func(c *Config) { c.Picker = nil }, "Picker is nil"},
		{func(c *Config) { c.TokenTTL = 2 * time.Hour }, "TokenTTL = 2h0m0s, want 0 (default 30s) up to 1h0m0s"},
		{func(c *Config) { c.Rate = -1 }, "Rate = -1"},
		{func(c *Config) { c.Burst = -1 }, "Burst = -1"},
		{func(c *Config) { c.MaxCallers = -1 }, "MaxCallers = -1"},
	} {
		c := good
		tt.mod(&c)
		_, err := New(c)
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func TestParseKey(t *testing.T) {
	k, err := ParseKey([]byte(" " + strings.Repeat("0f", netcode.KeySize) + "\n"))
	require.NoError(t, err)
	assert.Equal(t, byte(0x0f), k[31])
	for _, tt := range []struct{ in, want string }{
		{"abcd", "tokens: a key of 4 characters, want 64 hex digits"},
		{strings.Repeat("zz", 32), "a key of 64 characters, want 64 hex digits"},
		{strings.Repeat("00", 33), "a key of 66 characters"},
		{strings.Repeat("00", 32), "tokens: the key is all zero"},
	} {
		_, err := ParseKey([]byte(tt.in))
		assert.ErrorContains(t, err, tt.want, tt.in)
	}
}
