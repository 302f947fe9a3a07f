package loopback

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/client"
)

const frame = time.Second / 60

// play runs frames of the loopback at 60 frames per second of (simulated)
// time with the client's script, drawing each one, and returns the last
// view.
func play(t *testing.T, l *Loopback, frames int, toggles clientui.Toggles) clientui.View {
	t.Helper()
	var v clientui.View
	for range frames {
		now := time.Now()
		require.NoError(t, l.Update(now, clientui.Script(uint32(l.Ticks())), toggles))
		v = l.View(now, toggles)
		time.Sleep(frame)
	}
	return v
}

// TestLoopbackEndToEnd runs -loopback's path for 5 s of simulated time on
// a perfect pipe: the client connects to the real server in the same
// process, gets its Welcome, predicts its player exactly after the first
// second, and sees the NPCs and the two scripted bots as remote players.
func TestLoopbackEndToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := New(time.Now(), Config{Seed: 1, NPCs: 6, Bots: 2})
		require.NoError(t, err)
		toggles := clientui.DefaultToggles()
		first := l.View(time.Now(), toggles)
		assert.Equal(t, "loopback: connecting", first.Status, "before the first update")

		play(t, l, 60, toggles)
		c := l.Client()
		warm := c.Stats()
		v := play(t, l, 4*60, toggles)
		w, ok := c.Welcome()
		require.True(t, ok, "welcomed")
		assert.Equal(t, uint32(1), uint32(w.Player), "the only client is player 1")
		assert.Equal(t, game.TickRate, w.TickRate)
		_, tick, ok := c.Predicted()
		require.True(t, ok, "predicting")
		assert.Greater(t, tick, uint32(w.Tick), "the prediction runs ahead of the welcome's tick")

		require.True(t, v.Online, "the HUD is fed by the link")
		assert.Equal(t, uint32(1), v.Own)
		require.NotNil(t, v.Ghost, "the server's own player is drawn as the ghost")
		assert.Equal(t, "loopback: connected as player 1", v.Status)
		assert.Regexp(t, `^corrections \d+ \(0 snapped\) \| stalls 0/\d+ frames \| input lead \d+, \+\d+ ticks$`, v.Detail)
		kinds := map[game.Kind]int{}
		ids := map[uint32]bool{}
		for _, e := range v.Entities {
			kinds[e.Kind]++
			ids[e.ID] = true
		}
		assert.Equal(t, 3, kinds[game.KindPlayer], "own player and two bots")
		assert.True(t, ids[1] && ids[BotIDBase+1] && ids[BotIDBase+2], "players %v", ids)
		assert.Equal(t, 6, kinds[game.KindNPC])
		assert.Positive(t, kinds[game.KindProjectile], "the scripts fire")

		st := c.Stats()
		assert.Equal(t, client.Connected, st.State)
		assert.Zero(t, st.BadMessages)
		assert.Zero(t, st.Stalls)
		// The client's first inputs are for ticks the server has run by
		// the time they arrive (it starts predicting at the tick of the
		// first snapshot): at most that one correction, at the start.
		assert.LessOrEqual(t, warm.Corrections, uint64(1), "start-up")
		assert.Equal(t, warm.Corrections, st.Corrections, "after the first second on a perfect link the prediction is exact")
		assert.InDelta(t, 30, st.SnapshotRate, 2, "30 Hz snapshots")
		assert.Positive(t, v.Sample.InKbps)
		assert.Positive(t, v.Sample.OutKbps)
		// 100 ms plus twice the snapshots' jitter: a frame's worth at most
		// (a datagram that the client's reader takes a frame later).
		assert.GreaterOrEqual(t, v.Sample.InterpDelay, 100*time.Millisecond)
		assert.Less(t, v.Sample.InterpDelay, 100*time.Millisecond+2*frame)

		ss := l.Server().Stats()
		assert.Equal(t, 1, ss.Clients)
		assert.Equal(t, l.Ticks(), ss.Ticks, "every tick was a Step from the frame loop")
		assert.InDelta(t, 5*60, float64(ss.Ticks), 2, "60 ticks per second of the frames' time")
		assert.GreaterOrEqual(t, st.Frames-warm.Frames, uint64(4*60), "every frame drawn")
		as := l.Arena().Stats()
		assert.Equal(t, uint64(3), as.Joined, "two bots and the client")
		assert.Positive(t, as.Inputs, "the client's inputs reached the arena")
		assert.Zero(t, as.BadInputs)

		require.NoError(t, l.Close())
		assert.Zero(t, l.Server().Stats().Clients, "the server removed the player")
		assert.Equal(t, client.Disconnected, c.Status().State)
		require.NoError(t, l.Close(), "Close is idempotent")
		assert.Error(t, l.Update(time.Now(), game.Input{}, toggles))
	})
}

// TestLoopbackUnderABadLinkAndLiveChanges: at 5% loss and 50 ms each way
// the HUD sees the link (RTT about 100 ms, loss) and nothing stalls; a
// change from the network panel applies live.
func TestLoopbackUnderABadLinkAndLiveChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bad := netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond}
		l, err := New(time.Now(), Config{Link: bad, Seed: 2, NPCs: 6})
		require.NoError(t, err)
		defer l.Close()
		toggles := clientui.DefaultToggles()
		v := play(t, l, 6*60, toggles)
		st := l.Client().Stats()
		t.Logf("bad link: sample %+v, stats %+v", v.Sample, st)
		require.True(t, v.Online)
		assert.Zero(t, st.BadMessages)
		assert.Zero(t, st.Stalls)
		assert.InDelta(t, 100, float64(v.Sample.RTT.Milliseconds()), 30, "RTT ≈ 2 × 50 ms")
		assert.Positive(t, v.Sample.Loss, "the link statistics see the loss")

		require.NoError(t, l.SetLink(netsim.Config{}))
		v = play(t, l, 4*60, toggles)
		assert.Less(t, v.Sample.RTT, 60*time.Millisecond, "RTT falls after the link is fixed")
		assert.ErrorIs(t, l.SetLink(netsim.Config{Loss: 3}), netsim.ErrInvalidConfig)
	})
}

// TestLoopbackTogglesChangeWhatIsDrawn: with prediction off the own player
// is the server's (no ghost); with interpolation off the others are the
// newest snapshot's.
func TestLoopbackTogglesChangeWhatIsDrawn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := New(time.Now(), Config{Seed: 3, NPCs: 3, Bots: 1})
		require.NoError(t, err)
		defer l.Close()
		play(t, l, 2*60, clientui.DefaultToggles())
		c := l.Client()
		now := time.Now()
		snap, _, ok := c.Newest()
		require.True(t, ok)

		raw := l.View(now, clientui.Toggles{})
		assert.Nil(t, raw.Ghost, "no ghost without prediction")
		require.Len(t, raw.Entities, snap.Len())
		for i, e := range raw.Entities {
			j, ok := snap.Find(e.ID)
			require.True(t, ok, "entity %d is in the newest snapshot", e.ID)
			want, err := game.EntityFromFields(e.ID, snap.Fields(j))
			require.NoError(t, err)
			assert.Equal(t, want, raw.Entities[i], "drawn as the snapshot has it")
		}

		frames := c.Stats().Frames
		pred := l.View(now, clientui.Toggles{Prediction: true})
		require.NotNil(t, pred.Ghost)
		p, _, ok := c.Predicted()
		require.True(t, ok)
		own := pred.Entities[len(pred.Entities)-1]
		assert.Equal(t, uint32(1), own.ID, "the own player comes last")
		assert.Equal(t, p.X, own.X, "drawn where predicted (no correction to fade)")
		assert.Equal(t, p.Y, own.Y)
		assert.Equal(t, frames, c.Stats().Frames, "no interpolated frame drawn with interpolation off")
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Bots: clientui.MaxLoopbackBots + 1}, "loopback: invalid config: Bots = 8, want 0..7"},
		{Config{NPCs: -1}, "NPCs = -1, want 0..256"},
		{Config{Link: netsim.Config{Loss: 2}}, "Link: netsim: invalid config: Loss = 2"},
	}
	for _, tt := range tests {
		_, err := New(time.Now(), tt.cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig)
		assert.ErrorContains(t, err, tt.want)
	}
}

// TestLossGraphFollowsARestoredLink plays 8 s at 30% loss each way, then
// restores a perfect link: 2 s later the HUD's loss (what the graph draws)
// reads under 5%, while the endpoint's 1024-packet average still remembers
// the lossy seconds.
func TestLossGraphFollowsARestoredLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := New(time.Now(), Config{Seed: 1, NPCs: 6, Bots: 2, Link: netsim.Config{Loss: 0.3}})
		require.NoError(t, err)
		defer func() { require.NoError(t, l.Close()) }()
		toggles := clientui.DefaultToggles()
		lossy := play(t, l, 8*60, toggles)
		require.True(t, lossy.Online)
		assert.Greater(t, lossy.Sample.Loss, 0.15, "the graph shows the loss")

		require.NoError(t, l.SetLink(netsim.Config{}))
		v := play(t, l, 2*60, toggles)
		require.True(t, v.Online)
		assert.Less(t, v.Sample.Loss, 0.05, "2 s after the link was restored")
		assert.Greater(t, l.Client().Stats().Loss, 0.05, "the endpoint's average lags: why the HUD does not use it")
	})
}
