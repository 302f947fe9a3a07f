package clientui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// driveLoopback runs a loopback client for dur of simulated time at 60
// frames per second with the scripted input and returns the last view.
func driveLoopback(t *testing.T, l *Online, from time.Time, dur time.Duration) (View, time.Time) {
	t.Helper()
	frame := time.Second / 60
	var v View
	now := from
	for i := 0; i < int(dur/frame); i++ {
		now = from.Add(time.Duration(i) * frame)
		require.NoError(t, l.Update(now, Script(uint32(i)), DefaultToggles()))
		v = l.View(now, DefaultToggles())
	}
	return v, now
}

func TestLoopbackOnAPerfectLink(t *testing.T) {
	l, err := NewLoopbackSource(t0, LoopbackConfig{Seed: 1, NPCs: 6, Bots: 2})
	require.NoError(t, err)
	v, _ := driveLoopback(t, l, t0, 5*time.Second)

	require.True(t, v.Online)
	assert.Equal(t, uint32(1), v.Own)
	require.NotNil(t, v.Ghost)
	kinds := map[game.Kind]int{}
	for _, e := range v.Entities {
		kinds[e.Kind]++
	}
	assert.Equal(t, 3, kinds[game.KindPlayer], "own player and two bots")
	assert.Equal(t, 6, kinds[game.KindNPC])
	assert.Positive(t, kinds[game.KindProjectile], "the script fires")

	st := l.Session().Stats()
	assert.Zero(t, st.BadMessages)
	assert.Zero(t, st.Stalls)
	assert.InDelta(t, 30, v.Sample.SnapshotRate, 2, "30 Hz snapshots")
	assert.Positive(t, v.Sample.InKbps)
	assert.Positive(t, v.Sample.OutKbps)
	assert.Less(t, v.Sample.RTT, 40*time.Millisecond, "no added latency: RTT is the frame pacing")
	assert.Equal(t, 100*time.Millisecond, v.Sample.InterpDelay.Round(10*time.Millisecond))
	assert.Zero(t, v.Sample.Loss)
	t.Logf("sample %+v, corrections %d", v.Sample, st.Corrections)
}

func TestLoopbackUnderABadLinkAndLiveChanges(t *testing.T) {
	bad := netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond, Jitter: 5 * time.Millisecond}
	l, err := NewLoopbackSource(t0, LoopbackConfig{Link: bad, Seed: 2, NPCs: 6})
	require.NoError(t, err)
	v, now := driveLoopback(t, l, t0, 6*time.Second)
	st := l.Session().Stats()
	assert.Zero(t, st.BadMessages)
	assert.Less(t, float64(st.Stalls), 0.01*float64(st.Frames), "stalls under 1%% of frames at 5%% loss")
	assert.InDelta(t, 100, float64(v.Sample.RTT.Milliseconds()), 30, "RTT ≈ 2 × 50 ms")
	assert.InDelta(t, 0.05, v.Sample.Loss, 0.04)
	assert.InDelta(t, 30, v.Sample.SnapshotRate, 5)
	t.Logf("bad link: sample %+v, session %+v", v.Sample, st)

	// The panel's change applies live: a perfect link brings the RTT down.
	require.NoError(t, l.SetLink(netsim.Config{}))
	v, _ = driveLoopback(t, l, now.Add(time.Second/60), 4*time.Second)
	assert.Less(t, v.Sample.RTT, 60*time.Millisecond, "RTT falls after the link is fixed")
	assert.ErrorIs(t, l.SetLink(netsim.Config{Loss: 3}), netsim.ErrInvalidConfig)
	assert.NoError(t, l.Close())
}

func TestOnlineWithoutConditionerAndStatus(t *testing.T) {
	l, err := NewLoopback(t0, LoopbackConfig{Seed: 1, NPCs: 2})
	require.NoError(t, err)
	o, err := NewOnline(l, nil, "test")
	require.NoError(t, err)
	assert.ErrorIs(t, o.SetLink(netsim.Config{}), ErrNoLink)
	assert.Equal(t, "test: waiting for the welcome", o.View(t0, DefaultToggles()).Status)
	v, _ := driveLoopback(t, o, t0, time.Second)
	assert.Regexp(t, `^test: player 1 \| corrections \d+ \| stalls 0/\d+ frames$`, v.Status)
	assert.NoError(t, o.Close())
}

func TestLoopbackConfigBots(t *testing.T) {
	_, err := NewLoopback(t0, LoopbackConfig{Bots: MaxLoopbackBots + 1})
	assert.ErrorContains(t, err, "LoopbackConfig.Bots = 8: must be 0..7")
}
