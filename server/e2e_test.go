package server

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"

	"github.com/tickwire/tickwire/server/wire"
)

// e2eState is the predicted part of a player's entity.
type e2eState struct{ X, Y, VX, VY int32 }

type e2eInput struct{ VX, VY int8 }

func e2eStep(s e2eState, in e2eInput) e2eState {
	e := testEntity{x: s.X, y: s.Y, vx: s.VX, vy: s.VY}
	applyTestInput(&e, []byte{byte(in.VX), byte(in.VY)})
	stepTestEntity(&e)
	return e2eState{e.x, e.y, e.vx, e.vy}
}

// e2eInputFor is the client's scripted steering: it changes every half
// second, so a misapplied input shows in the state.
func e2eInputFor(tick uint32) e2eInput {
	return e2eInput{VX: int8(tick/30%7) - 3, VY: int8(tick/45%5) - 2}
}

// e2eReconcile is one non-stale Reconcile the client made.
type e2eReconcile struct {
	ack       uint32
	corrected bool
}

type e2eResult struct {
	player                           PlayerID
	recs                             []e2eReconcile
	reconciles, matches, corrections int
	afterWarmup, correctionsAfter    int
	snapshots, deltas                int
	missingBaselines                 uint64
	err                              error
}

// TestEndToEndPredictionMatchesServer runs the server over netcode on an
// in-memory network with loss, latency and jitter both ways (netsim.Hub, in
// simulated time, so a loaded machine changes nothing), and a client that
// predicts its own entity with netcode/state's Predictor and Clock. Once the
// server applies the client's own inputs (after the first exact match),
// every snapshot's state of the client's entity equals the prediction for
// its acked input tick exactly: a correction may only come from an input
// the server did not get in time, which the server counts.
func TestEndToEndPredictionMatchesServer(t *testing.T) {
	synctest.Test(t, testEndToEndPrediction)
}

func testEndToEndPrediction(t *testing.T) {
	const run = 3 * time.Second
	link := netsim.Config{Loss: 0.05, Latency: 15 * time.Millisecond, Jitter: 5 * time.Millisecond}

	hub := netsim.NewHub()
	defer hub.Close()
	tr, err := NewNetcodeTransport(hub, netcode.ServerConfig{ProtocolID: 0x7e57, MaxClients: 4})
	require.NoError(t, err)
	g := newTestGame(10)
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := New(Config{Codec: testCodec, Logger: logger}, g, tr)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	serverDone := make(chan error, 1)
	go func() { serverDone <- srv.Run(ctx) }()

	dialCtx, dialCancel := context.WithTimeout(ctx, 5*time.Second)
	defer dialCancel()
	client, err := netcode.DialConn(dialCtx, hub.Dial(link, link, 42), netsim.ServerAddr, netcode.ClientConfig{ProtocolID: 0x7e57})
	require.NoError(t, err)

	res := runE2EClient(t, client, run)
	conn := client.ConnStats()
	require.NoError(t, client.Close())
	cancel()
	require.NoError(t, <-serverDone)
	require.NoError(t, res.err)

	st := srv.Stats()
	late := float64(st.InputTicks[InputRepeated] + st.InputTicks[InputMissing])
	t.Logf("snapshots %d (deltas %d), reconciles %d, exact matches %d, corrections %d (after warm-up: %d of %d), server late/missing input ticks %v, missing baselines %d",
		res.snapshots, res.deltas, res.reconciles, res.matches, res.corrections, res.correctionsAfter, res.afterWarmup, late, res.missingBaselines)
	assert.Greater(t, res.afterWarmup, int(run.Seconds()*30/3), "reconciled most snapshots after warm-up")
	assert.LessOrEqual(t, float64(res.correctionsAfter), late,
		"after warm-up, a prediction differs from the server only where the server lacked the client's input")

	// The exact check: between two reconciles (acks p < n), when the server
	// applied exactly the inputs the client predicted with for every tick
	// in (p, n], the prediction for n must equal the server's state.
	applied := map[uint32]string{}
	for _, a := range g.applied {
		if a.player == res.player {
			applied[a.tick] = a.input
		}
	}
	exact := 0
	for i := 1; i < len(res.recs); i++ {
		p, n := res.recs[i-1].ack, res.recs[i].ack
		same := true
		for tick := p + 1; tick <= n; tick++ {
			in := e2eInputFor(tick)
			if applied[tick] != string([]byte{byte(in.VX), byte(in.VY)}) {
				same = false
				break
			}
		}
		if same {
			exact++
			assert.False(t, res.recs[i].corrected, "ack %d: the server applied the predicted inputs since ack %d, yet the state differs", n, p)
		}
	}
	t.Logf("%d reconciles where the server had applied exactly the predicted inputs: all matched exactly", exact)
	assert.Greater(t, exact, int(run.Seconds()*30/3))
	assert.Greater(t, res.deltas, res.snapshots/2, "most snapshots are deltas")
	assert.Zero(t, res.missingBaselines)
	// One datagram per snapshot: the acks of the client's 60 Hz inputs
	// ride on its 30 Hz snapshots (Transport.Poll sends nothing; AckDelay)
	// instead of leaving in datagrams of their own. A few more carry the
	// handshake and the welcome.
	t.Logf("client received %d datagrams for %d snapshots", conn.PacketsReceived, res.snapshots)
	assert.LessOrEqual(t, conn.PacketsReceived, uint64(res.snapshots)*11/10+10)
}

// runE2EClient is a minimal game client: 60 Hz frames, inputs predicted
// ahead of the server and sent with redundancy, snapshots decoded and
// reconciled.
func runE2EClient(t *testing.T, c *netcode.Client, run time.Duration) e2eResult {
	var res e2eResult
	reader, err := wire.NewSnapshotReader(testCodec, 0)
	require.NoError(t, err)
	headers, err := state.NewDecoder(testCodec)
	require.NoError(t, err)
	writer, err := wire.NewInputWriter(4)
	require.NoError(t, err)
	clock, err := state.NewClock(state.DefaultClockConfig(time.Second / 60))
	require.NoError(t, err)
	var pred *state.Predictor[e2eState, e2eInput]
	var player PlayerID
	warm := false
	msg := make([]byte, 0, 256)

	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	deadline := time.After(run)
	for {
		select {
		case <-deadline:
			return res
		case <-frame.C:
		}
		now := time.Now()
		if err := c.Update(now); err != nil {
			res.err = err
			return res
		}
		for m, ok := c.ReadMessage(DefaultControlChannel); ok; m, ok = c.ReadMessage(DefaultControlChannel) {
			w, err := wire.DecodeWelcome(m)
			if err != nil {
				res.err = err
				return res
			}
			player = w.Player
			res.player = player
		}
		for m, ok := c.ReadMessage(DefaultSnapshotChannel); ok; m, ok = c.ReadMessage(DefaultSnapshotChannel) {
			snap, h, err := reader.Read(m)
			if err != nil {
				if errors.Is(err, state.ErrStaleSnapshot) || errors.Is(err, state.ErrMissingBaseline) {
					continue // counted by the reader; asserted below
				}
				res.err = err
				return res
			}
			res.snapshots++
			if hdr, _ := headers.ReadHeader(mustPayload(m)); hdr.Delta {
				res.deltas++
			}
			clock.Observe(now, snap.Tick, c.Stats().RTT)
			i, ok := snap.Find(uint32(player))
			if player == 0 || !ok {
				continue
			}
			f := snap.Fields(i)
			server := e2eState{f[0], f[1], f[2], f[3]}
			if pred == nil {
				pred, err = state.NewPredictor(state.PredictorConfig[e2eState, e2eInput]{
					Step: e2eStep, Equal: state.EqualComparable[e2eState],
				}, snap.Tick+1, server)
				require.NoError(t, err)
				continue
			}
			if !h.HasInputAck {
				continue
			}
			r := pred.Reconcile(h.InputAck, server)
			if r.Stale {
				continue
			}
			res.reconciles++
			res.recs = append(res.recs, e2eReconcile{ack: h.InputAck, corrected: r.Corrected})
			if r.Corrected {
				res.corrections++
			} else {
				res.matches++
				warm = true
			}
			if warm {
				res.afterWarmup++
				if r.Corrected {
					res.correctionsAfter++
				}
			}
		}
		res.missingBaselines = reader.MissingBaselines()
		writer.SetResync(reader.NeedResync())
		if pred != nil && clock.Synced() {
			target := clock.PredictionTick(now)
			for n := 0; pred.Tick() <= target && n < 8; n++ {
				in := e2eInputFor(pred.Tick())
				tick := pred.Predict(in)
				writer.Push(tick, []byte{byte(in.VX), byte(in.VY)})
			}
			if msg = writer.AppendMessage(msg[:0]); len(msg) > 0 {
				if _, err := c.Send(DefaultInputChannel, msg); err != nil {
					res.err = err
					return res
				}
			}
		}
		c.Flush(now)
	}
}

func mustPayload(m []byte) []byte {
	_, p, err := wire.DecodeSnapshotMessage(m)
	if err != nil {
		panic(err)
	}
	return p
}

// testWriter sends slog output to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// TestShutdownTellsClients: cancelling Run's context closes the transport,
// which tells every connected client (over plain loopback UDP: netsim's
// delayed datagrams die with its socket).
func TestShutdownTellsClients(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tr, err := ListenNetcode("127.0.0.1:0", netcode.ServerConfig{ProtocolID: 0x7e57, MaxClients: 4})
	require.NoError(t, err)
	g := newTestGame(1)
	srv, err := New(Config{Codec: testCodec}, g, tr)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	serverDone := make(chan error, 1)
	go func() { serverDone <- srv.Run(ctx) }()

	var clients []*netcode.Client
	for range 3 {
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := netcode.Dial(dctx, tr.Addr().String(), netcode.ClientConfig{ProtocolID: 0x7e57})
		dcancel()
		require.NoError(t, err)
		clients = append(clients, c)
	}
	// Wait until the server has the three players: each gets a welcome.
	for _, c := range clients {
		waitFor(t, c, func() bool {
			m, ok := c.ReadMessage(DefaultControlChannel)
			return ok && wire.MessageKind(m) == wire.KindWelcome
		})
	}
	cancel()
	require.NoError(t, <-serverDone)
	assert.ElementsMatch(t, []PlayerID{1, 2, 3}, g.removed)
	for _, c := range clients {
		var err error
		waitFor(t, c, func() bool {
			err = c.Update(time.Now())
			return err != nil
		})
		assert.ErrorIs(t, err, netcode.ErrDisconnected)
		_ = c.Close()
	}
}

// waitFor runs c's Update and cond after every datagram c receives (or
// every 50 ms) until cond is true; it fails the test after 5 s.
func waitFor(t *testing.T, c *netcode.Client, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_ = c.Update(time.Now())
		if cond() {
			return
		}
		select {
		case <-c.Wake():
		case <-tick.C:
		case <-deadline:
			t.Fatal("condition not reached in 5 s")
		}
	}
}
