package netcode

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// BenchmarkServerRoomsTick measures the connection layer's share of one
// tick of a relay server: clients in rooms of 20, every fifth client
// sending a 32-byte update each tick (one every 50 ms on 10 ms ticks) that
// the server forwards on the unreliable channel to the 19 others of its
// room, then the Flush that packs each member's forwards into its packet.
// The acks the clients send back go through the receive path too. The
// peers' own work is outside the timer. It is the rooms workload of
// `make bench-peers` without the sockets. Target: 0 allocs/op.
func BenchmarkServerRoomsTick(b *testing.B) {
	const roomSize, chUpdate = 20, 1
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			const basePort = 10000
			inbox := make([][][]byte, n) // by peer: datagrams the server sent it
			for i := range inbox {
				inbox[i] = make([][]byte, 0, 4)
			}
			pc := &captureConn{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7000}, closed: make(chan struct{})}
			pc.onSend = func(to *net.UDPAddr, p []byte) {
				box := &inbox[to.Port-basePort]
				if len(*box) < cap(*box) {
					*box = (*box)[:len(*box)+1]
					(*box)[len(*box)-1] = append((*box)[len(*box)-1][:0], p...)
				}
			}
			s, err := NewServer(pc, ServerConfig{ProtocolID: 1, MaxClients: n, SendInline: true})
			require.NoError(b, err)
			defer s.Close()
			now := time.Now()
			type peer struct {
				addr netip.AddrPort
				conn *serverConn
				ep   *endpoint.Endpoint
				seq  uint64
				pkt  []byte // its datagram of this tick, or empty
			}
			peers := make([]*peer, n)
			for i := range peers {
				p := &peer{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(basePort+i))}
				h := hello{ClientNonce: uint64(i)}
				require.NoError(b, s.accept(ClientID(i+1), p.addr, &h, now))
				p.conn = s.byID[ClientID(i+1)]
				p.ep, err = endpoint.NewEndpoint(s.common.endpoint, now)
				require.NoError(b, err)
				p.pkt = make([]byte, 0, maxDatagramSize)
				peers[i] = p
			}
			s.batch.reset()
			update := make([]byte, 32)
			var plain *packetCipher // insecure: no sealing
			tick, forwards := 0, 0
			peersBuild := func() {
				now = now.Add(10 * time.Millisecond)
				for i, p := range peers {
					for _, d := range inbox[i] {
						if h, k, err := decodeConnHeader(d); err == nil && h.Type == ptPayload {
							_ = p.ep.Receive(now, d[k:])
						}
					}
					inbox[i] = inbox[i][:0]
					for _, ok := p.ep.ReadMessage(chUpdate); ok; _, ok = p.ep.ReadMessage(chUpdate) {
						forwards++
					}
					if i%5 == tick%5 {
						binary.LittleEndian.PutUint64(update, uint64(i))
						if _, err := p.ep.Send(chUpdate, update); err != nil {
							b.Fatal(err)
						}
					}
					p.pkt = p.pkt[:0]
					p.ep.Flush(now, func(body []byte) {
						p.seq++
						p.pkt = plain.appendConnPacket(p.pkt[:0], connHeader{Type: ptPayload, ConnID: p.conn.connID, Seq: p.seq}, body)
					})
				}
			}
			serverTick := func() {
				for _, p := range peers {
					if len(p.pkt) > 0 {
						s.handle(p.pkt, p.addr, now)
					}
				}
				for i, p := range peers {
					room := i / roomSize * roomSize
					for msg, ok := s.ReadMessage(p.conn.id, chUpdate); ok; msg, ok = s.ReadMessage(p.conn.id, chUpdate) {
						for m := room; m < room+roomSize && m < n; m++ {
							if m != i {
								if _, err := s.Send(peers[m].conn.id, chUpdate, msg); err != nil {
									b.Fatal(err)
								}
							}
						}
					}
				}
				s.Flush(now)
				tick++
			}
			for range 100 { // warm up: the steady state of a running server
				peersBuild()
				serverTick()
			}
			forwards = 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				peersBuild()
				b.StartTimer()
				serverTick()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/client")
			if want := b.N * n / 5 * (roomSize - 1); forwards < want*9/10 {
				b.Fatalf("%d forwards read by the peers, want about %d", forwards, want)
			}
			if d := s.Stats().Dropped(); d != 0 {
				b.Fatalf("dropped %d: %+v", d, s.Stats())
			}
		})
	}
}
