package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/internal/inputlog"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// The test game: dots on a plane. Each player steers its dot with an
// input of two directions (-1, 0, 1) at dotSpeed units per tick, inside
// ±dotBound; NPC dots patrol on their own. Integer rules, so the client's
// prediction can match the server exactly.

const (
	dotSpeed = 3
	dotBound = 1000
	npcBase  = 1000 // NPC entity IDs start here (players use their player ID)
)

var dotCodec = state.CodecConfig{Schema: state.Schema{Fields: []state.Field{
	{Name: "x", Bits: 12, Signed: true},
	{Name: "y", Bits: 12, Signed: true},
}}}

// dot is the predicted state: a player's position.
type dot struct{ X, Y int32 }

// move is one tick's input.
type move struct{ DX, DY int8 }

func stepDot(d dot, m move) dot {
	d.X = min(max(d.X+int32(clampDir(m.DX))*dotSpeed, -dotBound), dotBound)
	d.Y = min(max(d.Y+int32(clampDir(m.DY))*dotSpeed, -dotBound), dotBound)
	return d
}

func clampDir(v int8) int8 { return min(max(v, -1), 1) }

func appendMove(dst []byte, m move) []byte { return append(dst, byte(m.DX), byte(m.DY)) }

func decodeMove(b []byte) (move, bool) {
	if len(b) != 2 {
		return move{}, false
	}
	return move{int8(b[0]), int8(b[1])}, true
}

// dotFromFields reads a dot from its entity's fields (with several kinds,
// the slot has more: the first two are x, y).
func dotFromFields(f []int32) (dot, error) {
	if len(f) < 2 {
		return dot{}, fmt.Errorf("%d fields, want at least 2", len(f))
	}
	return dot{f[0], f[1]}, nil
}

// dotConfig returns the client config of the dots game (Dial to be set).
func dotConfig() client.Config[dot, move] {
	return client.Config[dot, move]{
		Codec:       dotCodec,
		OwnState:    dotFromFields,
		AppendInput: appendMove,
		Step:        stepDot,
		Equal:       state.EqualComparable[dot],
		Correction: func(dst []float64, before, after dot) []float64 {
			return append(dst, float64(before.X-after.X), float64(before.Y-after.Y))
		},
		CorrectionDims: 2,
		SnapDistance:   100,
	}
}

// dotsGame is the server.Game of the dots game. It records every input it
// applied, by player and tick.
type dotsGame struct {
	mu      sync.Mutex
	players map[server.PlayerID]dot
	npcs    int
	tick    uint32
	applied map[server.PlayerID]map[uint32]move
}

func newDotsGame(npcs int) *dotsGame {
	return &dotsGame{players: map[server.PlayerID]dot{}, npcs: npcs, applied: map[server.PlayerID]map[uint32]move{}}
}

func (g *dotsGame) AddPlayer(id server.PlayerID) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.players[id] = dot{X: int32(id) * 50, Y: -int32(id) * 30}
	g.applied[id] = map[uint32]move{}
	return nil
}

func (g *dotsGame) RemovePlayer(id server.PlayerID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.players, id)
}

func (g *dotsGame) ApplyInput(id server.PlayerID, tick uint32, input []byte) {
	m, ok := decodeMove(input)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.players[id] = stepDot(g.players[id], m)
	g.applied[id][tick] = m
}

// appliedTo returns a copy of the inputs applied to player p, by tick.
func (g *dotsGame) appliedTo(p server.PlayerID) map[uint32]move {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[uint32]move{}
	for k, v := range g.applied[p] {
		out[k] = v
	}
	return out
}

func (g *dotsGame) Step(tick uint32) {
	g.mu.Lock()
	g.tick = tick
	g.mu.Unlock()
}

// npcPos returns NPC k's position at tick: back and forth along x.
func npcPos(k int, tick uint32) (int32, int32) {
	phase := int32((tick + uint32(k)*37) % 240)
	x := phase * 4
	if phase >= 120 {
		x = (240 - phase) * 4
	}
	return x - 240, int32(k) * 100
}

func (g *dotsGame) Snapshot(tick uint32, dst *state.Snapshot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, d := range g.players {
		f := dst.Add(uint32(id))
		f[0], f[1] = d.X, d.Y
	}
	for k := range g.npcs {
		f := dst.Add(uint32(npcBase + k))
		f[0], f[1] = npcPos(k, tick)
	}
}

// pipeServerAddr is the address clients dial: a netsim.Hub's (the fixed
// address of a pipe's second end).
var pipeServerAddr = netsim.ServerAddr

// testServer is a real server.Server running the dots game over a hub,
// on its own goroutine (inside a synctest bubble its clock is fake).
type testServer struct {
	hub    *netsim.Hub
	game   *dotsGame
	srv    *server.Server
	log    *inputlog.Log[move]
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, npcs int) *testServer {
	t.Helper()
	g := newDotsGame(npcs)
	return startServerWith(t, server.Config{Codec: dotCodec}, g, g, nil)
}

// startServerWith starts a server running game (whose dots are g) with
// cfg, and calls setup with it before it runs.
func startServerWith(t *testing.T, cfg server.Config, game server.Game, g *dotsGame, setup func(*server.Server)) *testServer {
	t.Helper()
	return startServerNetcode(t, cfg, netcode.ServerConfig{}, game, g, setup)
}

// startServerNetcode is startServerWith with the transport's config (its
// protocol id and client limit are the tests').
func startServerNetcode(t *testing.T, cfg server.Config, ncfg netcode.ServerConfig, game server.Game, g *dotsGame, setup func(*server.Server)) *testServer {
	t.Helper()
	h := netsim.NewHub()
	ncfg.ProtocolID, ncfg.MaxClients = testProtocol, 16
	tr, err := server.NewNetcodeTransport(h, ncfg)
	require.NoError(t, err)
	l := inputlog.New(tr, decodeMove)
	srv, err := server.New(cfg, game, l)
	require.NoError(t, err)
	if setup != nil {
		setup(srv)
	}
	l.SetServer(srv)
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{hub: h, game: g, srv: srv, log: l, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Run(ctx) }()
	return ts
}

// stop shuts the server down gracefully (clients are told).
func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	ts.cancel()
	require.NoError(t, <-ts.done)
	require.NoError(t, ts.hub.Close())
}

const testProtocol = 0x7e57c11e

// dialer returns a Config.Dial that connects over a new pipe to whatever
// server *target points to when it runs, and records the connections.
type dialer struct {
	mu       sync.Mutex
	target   *netsim.Hub
	up, down netsim.Config
	seed     uint64
	conns    []*netcode.Client
	ncfg     netcode.ClientConfig
}

func (d *dialer) setTarget(h *netsim.Hub) {
	d.mu.Lock()
	d.target = h
	d.mu.Unlock()
}

func (d *dialer) dial(ctx context.Context) (*netcode.Client, error) {
	d.mu.Lock()
	h := d.target
	d.seed++
	seed := d.seed
	d.mu.Unlock()
	if h == nil {
		return nil, errors.New("no server")
	}
	pc := h.Dial(d.up, d.down, seed)
	cfg := d.ncfg
	cfg.ProtocolID = testProtocol
	c, err := netcode.DialConn(ctx, pc, pipeServerAddr, cfg)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conns = append(d.conns, c)
	d.mu.Unlock()
	return c, nil
}

// last returns the newest connection made.
func (d *dialer) last() *netcode.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.conns) == 0 {
		return nil
	}
	return d.conns[len(d.conns)-1]
}
