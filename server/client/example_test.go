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
	"github.com/tickwire/tickwire/server/wire"
)

// A client of the dots game (a dot per player, steered by a move per tick)
// connected to an in-process server over an in-memory pipe: the frame
// loop, entity events, the predicted own dot and the remote entities.
func Example() {
	dial, stop := exampleServer(newDotsGame(1), nil, nil)
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

// The game's own messages: the client sends a chat line, the server
// answers with a score (see TestGameMessagesAndKick for the server's Game),
// and a kick ends the session with the server's reason.
func ExampleClient_Send() {
	msgs := wire.NewMessages()
	_ = msgs.Register(1, chat{}) // both halves register the same types and ids
	_ = msgs.Register(2, score{})
	g := &chatDots{dotsGame: newDotsGame(0)}
	dial, stop := exampleServer(g, msgs, func(s *server.Server) { g.srv = s })
	defer stop()

	cfg := dotConfig()
	cfg.Dial, cfg.Messages = dial, msgs
	c, err := client.New(cfg)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	sent := false
	for frame := 0; frame < 600 && c.Status().State != client.Disconnected; frame++ {
		c.Update(time.Now(), move{})
		if c.Status().Welcomed && !sent {
			_ = c.Send(chat{Text: "hello"})
			sent = true
		}
		for _, m := range c.Messages() {
			switch m := m.(type) {
			case score:
				fmt.Println("score:", m.Points)
				_ = c.Send(chat{Text: "kick me"})
			}
		}
		time.Sleep(time.Second / 60)
	}
	fmt.Println(c.Status())
	// Output:
	// score: 5
	// disconnected: client: kicked: "asked for it"
}

// exampleServer runs a server.Server of game (the dots game) with the
// message registry msgs over a netsim pipe (no socket), in real time,
// calling setup with it first, and returns a Config.Dial for the pipe's
// other end and a function that stops the server.
func exampleServer(game server.Game, msgs *wire.Messages, setup func(*server.Server)) (dial func(context.Context) (*netcode.Client, error), stop func()) {
	cEnd, sEnd := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	tr, err := server.NewNetcodeTransport(sEnd, netcode.ServerConfig{ProtocolID: testProtocol})
	if err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Codec: dotCodec, Messages: msgs}, game, tr)
	if err != nil {
		panic(err)
	}
	if setup != nil {
		setup(srv)
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
