package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/admin"
	"github.com/tickwire/tickwire/server/wire"
)

// matchGame is one room's Game in the rooms test: its players (entity id =
// PlayerID, x = the room's number) and three NPCs whose ids (npcBase..+2)
// every room uses, so a snapshot that mixed rooms would show a foreign number.
type matchGame struct {
	number  int32
	players []server.PlayerID
}

func (g *matchGame) AddPlayer(id server.PlayerID) error {
	g.players = append(g.players, id)
	return nil
}
func (g *matchGame) RemovePlayer(id server.PlayerID) {
	g.players = slices.DeleteFunc(g.players, func(p server.PlayerID) bool { return p == id })
}
func (g *matchGame) ApplyInput(server.PlayerID, uint32, []byte) {}
func (g *matchGame) Step(uint32)                                {}
func (g *matchGame) Snapshot(_ uint32, dst *state.Snapshot) {
	for _, p := range g.players {
		dst.Add(uint32(p))[0] = g.number
	}
	for id := uint32(npcBase); id < npcBase+3; id++ {
		dst.Add(id)[0] = g.number
	}
}

var matchCodec = state.CodecConfig{Schema: state.Schema{Fields: []state.Field{state.IntField("room", 8, false)}}}

const (
	roomsProtocol = 0x726f6f6d73
	npcBase       = 1 << 20 // NPC ids, above every PlayerID here
)

// roomPlayer is a client of the rooms test: it reads its Welcome, decodes
// every snapshot and checks it holds only its room's entities.
type roomPlayer struct {
	room     int32
	player   server.PlayerID
	snaps    atomic.Int64 // snapshots decoded
	foreign  atomic.Int64 // entities of another room seen
	kicked   atomic.Value // the kick reason (string)
	mu       sync.Mutex
	lastSeen []uint32 // the ids of the last snapshot
}

func (p *roomPlayer) seen() []uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastSeen
}

func (p *roomPlayer) run(ctx context.Context, t *testing.T, c *netcode.Client) {
	defer c.Close()
	reader, err := wire.NewSnapshotReader(matchCodec, 0)
	if !assert.NoError(t, err) {
		return
	}
	for ctx.Err() == nil {
		now := time.Now()
		if err := c.Update(now); err != nil {
			return // disconnected (after a kick)
		}
		for msg, ok := c.ReadMessage(server.DefaultControlChannel); ok; msg, ok = c.ReadMessage(server.DefaultControlChannel) {
			switch wire.MessageKind(msg) {
			case wire.KindWelcome:
				w, err := wire.DecodeWelcome(msg)
				assert.NoError(t, err)
				p.player = w.Player
			case wire.KindKick:
				reason, err := wire.DecodeKick(msg)
				assert.NoError(t, err)
				p.kicked.Store(reason)
			}
		}
		for msg, ok := c.ReadMessage(server.DefaultSnapshotChannel); ok; msg, ok = c.ReadMessage(server.DefaultSnapshotChannel) {
			snap, _, err := reader.Read(msg)
			if err != nil {
				continue // a delta whose baseline was lost: the reader asks again
			}
			p.snaps.Add(1)
			p.mu.Lock()
			p.lastSeen = slices.Clone(snap.IDs)
			p.mu.Unlock()
			for i := range snap.Len() {
				if snap.Fields(i)[0] != p.room {
					p.foreign.Add(1)
				}
			}
		}
		c.Flush(now)
		time.Sleep(time.Second / 60)
	}
}

// TestRoomsFiftyRoomsOfTwenty: one server, one (in-memory) socket, 50 rooms
// of 20 clients that name their room in their connect token. Every client
// sees only its room's entities; 10 rooms close (their players told why)
// and 5 open while the others play on; the per-room metrics are exported.
func TestRoomsFiftyRoomsOfTwenty(t *testing.T) {
	if testing.Short() {
		t.Skip("1100 clients")
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		hub := netsim.NewHub()
		defer hub.Close()
		key, err := netcode.GenerateKey(rand.Reader)
		require.NoError(t, err)
		tr, err := server.NewNetcodeTransport(hub, netcode.ServerConfig{
			ProtocolID: roomsProtocol, TokenKey: &key, PublicAddr: netsim.ServerAddr, MaxClients: 1200, HandshakeRate: 100000,
		})
		require.NoError(t, err)
		var mu sync.Mutex
		games := map[string]*matchGame{}
		srv, err := server.New(server.Config{
			Codec: matchCodec, RoomOf: server.RoomFromUserData, MaxRooms: 60,
			NewRoom: func(r *server.Room) (server.Game, error) {
				var n int32
				if _, err := fmt.Sscanf(r.Name(), "room-%d", &n); err != nil {
					return nil, err
				}
				r.SetLabel(fmt.Sprintf(`{"mode":"deathmatch","n":%d}`, n))
				g := &matchGame{number: n}
				mu.Lock()
				games[r.Name()] = g
				mu.Unlock()
				return g, nil
			},
		}, nil, tr)
		require.NoError(t, err)
		reg := prometheus.NewRegistry()
		require.NoError(t, admin.Register(reg, srv))
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()

		link := netsim.Config{Latency: 10 * time.Millisecond}
		var players []*roomPlayer
		var wg sync.WaitGroup
		join := func(room int32) {
			token, err := netcode.IssueConnectToken(key, netcode.ConnectToken{
				ProtocolID: roomsProtocol, ClientID: netcode.ClientID(len(players) + 1), Expires: time.Now().Add(time.Minute),
				ServerAddrs: []netip.AddrPort{netsim.ServerAddr}, UserData: fmt.Appendf(nil, "room-%02d", room),
			}, rand.Reader)
			require.NoError(t, err)
			p := &roomPlayer{room: room}
			players = append(players, p)
			pc := hub.Dial(link, link, uint64(len(players)))
			wg.Go(func() {
				c, err := netcode.DialConn(ctx, pc, netsim.ServerAddr, netcode.ClientConfig{ProtocolID: roomsProtocol, Token: token})
				if !assert.NoError(t, err) {
					return
				}
				p.run(ctx, t, c)
			})
		}
		for room := int32(1); room <= 50; room++ {
			for range 20 {
				join(room)
			}
		}
		time.Sleep(2 * time.Second)
		require.Equal(t, 1000, srv.Clients())
		require.Len(t, srv.Rooms(), 50)

		// Ten rooms end while the others play; five new ones open.
		before := make([]int64, len(players))
		for i, p := range players {
			before[i] = p.snaps.Load()
		}
		for room := 1; room <= 10; room++ {
			name := fmt.Sprintf("room-%02d", room)
			require.NoError(t, srv.Do(func() { srv.Room(name).Close("match over") }))
		}
		for room := int32(51); room <= 55; room++ {
			for range 20 {
				join(room)
			}
		}
		time.Sleep(2 * time.Second)
		before = append(before, make([]int64, len(players)-len(before))...) // the new ones from 0

		infos := srv.Rooms()
		require.Len(t, infos, 45)
		for _, info := range infos {
			assert.Equal(t, 20, info.Players, "room %s", info.Name)
			assert.Contains(t, info.Label, `"mode":"deathmatch"`)
		}
		for i, p := range players {
			closed := p.room <= 10
			reason, _ := p.kicked.Load().(string)
			if closed {
				assert.Equal(t, "match over", reason, "player %d of room %d", i, p.room)
				continue
			}
			assert.Empty(t, reason, "player %d of room %d", i, p.room)
			assert.Greater(t, p.snaps.Load(), before[i]+30, "player %d of room %d keeps getting snapshots", i, p.room)
			assert.Zero(t, p.foreign.Load(), "player %d sees another room's entities", i)
			mu.Lock()
			var want []uint32
			for _, id := range games[fmt.Sprintf("room-%02d", p.room)].players {
				want = append(want, uint32(id))
			}
			mu.Unlock()
			seen := p.seen()
			assert.Len(t, seen, 23, "player %d: 20 players and 3 NPCs", i)
			assert.Subset(t, seen, want, "player %d sees its room's players", i)
		}

		// Per-room metrics.
		rec := httptest.NewRecorder()
		admin.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body := rec.Body.String()
		assert.Contains(t, body, `tickwire_server_room_players{room="room-55"} 20`)
		assert.Contains(t, body, `tickwire_server_room_tick_seconds{room="room-11"}`)
		assert.NotContains(t, body, `room="room-01"`, "a closed room is gone from the metrics")
		assert.Contains(t, body, "tickwire_server_rooms 45")
		assert.Contains(t, body, `tickwire_server_rooms_total{event="closed"} 10`)
		st := srv.Stats()
		assert.Equal(t, uint64(55), st.RoomsCreated)
		assert.Zero(t, st.Drops[server.DropSnapshotInvalid])
		assert.True(t, strings.HasPrefix(infos[0].Name, "room-"))

		cancel()
		require.NoError(t, <-done)
		wg.Wait()
	})
}
