package server_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/wire"
)

// counterGame is a minimal Game: each player is an entity whose x counts
// the ticks it held input 1.
type counterGame struct{ x map[server.PlayerID]int32 }

func (g *counterGame) AddPlayer(id server.PlayerID) error { g.x[id] = 0; return nil }
func (g *counterGame) RemovePlayer(id server.PlayerID)    { delete(g.x, id) }
func (g *counterGame) ApplyInput(id server.PlayerID, _ uint32, in []byte) {
	if len(in) == 1 && in[0] == 1 {
		g.x[id]++
	}
}
func (g *counterGame) Step(uint32) {}
func (g *counterGame) Snapshot(_ uint32, dst *state.Snapshot) {
	for id, x := range g.x {
		dst.Add(uint32(id))[0] = x
	}
}

// A server on a loopback UDP socket, and a client that reads its welcome
// and its first snapshot; cancelling the context shuts the server down and
// tells the client.
func Example_server() {
	codec := state.CodecConfig{Schema: state.Schema{Fields: []state.Field{{Name: "x", Bits: 16}}}}
	tr, err := server.ListenNetcode("127.0.0.1:0", netcode.ServerConfig{ProtocolID: 42})
	if err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Codec: codec}, &counterGame{x: map[server.PlayerID]int32{}}, tr)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	c, err := netcode.Dial(ctx, tr.Addr().String(), netcode.ClientConfig{ProtocolID: 42})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	reader, err := wire.NewSnapshotReader(codec, 0)
	if err != nil {
		panic(err)
	}
	for got := false; !got; {
		select {
		case <-c.Wake():
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			panic("no snapshot")
		}
		if err := c.Update(time.Now()); err != nil {
			panic(err)
		}
		if m, ok := c.ReadMessage(server.DefaultControlChannel); ok {
			w, err := wire.DecodeWelcome(m)
			if err != nil {
				panic(err)
			}
			fmt.Printf("welcome: player %d, %d Hz ticks, %d Hz snapshots\n", w.Player, w.TickRate, w.SnapshotRate)
		}
		if m, ok := c.ReadMessage(server.DefaultSnapshotChannel); ok {
			snap, hdr, err := reader.Read(m)
			if err != nil {
				panic(err)
			}
			fmt.Printf("snapshot: %d entity, input ack %v\n", snap.Len(), hdr.HasInputAck)
			got = true
		}
	}
	cancel()
	fmt.Println("server stopped:", <-done)
	// Output:
	// welcome: player 1, 60 Hz ticks, 30 Hz snapshots
	// snapshot: 1 entity, input ack false
	// server stopped: <nil>
}
