package demoserver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/client"
)

func TestListenRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  ServerConfig
		want string
	}{
		{"players", ServerConfig{MaxPlayers: -1}, "demoserver: invalid config: ServerConfig.MaxPlayers = -1, want 1..4096"},
		{"too many players", ServerConfig{MaxPlayers: game.MaxPlayersLimit + 1}, "ServerConfig.MaxPlayers = 4097"},
		{"link", ServerConfig{Link: netsim.Config{Loss: -0.5}}, "ServerConfig.Link: netsim: invalid config: Loss = -0.5"},
		{"arena", ServerConfig{Arena: arena.Config{ViewRadius: -3}}, "arena: invalid config: ViewRadius = -3"},
		{"snapshot rate", ServerConfig{TickRate: 20, SnapshotRate: 30}, "Config.SnapshotRate is 30"},
		{"address", ServerConfig{Addr: "127.0.0.1:notaport"}, `demoserver: listen "127.0.0.1:notaport"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Listen(tt.cfg)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestServerOverConditionedSocket serves one client runtime through the
// server's own netsim link (20 ms each way) on a real UDP socket and checks
// what the client sees: the welcome, snapshots with its player and the
// NPCs, an RTT of at least the link's two delays, and, when the server
// stops gracefully, a disconnect it was told about (not a timeout).
func TestServerOverConditionedSocket(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g := game.DefaultConfig()
	g.NPCs = 2
	srv, err := Listen(ServerConfig{MaxPlayers: 2, Arena: arena.Config{Game: g}, Link: netsim.Config{Latency: 20 * time.Millisecond}, LinkSeed: 1})
	require.NoError(t, err)
	require.NotNil(t, srv.Link())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	static := game.NewStatic()
	cfg := clientui.ClientConfig(static)
	cfg.Addr = srv.Addr().String()
	c, err := client.New(cfg)
	require.NoError(t, err)
	o := clientui.NewOnline(c, static, nil, "test")
	toggles := clientui.DefaultToggles()
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	var v clientui.View
	// Real sockets: poll until 30 snapshots arrived (half a second on an
	// idle machine), bounded.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && c.Stats().Snapshots < 30; {
		<-frame.C
		now := time.Now()
		require.NoError(t, o.Update(now, game.Input{}, toggles))
		v = o.View(now, toggles)
	}
	require.GreaterOrEqual(t, c.Stats().Snapshots, uint64(30))
	assert.Equal(t, uint32(1), v.Own)
	assert.Len(t, v.Entities, 3, "the own player and two NPCs")
	assert.GreaterOrEqual(t, c.Stats().RTT, 40*time.Millisecond, "two 20 ms delays")

	// A graceful stop tells the client, through the delaying link.
	cancel()
	require.NoError(t, <-done)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && c.Status().State == client.Connected; {
		<-frame.C
		c.Update(time.Now(), game.Input{})
	}
	st := c.Status()
	require.Equal(t, client.Disconnected, st.State)
	assert.ErrorIs(t, st.Err, netcode.ErrDisconnected, "told, not timed out")
	assert.Contains(t, o.View(time.Now(), toggles).Status, "test: disconnected: ")
	require.NoError(t, o.Close())
	assert.Equal(t, uint64(1), srv.Arena().Stats().Joined)
}
