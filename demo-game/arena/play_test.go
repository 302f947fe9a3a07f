package arena_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/internal/inputlog"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// demoClient returns a client of the demo built from the public client
// runtime and the demo's rules alone (package protocol's pieces over
// package game), dialling the hub over a pipe with link each way.
func demoClient(t *testing.T, hub *netsim.Hub, link netsim.Config, seed uint64) (*client.Client[game.Player, game.Input], *dialer) {
	t.Helper()
	d := &dialer{hub: hub, link: link, seed: seed}
	c, err := client.New(client.Config[game.Player, game.Input]{
		Dial:            d.dial,
		Codec:           protocol.Codec(),
		OwnState:        protocol.OwnState,
		AppendInput:     protocol.AppendInput,
		Step:            protocol.Stepper(game.NewStatic()),
		Equal:           state.EqualComparable[game.Player],
		InputRedundancy: protocol.InputRedundancy,
		Correction:      protocol.Correction,
		CorrectionDims:  protocol.CorrectionDims,
		SnapDistance:    protocol.SnapDistance,
		Interp:          protocol.Interp(),
	})
	require.NoError(t, err)
	return c, d
}

// dialer connects over a new pipe of the hub and remembers the connection
// (its ID is the server's ClientID of the player).
type dialer struct {
	hub  *netsim.Hub
	link netsim.Config
	seed uint64
	mu   sync.Mutex
	conn *netcode.Client
}

func (d *dialer) dial(ctx context.Context) (*netcode.Client, error) {
	d.mu.Lock()
	d.seed++
	seed := d.seed
	d.mu.Unlock()
	pc := d.hub.Dial(d.link, d.link, seed)
	ep := endpoint.DefaultConfig()
	ep.MaxPacketSize = 0 // the connection layer fits its overhead into 1200 bytes
	c, err := netcode.DialConn(ctx, pc, netsim.ServerAddr, netcode.ClientConfig{ProtocolID: protocol.ProtocolID, Endpoint: ep})
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conn = c
	d.mu.Unlock()
	return c, nil
}

func (d *dialer) id() server.ClientID {
	d.mu.Lock()
	defer d.mu.Unlock()
	return server.ClientID(d.conn.ID())
}

// recorder is the arena with a record of every input it applied, by player
// and tick.
type recorder struct {
	*arena.Arena
	mu      sync.Mutex
	applied map[server.PlayerID]map[uint32]game.Input
}

func (r *recorder) ApplyInput(id server.PlayerID, tick uint32, input []byte) {
	if in, _, err := game.DecodeInput(input); err == nil {
		r.mu.Lock()
		m := r.applied[id]
		if m == nil {
			m = map[uint32]game.Input{}
			r.applied[id] = m
		}
		m[tick] = in
		r.mu.Unlock()
	}
	r.Arena.ApplyInput(id, tick, input)
}

func (r *recorder) of(id server.PlayerID) map[uint32]game.Input {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied[id]
}

// playScript is client k's input at frame i: held for 40 frames at a time
// (a direction, an aim, fire or not, and now and then dash), as a player
// holds keys.
func playScript(k, i int) game.Input {
	seg := uint64(i / 40)
	r := rand.New(rand.NewPCG(uint64(k), seg))
	moves := []uint8{0, game.ButtonUp, game.ButtonDown, game.ButtonLeft, game.ButtonRight,
		game.ButtonUp | game.ButtonLeft, game.ButtonDown | game.ButtonRight}
	in := game.Input{Buttons: moves[r.IntN(len(moves))], AimX: int8(r.IntN(201) - 100), AimY: int8(r.IntN(201) - 100)}
	if r.IntN(3) == 0 {
		in.Buttons |= game.ButtonFire
	}
	if r.IntN(4) == 0 {
		in.Buttons |= game.ButtonDash
	}
	return in
}

// TestFiveClientsPlayTheArenaOverALossyLink is the demo's acceptance test:
// five clients, built from the public client runtime (server/client) and
// the demo's rules (protocol, game) only, play the real arena on a real
// server.Server, each over its own in-memory link with 10% loss and 60 ms
// of latency each way, for 20 s of simulated time at about 60 frames per
// second (16.7 ms, a little off the server's tick, so the two drift).
// Client 0 has a frame hitch of 200 ms at 10 s: no update for 200 ms, then
// one frame that covers it.
//
// After a 3 s warm-up: no interpolation stall on any client; no
// correction that is not a death or a respawn (the server killed the
// player: it stops; it respawned: it jumps to a spawn point); every input
// of every client reached the server, the hitched client's too; and at
// every tick across the hitch the server applied the input the client
// sent for it (the late ones arrived after their tick, but the client held
// the same keys through the hitch, so the server's repeated input is the
// real one).
func TestFiveClientsPlayTheArenaOverALossyLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			nClients = 5
			frame    = 16700 * time.Microsecond
			run      = 20 * time.Second
			warmUp   = 3 * time.Second
			hitchAt  = 610 // a frame inside 600..639, where playScript(0, ·) is constant
			hitchLen = 11  // frames without an update: 12 frame intervals, 200 ms
		)
		link := netsim.Config{Loss: 0.1, Latency: 60 * time.Millisecond}

		hub := netsim.NewHub()
		tr, err := server.NewNetcodeTransport(hub, netcode.ServerConfig{ProtocolID: protocol.ProtocolID, MaxClients: 8})
		require.NoError(t, err)
		a, err := arena.New(arena.Config{})
		require.NoError(t, err)
		rec := &recorder{Arena: a, applied: map[server.PlayerID]map[uint32]game.Input{}}
		log := inputlog.New(tr, func(b []byte) (game.Input, bool) {
			in, _, err := game.DecodeInput(b)
			return in, err == nil
		})
		srv, err := server.New(server.Config{Codec: protocol.Codec()}, rec, log)
		require.NoError(t, err)
		log.SetServer(srv)
		ctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Run(ctx) }()
		var clients []*client.Client[game.Player, game.Input]
		defer func() {
			for _, c := range clients {
				_ = c.Close()
			}
			stop()
			assert.NoError(t, <-served)
			assert.NoError(t, hub.Close())
		}()

		type player struct {
			c      *client.Client[game.Player, game.Input]
			d      *dialer
			warm   client.Stats
			live   map[uint32]bool // entities spawned and not despawned
			events int
			// Corrections in frames whose newest snapshot showed the own
			// player die or respawn, after warm-up.
			deathCorrections uint64
			deaths, respawns int
			lastDeaths       int32
			wasDead          bool
			badEvents        int
		}
		players := make([]*player, nClients)
		for k := range players {
			c, d := demoClient(t, hub, link, uint64(k)*1000)
			clients = append(clients, c)
			players[k] = &player{c: c, d: d, live: map[uint32]bool{}}
		}

		frames := int(run / frame)
		warmFrame := int(warmUp / frame)
		var warmTick, hitchStart, hitchEnd uint32
		for i := range frames {
			now := time.Now()
			switch i {
			case hitchAt:
				hitchStart = srv.Tick()
			case hitchAt + hitchLen:
				hitchEnd = srv.Tick()
			}
			for k, p := range players {
				if k == 0 && i >= hitchAt && i < hitchAt+hitchLen {
					continue
				}
				before := p.c.Stats().Corrections
				p.c.Update(now, playScript(k, i))
				for _, ev := range p.c.Events() {
					p.events++
					if (ev.Kind == client.Spawned) == p.live[ev.ID] {
						p.badEvents++ // spawned twice, or despawned while not there
					}
					p.live[ev.ID] = ev.Kind == client.Spawned
				}
				p.c.Remote(now)
				w, _ := p.c.Welcome()
				snap, _, ok := p.c.Newest()
				if !ok {
					continue
				}
				j, ok := snap.Find(uint32(w.Player))
				if !ok {
					continue
				}
				f := snap.Fields(j)
				died := f[game.FieldDeaths] > p.lastDeaths
				dead := f[game.FieldRespawnTicks] > 0
				respawned := p.wasDead && !dead
				p.lastDeaths, p.wasDead = f[game.FieldDeaths], dead
				if i > warmFrame {
					if died {
						p.deaths++
					}
					if respawned {
						p.respawns++
					}
					if died || respawned {
						p.deathCorrections += p.c.Stats().Corrections - before
					}
				}
			}
			if i == warmFrame {
				warmTick = srv.Tick()
				for _, p := range players {
					p.warm = p.c.Stats()
				}
			}
			time.Sleep(frame)
		}
		endTick := srv.Tick()

		ids := map[server.PlayerID]bool{}
		for k, p := range players {
			st := p.c.Stats()
			require.Equal(t, client.Connected, st.State, "client %d: %v", k, p.c.Status())
			w, ok := p.c.Welcome()
			require.True(t, ok, "client %d welcomed", k)
			ids[w.Player] = true

			corrections := st.Corrections - p.warm.Corrections
			other := corrections - p.deathCorrections
			stalls := st.Stalls - p.warm.Stalls

			// Inputs: what the client sent for each tick, when it arrived,
			// and what the server applied.
			arr := log.Arrivals(p.d.id())
			applied := rec.of(w.Player)
			lost, late, mismatched, hitchTicks, hitchReal := 0, 0, 0, 0, 0
			for tick := warmTick; tick < endTick-20; tick++ {
				a, ok := arr[tick]
				if !ok {
					lost++
					t.Logf("client %d: the input of tick %d never reached the server", k, tick)
					continue
				}
				in, ok := applied[tick]
				real := ok && in == a.In
				if !real {
					mismatched++
					t.Logf("client %d: tick %d: the server applied %+v (%v), the client sent %+v", k, tick, in, ok, a.In)
				}
				inHitch := k == 0 && tick >= hitchStart && tick <= hitchEnd+8
				if inHitch {
					hitchTicks++
					if real {
						hitchReal++
					}
				}
				if a.At > tick && !inHitch {
					late++
				}
			}
			t.Logf("client %d (player %d): after warm-up %d corrections (%d at %d deaths and %d respawns, %d snapped), %d other; %d stalls in %d frames; inputs: %d lost, %d late outside the hitch, %d applied other than sent; events %d; link RTT %v loss %.1f%%; input lead %d (+%d late +%d loss); snapshots %.1f/s",
				k, w.Player, corrections, p.deathCorrections, p.deaths, p.respawns, st.SnappedCorrections-p.warm.SnappedCorrections, other,
				stalls, st.Frames-p.warm.Frames, lost, late, mismatched, p.events, st.RTT, 100*st.Loss, st.InputLead, st.ExtraLead, st.LossLead,
				float64(st.Snapshots-p.warm.Snapshots)/(run-warmUp).Seconds())

			assert.Zero(t, other, "client %d: corrections after warm-up other than deaths and respawns", k)
			assert.Zero(t, stalls, "client %d: interpolation stalls after warm-up", k)
			assert.Zero(t, lost, "client %d: inputs that never reached the server", k)
			assert.Zero(t, mismatched, "client %d: ticks where the server applied another input than the client's", k)
			assert.Zero(t, p.badEvents, "client %d: spawn and despawn alternate for every entity", k)
			assert.Zero(t, st.BadMessages, "client %d", k)
			assert.Zero(t, st.InputJumps, "client %d", k)
			assert.Greater(t, st.Frames-p.warm.Frames, uint64(900), "client %d drew", k)
			assert.InDelta(t, 27, float64(st.Snapshots-p.warm.Snapshots)/(run-warmUp).Seconds(), 2, "client %d: about 27 of 30 snapshots a second arrive", k)
			if k == 0 {
				t.Logf("client 0: hitch over server ticks %d..%d: %d ticks checked, the server applied the client's own input at %d",
					hitchStart, hitchEnd, hitchTicks, hitchReal)
				assert.Greater(t, hitchEnd-hitchStart, uint32(10), "the hitch spans about 12 server ticks")
				assert.Equal(t, hitchTicks, hitchReal, "across the hitch the server applied a real input at every tick")
			}
		}
		assert.Len(t, ids, nClients, "one player each")
		as := a.Stats()
		assert.Zero(t, as.BadInputs)
		t.Logf("arena: %+v; server: %+v", as, srv.Stats())
	})
}
