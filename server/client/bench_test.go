package client_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/client"
	"github.com/tickwire/tickwire/server/wire"
)

// BenchmarkUpdate measures a client's frame with a snapshot arriving in
// every frame (a delta of 32 entities, most of them moving, the own one
// among them): Update (read, decode, clock, interpolator, reconcile,
// predict, send the inputs, flush) and Remote. The server half is a bare
// netcode.Server over an in-memory pipe, driven in the same loop on a fake
// clock; its work and the pipe's are in the figures too.
func BenchmarkUpdate(b *testing.B) {
	var clock atomic.Int64
	clock.Store(time.Unix(1000, 0).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	advance := func(d time.Duration) time.Time { return time.Unix(0, clock.Add(int64(d))) }

	// The fake clock runs far ahead of the reader goroutines that stamp
	// arrivals with it: no timeouts.
	const timeout = time.Hour
	cEnd, sEnd := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	srv, err := netcode.NewServer(sEnd, netcode.ServerConfig{ProtocolID: testProtocol, SendInline: true, Clock: now, Timeout: timeout})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	var conn atomic.Pointer[netcode.Client]
	cfg := dotConfig()
	cfg.Dial = func(ctx context.Context) (*netcode.Client, error) {
		c, err := netcode.DialConn(ctx, cEnd, pipeServerAddr, netcode.ClientConfig{ProtocolID: testProtocol, Clock: now, Timeout: timeout})
		conn.Store(c)
		return c, err
	}
	c, err := client.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	// Connect (the handshake runs on real timers).
	var id netcode.ClientID
	for deadline := time.Now().Add(10 * time.Second); c.Status().State != client.Connected || id == 0; {
		if time.Now().After(deadline) {
			b.Fatal("not connected")
		}
		t := advance(time.Millisecond)
		srv.Update(t)
		for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
			id = ev.Client
		}
		c.Update(t, move{})
		time.Sleep(time.Millisecond)
	}
	nc := conn.Load()
	if _, err := srv.Send(id, client.DefaultControlChannel, wire.AppendWelcome(nil, wire.Welcome{Player: 1, TickRate: 60, SnapshotRate: 60})); err != nil {
		b.Fatal(err)
	}

	enc, err := state.NewEncoder(dotCodec)
	if err != nil {
		b.Fatal(err)
	}
	snaps := [2]*state.Snapshot{state.NewSnapshot(0, 2, 32), state.NewSnapshot(0, 2, 32)}
	var out []byte
	var own dot
	var in wire.InputMessage
	tick := uint32(0)
	wait := time.NewTimer(time.Second)
	wait.Stop()
	frame := func() {
		tick++
		t := advance(time.Second / 60)
		cur, base := snaps[tick%2], snaps[(tick+1)%2]
		cur.Reset(tick, 2)
		own = stepDot(own, move{DX: 1})
		f := cur.Add(1)
		f[0], f[1] = own.X, own.Y
		for k := range 31 {
			f := cur.Add(uint32(npcBase + k))
			x, _ := npcPos(k, tick)
			f[0], f[1] = x, int32(k)*40
		}
		hdr := wire.SnapshotHeader{HasInputAck: true, InputAck: tick, InputLead: 2}
		out = wire.AppendSnapshotHeader(out[:0], hdr)
		if tick == 1 {
			base = nil
		}
		if out, err = enc.Encode(out, cur, base); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.Send(id, client.DefaultSnapshotChannel, out); err != nil {
			b.Fatal(err)
		}
		srv.Flush(t)
		wait.Reset(time.Second)
		select { // the client's reader queued a datagram
		case <-nc.Wake():
		case <-wait.C:
		}
		wait.Stop()
		c.Update(t, move{DX: 1})
		c.Remote(t)
		srv.Receive(t)
		for msg, ok := srv.ReadMessage(id, client.DefaultInputChannel); ok; msg, ok = srv.ReadMessage(id, client.DefaultInputChannel) {
			_ = wire.DecodeInputMessage(msg, &in)
		}
	}
	for range 300 { // warm up: buffers, the clock, the prediction
		frame()
	}
	if _, _, ok := c.Predicted(); !ok {
		b.Fatal("not predicting after warm-up")
	}
	start := c.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		frame()
	}
	b.StopTimer()
	st := c.Stats()
	if st.Snapshots == start.Snapshots || st.InputMessages == start.InputMessages {
		b.Fatalf("no snapshot or input in the timed frames: %+v", st)
	}
	b.ReportMetric(float64(st.Snapshots-start.Snapshots)/float64(b.N), "snapshots/op")
}
