package server

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// bigWorld is a world of n entities that all move every tick: entity i is
// at x = tick·(1+i%3) (so its x says which tick its values are from), and
// entity 0, the viewer's nearest, is urgent.
type bigWorld struct {
	testGame
	n int
}

func (g *bigWorld) Snapshot(tick uint32, dst *state.Snapshot) {
	for i := range g.n {
		f := dst.Add(uint32(1 + i))
		f[0], f[1] = int32(tick)*int32(1+i%3)%(1<<19), int32(i)
	}
}

func (g *bigWorld) Priority(_ PlayerID, world *state.Snapshot, i int) float32 {
	if world.IDs[i] == 1 {
		return UrgentPriority
	}
	return 1
}

// cappedRun streams a 1000-entity world for d to one client behind a 128
// kbit/s downlink with 50 ms each way, and reports the client's RTT after
// warm-up (median and max of its samples), the staleness of what it held
// (ticks), how often the urgent entity was fresh, and the snapshots it
// decoded.
type cappedResult struct {
	rttMedian, rttMax     time.Duration // the client's RTT samples after warm-up
	delayMedian, delayMax time.Duration // a snapshot's age when it arrives: the link's delay and queue
	maxStale              uint32
	snaps, urgentFresh    int
	entitiesSeen          int
}

func cappedRun(t *testing.T, budget int, congestion bool) cappedResult {
	var res cappedResult
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		hub := newPipeHub()
		defer hub.Close()
		const protocol = 0x63617070
		ncfg := netcode.ServerConfig{ProtocolID: protocol}
		if congestion { // the connection finds the link's rate; the snapshots follow its budget
			ncfg.Endpoint = endpoint.DefaultConfig()
			ncfg.Endpoint.SendRate = 1_000_000 / 8
			ncfg.Endpoint.CongestionControl = true
		}
		tr, err := NewNetcodeTransport(hub, ncfg)
		require.NoError(t, err)
		g := &bigWorld{n: 1000}
		srv, err := New(Config{
			Codec: testCodec, SnapshotRate: 20, SnapshotHistory: 256, SnapshotBudget: budget,
		}, g, tr)
		require.NoError(t, err)
		done := make(chan error, 1)
		t0 := time.Now() // tick n runs at t0 + n/60 s
		go func() { done <- srv.Run(ctx) }()

		oneWay := 50 * time.Millisecond
		up := netsim.Config{Latency: oneWay}
		down := netsim.Config{Latency: oneWay, Bandwidth: 128_000 / 8}
		pc, _ := hub.dial(up, down, 1)
		c, err := netcode.DialConn(ctx, pc, hubServerAddr, netcode.ClientConfig{ProtocolID: protocol})
		require.NoError(t, err)
		defer c.Close()
		reader, err := wire.NewSnapshotReader(testCodec, 256)
		require.NoError(t, err)
		w, err := wire.NewInputWriter(4)
		require.NoError(t, err)
		start := time.Now()
		var rtts, delays []time.Duration
		seen := map[uint32]bool{}
		for time.Since(start) < 12*time.Second {
			now := time.Now()
			require.NoError(t, c.Update(now))
			for m, ok := c.ReadMessage(DefaultSnapshotChannel); ok; m, ok = c.ReadMessage(DefaultSnapshotChannel) {
				snap, _, err := reader.Read(m)
				if err != nil {
					continue
				}
				res.snaps++
				tick := snap.Tick
				if time.Since(start) > 3*time.Second {
					delays = append(delays, now.Sub(t0.Add(time.Duration(tick)*time.Second/60)))
				}
				for i, id := range snap.IDs {
					seen[id] = true
					k := int32(1 + (id-1)%3)
					src := uint32(snap.Fields(i)[0] / k)
					if time.Since(start) > 3*time.Second {
						res.maxStale = max(res.maxStale, tick-src)
					}
					if id == 1 && src == tick {
						res.urgentFresh++
					}
				}
			}
			if rtt := c.Stats().RTT; rtt > 0 && time.Since(start) > 3*time.Second {
				rtts = append(rtts, rtt)
			}
			w.Push(srv.Tick()+3, []byte{1, 1}) // inputs, as a player sends: their acks measure the RTT
			_, err := c.Send(DefaultInputChannel, w.AppendMessage(nil))
			require.NoError(t, err)
			c.Flush(now)
			time.Sleep(time.Second / 60)
		}
		res.entitiesSeen = len(seen)
		st := srv.Stats()
		t.Logf("server: %d snapshots (%d partial), %d B full + %d B delta", st.SnapshotsFull+st.SnapshotsDelta, st.SnapshotsPartial, st.SnapshotBytesFull, st.SnapshotBytesDelta)
		res.rttMedian, res.rttMax = medianMax(rtts)
		res.delayMedian, res.delayMax = medianMax(delays)
		cancel()
		require.NoError(t, <-done)
	})
	return res
}

func medianMax(d []time.Duration) (time.Duration, time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)-1]
}

// TestCappedLinkBudget: a 1000-entity world to one client through a 128
// kbit/s downlink, 50 ms each way (base RTT 100 ms), three ways. With a
// fixed snapshot budget under the link's rate, and with no fixed budget but
// the connection's congestion response (endpoint SendRate 1 Mbit/s and
// CongestionControl: the snapshots follow the budget it finds), the RTT
// stays under twice the base, every entity the client holds is within the
// staleness bound (MaxStaleTicks, 128 ticks here, plus a snapshot
// interval), and the urgent entity is fresh in every snapshot. With
// neither, the world does not fit, the link's queue fills and snapshots
// arrive seconds late.
func TestCappedLinkBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("two 12 s runs of a 1000-entity world")
	}
	on := cappedRun(t, 13_000, false) // bytes/s, under the link's 16,000
	t.Logf("budget on:  RTT median %v max %v, snapshot delay median %v max %v, max staleness %d ticks, urgent fresh in %d of %d snapshots, %d entities seen",
		on.rttMedian, on.rttMax, on.delayMedian, on.delayMax, on.maxStale, on.urgentFresh, on.snaps, on.entitiesSeen)
	cc := cappedRun(t, 0, true) // no fixed budget: the congestion response finds it
	t.Logf("congestion response: RTT median %v max %v, snapshot delay median %v max %v, max staleness %d ticks, urgent fresh in %d of %d snapshots, %d entities seen",
		cc.rttMedian, cc.rttMax, cc.delayMedian, cc.delayMax, cc.maxStale, cc.urgentFresh, cc.snaps, cc.entitiesSeen)
	off := cappedRun(t, 0, false)
	t.Logf("budget off: RTT median %v max %v, snapshot delay median %v max %v, %d snapshots decoded, %d entities seen",
		off.rttMedian, off.rttMax, off.delayMedian, off.delayMax, off.snaps, off.entitiesSeen)

	assert.Less(t, on.rttMax, 200*time.Millisecond, "budget on: RTT under twice the base")
	assert.LessOrEqual(t, on.maxStale, uint32(128+3), "budget on: every entity within the bound")
	assert.Equal(t, on.snaps, on.urgentFresh, "budget on: the urgent entity is in every snapshot")
	assert.Equal(t, 1000, on.entitiesSeen)
	assert.Less(t, on.delayMax, 200*time.Millisecond, "budget on: snapshots arrive within twice the one-way delay")
	assert.Less(t, cc.rttMedian, 200*time.Millisecond, "congestion response: RTT under twice the base")
	assert.LessOrEqual(t, cc.maxStale, uint32(128+3), "congestion response: every entity within the bound")
	assert.Equal(t, cc.snaps, cc.urgentFresh, "congestion response: the urgent entity is in every snapshot")
	assert.Equal(t, 1000, cc.entitiesSeen)
	assert.Greater(t, off.delayMedian, 4*on.delayMedian, "budget off: the link's queue grows")
	assert.Greater(t, off.delayMax, time.Second, "budget off: seconds of queueing")
}
