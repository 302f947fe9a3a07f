package netcode

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"
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
			now := time.Now()
			s, peers := newBenchServer(b, n, ServerConfig{ProtocolID: 1, MaxClients: n, SendInline: true}, now)
			defer s.Close()
			update := make([]byte, 32)
			tick, forwards := 0, 0
			peersBuild := func() {
				now = now.Add(10 * time.Millisecond)
				for i, p := range peers {
					p.receive(now)
					for _, ok := p.ep.ReadMessage(chUpdate); ok; _, ok = p.ep.ReadMessage(chUpdate) {
						forwards++
					}
					if i%5 == tick%5 {
						binary.LittleEndian.PutUint64(update, uint64(i))
						if _, err := p.ep.Send(chUpdate, update); err != nil {
							b.Fatal(err)
						}
					}
					p.flush(now)
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
			runBenchTicks(b, s, n, peersBuild, serverTick)
			// Every tick a fifth of the clients send; the peers read a
			// tick's forwards at the next (the last tick's are not read).
			if want := (benchWarmTicks + b.N - 1) * n / 5 * (roomSize - 1); forwards != want {
				b.Fatalf("%d forwards read by the peers, want %d", forwards, want)
			}
		})
	}
}
