package server

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/server/wire"
)

// BenchmarkServerTick measures one snapshot tick (inputs, step, a snapshot
// per client built, delta-encoded and handed to the transport) with the
// fake transport acking every snapshot, for N clients each seeing about 30
// entities. ns/op is the tick's cost: at 60 Hz the budget is 16.7 ms. The
// fake transport copies nothing here, so allocs/op are the server's own
// (the game's test rules are O(players·entities) per snapshot, so ns/op is
// an upper bound of the server's share).
func BenchmarkServerTick(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("clients=%d/workers=%d", n, workers), func(b *testing.B) {
				g := newTestGame(n)
				g.Radius = 2500
				g.noRecord = true
				ts := newTestServer(b, Config{SnapshotRate: 60, SnapshotWorkers: workers}, g)
				w, err := wire.NewInputWriter(4)
				require.NoError(b, err)
				ts.tr.bench = true
				for c := range n {
					ts.tr.connect(ClientID(c + 1))
				}
				ts.stepTo(b, 0)
				msgs := make([][]byte, 0, 1<<16)
				b.ReportAllocs()
				ents, snaps := 0, 0
				for b.Loop() {
					tick := uint32(ts.next)
					w.Push(tick, []byte{1, 2})
					if len(msgs) == cap(msgs) {
						msgs = msgs[:0]
					}
					msgs = append(msgs, w.AppendMessage(nil))
					msg := msgs[len(msgs)-1]
					for c := range n {
						ts.tr.deliverShared(ClientID(c+1), DefaultInputChannel, msg)
					}
					ts.tr.acks = append(ts.tr.acks[:0], ts.tr.sent...)
					ts.tr.sent = ts.tr.sent[:0]
					ts.stepTo(b, ts.next)
					snaps += len(ts.tr.sent)
				}
				for _, ss := range ts.sessions {
					ents += ss.snap.Len()
				}
				b.ReportMetric(float64(ents)/float64(n), "entities/client")
			})
		}
	}
}
