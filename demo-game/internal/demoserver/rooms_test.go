package demoserver

import (
	"crypto/rand"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/wire"
)

// TestRoomsMode: with RoomPlayers, each room named in a connect token is
// its own arena: players of room a never see room b's, a full room refuses
// with the reason, and a room closes when its last player leaves.
func TestRoomsMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key, err := netcode.GenerateKey(rand.Reader)
		require.NoError(t, err)
		hub := netsim.NewHub()
		g := game.DefaultConfig()
		g.NPCs = 0
		srv, err := Listen(ServerConfig{PacketConn: hub, MaxPlayers: 6, RoomPlayers: 2, Arena: arena.Config{Game: g},
			TokenKey: &key, PublicAddr: netsim.ServerAddr})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- srv.Run(t.Context()) }()

		dial := func(id uint64, room string) *netcode.Client {
			tok, err := netcode.IssueConnectToken(key, netcode.ConnectToken{
				ProtocolID: protocol.ProtocolID, ClientID: netcode.ClientID(id), Expires: time.Now().Add(time.Minute),
				ServerAddrs: []netip.AddrPort{netsim.ServerAddr}, UserData: []byte(room),
			}, rand.Reader)
			require.NoError(t, err)
			c, err := netcode.DialConn(t.Context(), hub.Dial(netsim.Config{}, netsim.Config{}, id), netsim.ServerAddr,
				netcode.ClientConfig{ProtocolID: protocol.ProtocolID, Token: tok})
			require.NoError(t, err)
			return c
		}
		// snapshotIDs pumps c for a while and returns the entity ids of its
		// last snapshot, and any kick reason.
		snapshotIDs := func(c *netcode.Client) (ids []uint32, kick string) {
			r, err := wire.NewSnapshotReader(protocol.Codec(), 0)
			require.NoError(t, err)
			for range 30 {
				_ = c.Update(time.Now())
				for m, ok := c.ReadMessage(server.DefaultControlChannel); ok; m, ok = c.ReadMessage(server.DefaultControlChannel) {
					if wire.MessageKind(m) == wire.KindKick {
						kick, _ = wire.DecodeKick(m)
					}
				}
				for m, ok := c.ReadMessage(server.DefaultSnapshotChannel); ok; m, ok = c.ReadMessage(server.DefaultSnapshotChannel) {
					if s, _, err := r.Read(m); err == nil {
						ids = append(ids[:0], s.IDs...)
					}
				}
				c.Flush(time.Now())
				time.Sleep(20 * time.Millisecond)
			}
			return ids, kick
		}
		a1, a2, b1 := dial(1, "a"), dial(2, "a"), dial(3, "b")
		a3 := dial(4, "a")
		_, kick := snapshotIDs(a3)
		assert.Equal(t, `room "a" is full`, kick)
		for _, c := range []*netcode.Client{a1, a2} {
			ids, kick := snapshotIDs(c)
			assert.Empty(t, kick)
			assert.Equal(t, []uint32{1, 2}, ids, "room a: its two players only")
		}
		ids, _ := snapshotIDs(b1)
		assert.Equal(t, []uint32{3}, ids, "room b: its one player")
		rooms := srv.Rooms()
		require.Len(t, rooms, 2)
		assert.Equal(t, "a", rooms[0].Name)
		assert.Equal(t, 2, rooms[0].Players)
		assert.Equal(t, 2, rooms[0].MaxPlayers)
		assert.Equal(t, "arena max_players=2", rooms[0].Label)
		assert.Nil(t, srv.Arena(), "no single arena in rooms mode")

		require.NoError(t, b1.Close())
		time.Sleep(time.Second)
		require.Len(t, srv.Rooms(), 1, "room b closed when its last player left")
		assert.Equal(t, uint64(1), srv.Stats().RoomsClosed)

		for _, c := range []*netcode.Client{a1, a2, a3} {
			_ = c.Close()
		}
		srv.Shutdown()
		require.NoError(t, <-done)
		_ = hub.Close()
	})
}

func TestRoomsModeBadConfig(t *testing.T) {
	_, err := Listen(ServerConfig{MaxPlayers: 4, RoomPlayers: 5})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), "RoomPlayers = 5, want 0 (no rooms) or 1..MaxPlayers (4)")
}
