package client_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// script is player k's steering at frame i: it changes every 40 frames.
func script(k, i int) move {
	p := i/40 + k
	return move{DX: int8(p%3) - 1, DY: int8(p/3%3) - 1}
}

// TestPlayOverLossyLink runs three clients against a real server.Server
// running the dots game, each over its own link with 10% loss and 60 ms
// one-way latency in both directions, for 20 s of simulated time at about
// 60 frames per second (16.7 ms, a little off the server's tick so the two
// drift). Client 0 has a 200 ms frame hitch at 10 s: no Update for 200 ms,
// then one.
//
// The clients send each input in 8 frames (InputRedundancy 8), so that an
// input is lost for good only when 8 packets in a row are (10^-8); the
// lead controller makes the first 4 copies arrive in time (a late input
// every 10^4 ticks).
//
// After a 3 s warm-up: no stall on any client; every input of every client
// reached the server, also across the hitch; nearly every input reached it
// before its tick ran (except during client 0's hitch, which is longer
// than the lead: those inputs arrive, late); and no correction that a late
// input does not explain, which in practice means no correction at all
// (the input does not change across the hitch, so the server's
// repeat-last-input policy still matches the prediction there).
func TestPlayOverLossyLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			nClients = 3
			frame    = 16700 * time.Microsecond
			run      = 20 * time.Second
			warmUp   = 3 * time.Second
			hitchAt  = 610 // frame; script(0, ·) is constant over frames 600..639
			hitchLen = 11  // frames skipped: 12 frame intervals, 200 ms, without Update
			// oneWayTicks: 60 ms of latency is 3.6 ticks at 60 Hz.
			oneWayTicks = 4
		)
		link := netsim.Config{Loss: 0.1, Latency: 60 * time.Millisecond}
		ts := startServer(t, 3)

		type player struct {
			c      *client.Client[dot, move]
			d      *dialer
			warm   client.Stats
			spawns map[uint32]int
		}
		players := make([]*player, nClients)
		for k := range players {
			d := &dialer{target: ts.hub, up: link, down: link, seed: uint64(k) * 1000}
			cfg := dotConfig()
			cfg.Dial = d.dial
			cfg.InputRedundancy = 8
			c, err := client.New(cfg)
			require.NoError(t, err)
			players[k] = &player{c: c, d: d, spawns: map[uint32]int{}}
		}

		frames := int(run / frame)
		warmFrame := int(warmUp / frame)
		var warmTick uint32
		var hitchStart, hitchEnd uint32 // server ticks
		for i := range frames {
			now := time.Now()
			if i == hitchAt {
				hitchStart = ts.srv.Tick()
			}
			if i == hitchAt+hitchLen {
				hitchEnd = ts.srv.Tick()
			}
			for k, p := range players {
				if k == 0 && i >= hitchAt && i < hitchAt+hitchLen {
					continue
				}
				p.c.Update(now, script(k, i))
				for _, ev := range p.c.Events() {
					if ev.Kind == client.Spawned {
						p.spawns[ev.ID]++
					} else {
						p.spawns[ev.ID]--
					}
				}
				p.c.Remote(now)
			}
			if i == warmFrame {
				warmTick = ts.srv.Tick()
				for _, p := range players {
					p.warm = p.c.Stats()
				}
			}
			time.Sleep(frame)
		}
		endTick := ts.srv.Tick()

		ids := map[server.PlayerID]int{}
		for k, p := range players {
			st := p.c.Stats()
			t.Logf("client %d: %+v", k, st)
			require.Equal(t, client.Connected, st.State)
			w, ok := p.c.Welcome()
			require.True(t, ok)
			ids[w.Player]++
			assert.Equal(t, st.Stalls, p.warm.Stalls, "client %d: stalls after warm-up", k)
			assert.Zero(t, st.InputJumps, "client %d", k)
			assert.Zero(t, st.BadMessages, "client %d", k)
			assert.Zero(t, st.MissingBaselines-p.warm.MissingBaselines, "client %d", k)
			rate := float64(st.Snapshots-p.warm.Snapshots) / (run - warmUp).Seconds()
			assert.InDelta(t, 27, rate, 2, "client %d: about 27 of 30 snapshots a second arrive", k)
			assert.Positive(t, st.SnapshotRate)
			assert.InDelta(t, 120, float64(st.RTT.Milliseconds()), 40, "client %d: RTT", k)
			assert.Greater(t, st.Frames-p.warm.Frames, uint64(900))
			// Every player and NPC spawned once and is still there.
			assert.Len(t, p.spawns, nClients+3, "client %d", k)
			for id, n := range p.spawns {
				assert.Equal(t, 1, n, "client %d: entity %d spawned once", k, id)
			}

			// The prediction equals the server's state of the player (as
			// of the newest snapshot's input ack, replayed): checked by
			// Corrections above; and the own dot moved.
			s, _, ok := p.c.Predicted()
			require.True(t, ok)
			assert.NotEqual(t, dot{X: int32(w.Player) * 50, Y: -int32(w.Player) * 30}, s)

			// Inputs as the server got them and applied them.
			arr := ts.log.Arrivals(server.ClientID(p.d.last().ID()))
			applied := ts.game.appliedTo(w.Player)
			late, lost, mismatched := 0, 0, 0
			for tick := warmTick - 20; tick < endTick-20; tick++ {
				a, ok := arr[tick]
				if !ok || applied[tick] != a.In {
					mismatched++
					t.Logf("client %d: tick %d: the server applied %v, the client predicted with %v", k, tick, applied[tick], a.In)
				}
				switch {
				case tick < warmTick:
				case !ok:
					lost++
					t.Logf("client %d: input of tick %d never arrived", k, tick)
				case a.At > tick:
					if k == 0 && tick >= hitchStart && tick <= hitchEnd+oneWayTicks {
						// The hitch, and the inputs sent when it ended
						// for ticks the server reached before they
						// could arrive: late, but they arrived.
						continue
					}
					late++
					t.Logf("client %d: input of tick %d arrived at tick %d", k, tick, a.At)
				}
			}
			assert.Zero(t, lost, "client %d: inputs that never reached the server", k)
			assert.LessOrEqual(t, late, 5, "client %d: inputs that arrived after their tick (outside the hitch)", k)
			assert.LessOrEqual(t, st.Corrections-p.warm.Corrections, uint64(mismatched),
				"client %d: after warm-up, the prediction differs from the server only where the server applied another input", k)
			t.Logf("client %d: after warm-up: %d late inputs, %d corrections, %d mismatched inputs",
				k, late, st.Corrections-p.warm.Corrections, mismatched)
		}
		assert.Equal(t, map[server.PlayerID]int{1: 1, 2: 1, 3: 1}, ids, "one player each")
		t.Logf("hitch: server ticks %d..%d", hitchStart, hitchEnd)
		assert.Greater(t, hitchEnd-hitchStart, uint32(10))

		for _, p := range players {
			require.NoError(t, p.c.Close())
		}
		ts.stop(t)
	})
}

// TestLongStall: a frame that comes a second late (twice the half second
// of ticks one Update may cover) makes the client jump ahead instead of
// sending a second of inputs the server has already simulated; it keeps
// playing after it.
func TestLongStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := startServer(t, 0)
		link := netsim.Config{Latency: 20 * time.Millisecond}
		d := &dialer{target: ts.hub, up: link, down: link}
		cfg := dotConfig()
		cfg.Dial = d.dial
		c, err := client.New(cfg)
		require.NoError(t, err)
		const frame = time.Second / 60
		run := func(n int) {
			for range n {
				c.Update(time.Now(), move{DX: 1})
				time.Sleep(frame)
			}
		}
		run(120)
		_, before, ok := c.Predicted()
		require.True(t, ok)
		sent := c.Stats().InputsSent

		time.Sleep(time.Second) // the stall
		c.Update(time.Now(), move{DX: 1})
		st := c.Stats()
		assert.Equal(t, uint64(1), st.InputJumps)
		_, after, _ := c.Predicted()
		assert.Greater(t, after, before+50, "the prediction is at the server's time again (a second is 60 ticks)")
		assert.LessOrEqual(t, st.InputsSent-sent, uint64(30), "at most half a second of ticks in one Update")

		time.Sleep(frame)
		run(120)
		st2 := c.Stats()
		assert.Equal(t, client.Connected, st2.State)
		assert.Equal(t, uint64(1), st2.InputJumps, "one jump")
		assert.Equal(t, st2.Stalls, st.Stalls)
		// The server applied every input after the jump: the prediction
		// matches again (a jump costs at most one correction).
		assert.LessOrEqual(t, st2.Corrections-st.Corrections, uint64(1))
		require.NoError(t, c.Close())
		ts.stop(t)
	})
}
