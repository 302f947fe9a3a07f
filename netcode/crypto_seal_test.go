package netcode

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCookie(t *testing.T) {
	jar := newCookieJar([KeySize]byte{7}, 10*time.Second)
	now := time.UnixMilli(1_700_000_000_000)
	addr := netip.MustParseAddrPort("127.0.0.1:4000")
	h := testHello(true)
	h.Cookie = jar.mint(now, addr, &h)

	tests := []struct {
		name        string
		now         time.Time
		addr        netip.AddrPort
		edit        func(*hello)
		ok, expired bool
	}{
		{"valid", now.Add(time.Second), addr, nil, true, false},
		{"valid from mapped address", now, netip.MustParseAddrPort("[::ffff:127.0.0.1]:4000"), nil, true, false},
		{"other port", now, netip.MustParseAddrPort("127.0.0.1:4001"), nil, false, false},
		{"other nonce", now, addr, func(h *hello) { h.ClientNonce++ }, false, false},
		{"other token", now, addr, func(h *hello) { h.TokenNonce[0]++ }, false, false},
		{"forged mac", now, addr, func(h *hello) { h.Cookie.MAC[3] ^= 1 }, false, false},
		{"moved timestamp", now, addr, func(h *hello) { h.Cookie.Timestamp-- }, false, false},
		{"expired", now.Add(11 * time.Second), addr, nil, false, true},
		{"from the future", now.Add(-2 * time.Second), addr, nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hh := h
			if tt.edit != nil {
				tt.edit(&hh)
			}
			want, expired := jar.expect(tt.now, tt.addr, &hh)
			assert.Equal(t, tt.ok, !expired && tagEqual(&want.MAC, &hh.Cookie.MAC))
			assert.Equal(t, tt.expired, expired)
		})
	}
	other := newCookieJar([KeySize]byte{8}, 10*time.Second)
	want, _ := other.expect(now, addr, &h)
	assert.False(t, tagEqual(&want.MAC, &h.Cookie.MAC), "another server's secret")
}

func TestPacketCipher(t *testing.T) {
	k1, k2 := [KeySize]byte{1}, [KeySize]byte{2}
	client, err := newPacketCipher(k1, k2)
	require.NoError(t, err)
	server, err := newPacketCipher(k2, k1)
	require.NoError(t, err)

	hdr := connHeader{Type: ptPayload, ConnID: 9, Seq: 1234}
	body := []byte("hello, server")
	pkt := client.appendConnPacket(make([]byte, 0, 64), hdr, body)
	require.Len(t, pkt, connHeaderSize+len(body)+aeadTagSize)
	assert.NotContains(t, string(pkt), "hello")

	open := func(p []byte) ([]byte, error) {
		p = append([]byte(nil), p...)
		h, _, err := decodeConnHeader(p)
		require.NoError(t, err)
		return server.openConnPacket(p, h)
	}
	got, err := open(pkt)
	require.NoError(t, err)
	assert.Equal(t, body, got)

	for i := range pkt {
		bad := append([]byte(nil), pkt...)
		bad[i] ^= 0x40
		if _, _, err := decodeConnHeader(bad); err != nil {
			continue // the type byte no longer decodes
		}
		_, err := open(bad)
		assert.ErrorIs(t, err, errBadConnPacket, "flipped byte %d", i)
	}
	_, err = open(pkt[:connHeaderSize+aeadTagSize-1])
	assert.ErrorIs(t, err, errBadConnPacket)

	// The client's own key does not open its packets (per-direction keys).
	h, _, _ := decodeConnHeader(pkt)
	_, err = client.openConnPacket(append([]byte(nil), pkt...), h)
	assert.ErrorIs(t, err, errBadConnPacket)

	// Insecure mode: nil cipher passes the body through.
	var none *packetCipher
	clear := none.appendConnPacket(nil, hdr, body)
	got, err = none.openConnPacket(clear, hdr)
	require.NoError(t, err)
	assert.Equal(t, body, got)
}

func TestReplayWindow(t *testing.T) {
	type step struct {
		seq        uint64
		ok, tooOld bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{1, true, false}, {2, true, false}, {3, true, false}}},
		{"replay", []step{{5, true, false}, {5, false, false}}},
		{"reorder within window", []step{{10, true, false}, {8, true, false}, {9, true, false}, {8, false, false}}},
		{"too old", []step{{1000, true, false}, {1000 - replayWindowSize, false, true}, {1000 - replayWindowSize + 1, true, false}}},
		{"big jump clears", []step{{3, true, false}, {3 + 10*replayWindowSize, true, false}, {3 + 10*replayWindowSize - 1, true, false}}},
		{"slot reuse after advance", []step{{0, true, false}, {replayWindowSize, true, false}, {1, true, false}, {replayWindowSize + 1, true, false}, {1, false, true}}},
		{"first packet any sequence", []step{{1 << 60, true, false}, {1<<60 - 1, true, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w replayWindow
			for i, s := range tt.steps {
				ok, tooOld := w.check(s.seq)
				assert.Equal(t, s.ok, ok, "step %d seq %d ok", i, s.seq)
				assert.Equal(t, s.tooOld, tooOld, "step %d seq %d tooOld", i, s.seq)
				if ok {
					w.accept(s.seq)
				}
			}
		})
	}
}

func BenchmarkPacketCipher(b *testing.B) {
	c, _ := newPacketCipher([KeySize]byte{1}, [KeySize]byte{1})
	body := make([]byte, 1100)
	buf := make([]byte, 0, 1200)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	seq := uint64(0)
	for b.Loop() {
		seq++
		h := connHeader{Type: ptPayload, ConnID: 1, Seq: seq}
		pkt := c.appendConnPacket(buf[:0], h, body)
		if _, err := c.openConnPacket(pkt, h); err != nil {
			b.Fatal(err)
		}
	}
}
