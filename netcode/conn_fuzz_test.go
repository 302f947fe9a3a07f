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
	f.Add(append(connHeader{Type: ptDisconnect, ConnID: 1, Seq: 2}.append(nil), byte(ReasonClosed)), true)
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
