package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/server/wire"
)

// TestDrainRefusesNewPlayers: after Drain, a connecting client is told
// why, disconnected and counted as refused without the Game hearing of
// it, and the players already in play keep getting snapshots.
func TestDrainRefusesNewPlayers(t *testing.T) {
	g := newMsgGame()
	ts := newMsgServer(t, Config{AlignSnapshots: true}, g)
	ts.tr.connect(1)
	at := time.Unix(100, 0)
	require.NoError(t, ts.Step(at))
	require.Equal(t, 1, ts.Stats().Clients)
	assert.False(t, ts.Draining())

	ts.Drain()
	ts.Drain() // twice is harmless
	assert.True(t, ts.Draining())
	ts.tr.connect(2)
	sentBefore := len(ts.tr.sent)
	require.NoError(t, ts.Step(at.Add(time.Second)))
	require.NoError(t, ts.Step(at.Add(2*time.Second))) // a snapshot tick (every second tick)
	st := ts.Stats()
	assert.Equal(t, 1, st.Clients, "the new client is not a player")
	assert.Equal(t, uint64(1), st.Refused)
	assert.NotContains(t, g.calls, "add 2", "the Game never hears of it")
	var toOld int
	var reasons []string
	for _, m := range ts.tr.sent[sentBefore:] {
		switch m.client {
		case 1:
			toOld++
		case 2:
			reason, err := wire.DecodeKick(m.msg)
			require.NoError(t, err, "the refused client is only told why")
			reasons = append(reasons, reason)
		}
	}
	assert.Positive(t, toOld, "the player in play still gets its snapshot")
	assert.Equal(t, []string{"the server is shutting down"}, reasons)
	for i := range int(ts.kickGrace) + 1 {
		require.NoError(t, ts.Step(at.Add(time.Duration(3+i)*time.Second)))
	}
	assert.Contains(t, ts.tr.kicked, ClientID(2), "disconnected once the kick grace is over")
	assert.Equal(t, 1, ts.Stats().Clients)
}
