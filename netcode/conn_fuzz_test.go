package netcode

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzServerHandle feeds arbitrary datagrams, from a connected client's
// address and from a stranger's, to a server's receive path. Nothing may
// panic, no connection may appear without a valid cookie, and every reply
// to the stranger must be smaller than what it sent.
func FuzzServerHandle(f *testing.F) {
	h := testHello(false)
	h.ProtocolID = 3
	f.Add(appendHello(nil, ptRequest, &h), true)
	f.Add(appendHello(nil, ptResponse, &h), false)
	f.Add(append(connHeader{Type: ptPayload, ConnID: 1, Seq: 1}.append(nil), 0, 0, 0, 0), true)
	f.Add(appendDisconnectBody(connHeader{Type: ptDisconnect, ConnID: 1, Seq: 2}.append(nil), ReasonClosed, 1), true)
	f.Add([]byte{byte(ptChallenge)}, false)

	pc := listenLoopback(f)
	s, err := NewServer(pc, ServerConfig{ProtocolID: 3, Rand: newSeededReader(5)})
	require.NoError(f, err)
	f.Cleanup(func() { s.Close() })
	now := time.Unix(1_700_000_000, 0)
	member := netip.MustParseAddrPort("127.0.0.1:9")
	stranger := netip.MustParseAddrPort("127.0.0.1:10")
	f.Fuzz(func(t *testing.T, b []byte, fromMember bool) {
		if s.byAddr[member] == nil {
			// (Re)connect the member directly; the fuzzer may have disconnected it.
			mh := hello{ClientNonce: 1}
			require.NoError(t, s.accept(ClientID(len(s.events)+1), member, &mh, now))
			s.batch.reset()
		}
		from := stranger
		if fromMember {
			from = member
		}
		before := len(s.batch.out)
		s.handle(b, from, now)
		if !fromMember {
			for _, o := range s.batch.out[before:] {
				require.Equal(t, stranger, o.to)
				require.Less(t, len(o.buf), len(b), "reply to an unverified address larger than the datagram")
			}
			require.Nil(t, s.byAddr[stranger], "connection without a cookie")
		}
		require.LessOrEqual(t, len(s.byAddr), 1)
		s.batch.reset()
		s.Flush(now)
	})
}

// FuzzSecureServerHandle feeds arbitrary datagrams to a secure server's
// receive path, seeded with a valid request and a response with its key
// proof. Nothing may panic, every reply to the stranger must be smaller
// than what it sent, and only a full-size response can make a connection.
func FuzzSecureServerHandle(f *testing.F) {
	key := [KeySize]byte{3}
	now := time.Unix(1_700_000_000, 0)
	s, err := NewServer(newChanConn(), ServerConfig{ProtocolID: 9, TokenKey: &key, Rand: newSeededReader(5),
		Clock: func() time.Time { return now }})
	require.NoError(f, err)
	f.Cleanup(func() { s.Close() })
	stranger := netip.MustParseAddrPort("127.0.0.1:10")
	tokBytes, err := IssueConnectToken(key, ConnectToken{ProtocolID: 9, ClientID: 5, Expires: now.Add(time.Hour),
		ServerAddrs: []netip.AddrPort{s.public}}, newSeededReader(6))
	require.NoError(f, err)
	tok, _, err := decodePublicToken(tokBytes)
	require.NoError(f, err)
	c := newFakeClient(1, &tok)
	f.Add(c.request())
	s.handle(c.request(), stranger, now)
	require.Len(f, s.batch.out, 1)
	f.Add(s.batch.out[0].buf)
	f.Add(c.response(f, s.batch.out[0].buf, true))
	f.Add(c.response(f, s.batch.out[0].buf, false))
	s.batch.reset()
	f.Fuzz(func(t *testing.T, b []byte) {
		before := len(s.batch.out)
		s.handle(b, stranger, now)
		for _, o := range s.batch.out[before:] {
			require.Less(t, len(o.buf), len(b), "reply to an unverified address larger than the datagram")
		}
		if conn := s.byAddr[stranger]; conn != nil {
			require.Equal(t, helloSize, len(b), "a connection from a %d-byte datagram", len(b))
			require.Equal(t, byte(ptResponse), b[0])
			s.remove(conn, ReasonKicked, false)
		}
		s.batch.reset()
		for _, ok := s.PollEvent(); ok; _, ok = s.PollEvent() {
		}
	})
}
