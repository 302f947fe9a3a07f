package client_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// A client of the dots game (a dot per player, steered by a move per tick)
// connected to an in-process server over an in-memory pipe: the frame
// loop, entity events, the predicted own dot and the remote entities.
func Example() {
	dial, stop := exampleServer()
	defer stop()

	c, err := client.New(client.Config[dot, move]{
		Dial:  dial, // a real game sets Addr: "host:port" instead
		Codec: dotCodec,
		// The own entity's snapshot fields are its state {X, Y}.
		OwnState: func(f []int32) (dot, error) { return dot{X: f[0], Y: f[1]}, nil },
		// An input is two bytes, as the server's Game decodes it.
		AppendInput: func(b []byte, m move) []byte { return append(b, byte(m.DX), byte(m.DY)) },
		// The rules the server runs, for prediction.
		Step:  stepDot,
		Equal: state.EqualComparable[dot],
	})
	if err != nil {
		panic(err)
	}

	var spawned []uint32
	var first dot
	var firstTick uint32
	for frame := 0; frame < 600; frame++ {
		now := time.Now()
		c.Update(now, move{DX: 1}) // steer right
		for _, ev := range c.Events() {
			if ev.Kind == client.Spawned {
				spawned = append(spawned, ev.ID)
			}
		}
		own, tick, ok := c.Predicted()
		if ok && firstTick == 0 {
			first, firstTick = own, tick
		}
		if ok && tick >= firstTick+30 {
			w, _ := c.Welcome()
			fmt.Println("player", w.Player, "|", c.Status())
			slices.Sort(spawned)
			fmt.Println("spawned", spawned)
			fmt.Println("moved right:", own.X > first.X)
			if f, ok := c.Remote(now); ok {
				_, npc := f.Find(npcBase)
				fmt.Println("NPC interpolated:", npc)
			}
			break
		}
		time.Sleep(time.Second / 60)
	}
	if err := c.Close(); err != nil {
		panic(err)
	}
	fmt.Println(c.Status())
	// Output:
	// player 1 | connected
	// spawned [1 1000]
	// moved right: true
	// NPC interpolated: true
	// disconnected: client: closed
}

// exampleServer runs a server.Server of the dots game with one NPC over a
// netsim pipe (no socket), in real time, and returns a Config.Dial for the
// pipe's other end and a function that stops the server.
func exampleServer() (dial func(context.Context) (*netcode.Client, error), stop func()) {
	cEnd, sEnd := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	tr, err := server.NewNetcodeTransport(sEnd, netcode.ServerConfig{ProtocolID: testProtocol})
	if err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Codec: dotCodec}, newDotsGame(1), tr)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	dial = func(ctx context.Context) (*netcode.Client, error) {
		return netcode.DialConn(ctx, cEnd, pipeServerAddr, netcode.ClientConfig{ProtocolID: testProtocol})
	}
	return dial, func() {
		cancel()
		if err := <-done; err != nil {
			panic(err)
		}
	}
}
