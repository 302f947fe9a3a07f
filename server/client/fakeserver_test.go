package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/client"
	"github.com/tickwire/tickwire/server/wire"
)

// fakeServer is the server half of the protocol written out by hand over a
// netcode.Server, for tests that decide exactly which message the client
// gets when: a snapshot not sent is a snapshot lost. The test drives it
// from its own goroutine, frame by frame, with the client.
type fakeServer struct {
	t      *testing.T
	srv    *netcode.Server
	id     netcode.ClientID
	joined bool
	msgs   *wire.Messages
	enc    *state.Encoder
	stride int
	snaps  map[uint32]*state.Snapshot // sent, by tick (delta baselines)

	got        []any // game messages from the client
	bad        int   // control messages that did not decode
	inputMsgs  int   // input messages from the client
	resyncs    int   // of those, with the resync flag
	inputTicks map[uint32]move
	in         wire.InputMessage
}

// newFakeServer makes a fake server on one end of a pipe and returns it
// with a Config.Dial for the other end (usable once).
func newFakeServer(t *testing.T, msgs *wire.Messages, link netsim.Config) (*fakeServer, func(context.Context) (*netcode.Client, error)) {
	t.Helper()
	cEnd, sEnd := netsim.Pipe(link, link, 1)
	srv, err := netcode.NewServer(sEnd, netcode.ServerConfig{ProtocolID: testProtocol, SendInline: true})
	require.NoError(t, err)
	enc, err := state.NewEncoder(dotCodec)
	require.NoError(t, err)
	f := &fakeServer{t: t, srv: srv, msgs: msgs, enc: enc, snaps: map[uint32]*state.Snapshot{}, inputTicks: map[uint32]move{}}
	t.Cleanup(func() { _ = srv.Close() })
	dial := func(ctx context.Context) (*netcode.Client, error) {
		return netcode.DialConn(ctx, cEnd, pipeServerAddr, netcode.ClientConfig{ProtocolID: testProtocol, Timeout: time.Second})
	}
	return f, dial
}

// step receives what the client sent, handles it, and flushes what the
// test queued.
func (f *fakeServer) step(now time.Time) {
	f.srv.Receive(now)
	for ev, ok := f.srv.PollEvent(); ok; ev, ok = f.srv.PollEvent() {
		if ev.Kind == netcode.EventConnect {
			f.id, f.joined = ev.Client, true
		}
	}
	if f.joined {
		for b, ok := f.srv.ReadMessage(f.id, client.DefaultInputChannel); ok; b, ok = f.srv.ReadMessage(f.id, client.DefaultInputChannel) {
			require.NoError(f.t, wire.DecodeInputMessage(b, &f.in))
			f.inputMsgs++
			if f.in.Resync {
				f.resyncs++
			}
			for i, in := range f.in.Inputs {
				m, ok := decodeMove(in)
				require.True(f.t, ok)
				f.inputTicks[f.in.NewestTick-uint32(i)] = m
			}
		}
		for b, ok := f.srv.ReadMessage(f.id, client.DefaultControlChannel); ok; b, ok = f.srv.ReadMessage(f.id, client.DefaultControlChannel) {
			v, err := f.msgs.Decode(b)
			if err != nil {
				f.bad++
				continue
			}
			f.got = append(f.got, v)
		}
	}
	f.srv.Flush(now)
}

// send queues msg on channel ch.
func (f *fakeServer) send(ch int, msg []byte) {
	f.t.Helper()
	require.True(f.t, f.joined, "no client yet")
	_, err := f.srv.Send(f.id, ch, msg)
	require.NoError(f.t, err)
}

func (f *fakeServer) welcome(player wire.PlayerID, tick uint32) {
	f.send(client.DefaultControlChannel, wire.AppendWelcome(nil, wire.Welcome{Player: player, TickRate: 60, SnapshotRate: 30, Tick: tick}))
}

// snapshot queues the snapshot of tick with the given entities (entity id
// at x = id·10 + tick, y = id), full, or a delta against the snapshot sent
// at base when base is not 0. The header acknowledges inputs up to tick.
func (f *fakeServer) snapshot(tick, base uint32, ids ...uint32) {
	f.t.Helper()
	s := state.NewSnapshot(tick, 2, len(ids))
	for _, id := range ids {
		fl := s.Add(id)
		fl[0], fl[1] = int32(id)*10+int32(tick), int32(id)
	}
	s.Sort()
	var baseSnap *state.Snapshot
	if base != 0 {
		baseSnap = f.snaps[base]
		require.NotNil(f.t, baseSnap, "no snapshot sent at tick %d", base)
	}
	msg := wire.AppendSnapshotHeader(nil, wire.SnapshotHeader{HasInputAck: true, InputAck: tick, InputLead: 2})
	msg, err := f.enc.Encode(msg, s, baseSnap)
	require.NoError(f.t, err)
	f.snaps[tick] = s
	f.send(client.DefaultSnapshotChannel, msg)
}

// ent is an entity of a snapshot built by snapshotOf.
type ent struct {
	id     uint32
	kind   uint8
	fields []int32
}

// useCodec makes the server encode its snapshots with codec.
func (f *fakeServer) useCodec(codec state.CodecConfig) {
	f.t.Helper()
	enc, err := state.NewEncoder(codec)
	require.NoError(f.t, err)
	f.enc, f.stride = enc, codec.Stride()
}

// snapshotOf queues a full snapshot of tick with the given entities.
func (f *fakeServer) snapshotOf(tick uint32, ents ...ent) {
	f.t.Helper()
	s := state.NewSnapshot(tick, f.stride, len(ents))
	for _, e := range ents {
		copy(s.AddKind(e.id, e.kind), e.fields)
	}
	s.Sort()
	msg := wire.AppendSnapshotHeader(nil, wire.SnapshotHeader{HasInputAck: true, InputAck: tick, InputLead: 2})
	msg, err := f.enc.Encode(msg, s, nil)
	require.NoError(f.t, err)
	f.send(client.DefaultSnapshotChannel, msg)
}

// frames runs n frames of frame each: server step, client Update with
// input, then wait.
func frames(n int, f *fakeServer, c *client.Client[dot, move], input move) {
	const frame = time.Second / 60
	for range n {
		now := time.Now()
		f.step(now)
		c.Update(now, input)
		time.Sleep(frame)
	}
}

// connectFake makes a client of a fake server and runs frames until it is
// connected and the server saw it join.
func connectFake(t *testing.T, f *fakeServer, cfg client.Config[dot, move]) *client.Client[dot, move] {
	t.Helper()
	c, err := client.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	for range 100 {
		frames(1, f, c, move{})
		if c.Status().State == client.Connected && f.joined {
			return c
		}
	}
	require.FailNow(t, "not connected", "%v", c.Status())
	return nil
}
