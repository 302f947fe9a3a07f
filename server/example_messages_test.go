package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/wire"
)

// Chat and Notice are a game's own messages. The server and its clients
// register them under the same ids.
type Chat struct {
	From server.PlayerID
	Text string
}

type Notice struct{ Text string }

func gameMessages() *wire.Messages {
	msgs := wire.NewMessages()
	if err := msgs.Register(1, Chat{}); err != nil {
		panic(err)
	}
	if err := msgs.Register(2, Notice{}); err != nil {
		panic(err)
	}
	return msgs
}

// chatGame greets each player, relays chat to everyone and kicks players
// who shout. It calls the server from its methods, so it keeps the
// *server.Server that server.New returned.
type chatGame struct {
	counterGame
	srv *server.Server
}

func (g *chatGame) AddPlayer(id server.PlayerID) error {
	if err := g.counterGame.AddPlayer(id); err != nil {
		return err
	}
	return g.srv.Send(id, Notice{Text: fmt.Sprintf("welcome, player %d", id)})
}

// HandleMessage makes chatGame a server.MessageHandler.
func (g *chatGame) HandleMessage(from server.PlayerID, msg any) {
	switch m := msg.(type) {
	case Chat:
		if m.Text != "" && strings.ToUpper(m.Text) == m.Text {
			_ = g.srv.Kick(from, "no shouting")
			return
		}
		m.From = from // never trust what the client says it is
		_ = g.srv.Broadcast(m)
	}
}

var exampleCodec = state.CodecConfig{Schema: state.Schema{Fields: []state.Field{{Name: "x", Bits: 16}}}}

// newChatServer builds the server of a chatGame over one end of an
// in-memory pipe, and dials the other end while stepping the server (Step
// and the client are used from this goroutine only). Without Run, a tick
// happens when the host calls Step.
func newChatServer() (*server.Server, *netcode.Client) {
	serverEnd, clientEnd := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	tr, err := server.NewNetcodeTransport(serverEnd, netcode.ServerConfig{ProtocolID: 7})
	if err != nil {
		panic(err)
	}
	game := &chatGame{counterGame: counterGame{x: map[server.PlayerID]int32{}}}
	srv, err := server.New(server.Config{Codec: exampleCodec, Messages: gameMessages()}, game, tr)
	if err != nil {
		panic(err)
	}
	game.srv = srv // the game's methods call the server

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// DialConn compares the server's address with the datagrams' source,
	// so pass the plain IPv4 form.
	addr := serverEnd.LocalAddr().(*net.UDPAddr).AddrPort()
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	dialed := make(chan *netcode.Client, 1)
	go func() {
		c, err := netcode.DialConn(ctx, clientEnd, addr, netcode.ClientConfig{ProtocolID: 7})
		if err != nil {
			panic(err)
		}
		dialed <- c
	}()
	for {
		if err := srv.Step(time.Now()); err != nil {
			panic(err)
		}
		select {
		case c := <-dialed:
			return srv, c
		case <-time.After(time.Millisecond):
		}
	}
}

// pump steps the server (unless it is nil) and updates the client until
// the client has read n control messages (printing each), or its
// connection ended.
func pump(srv *server.Server, c *netcode.Client, n int) {
	msgs := gameMessages()
	for deadline := time.Now().Add(10 * time.Second); n > 0; {
		if time.Now().After(deadline) {
			panic("no message in 10 s")
		}
		if srv != nil {
			if err := srv.Step(time.Now()); err != nil {
				panic(err)
			}
		}
		err := c.Update(time.Now())
		for m, ok := c.ReadMessage(server.DefaultControlChannel); ok; m, ok = c.ReadMessage(server.DefaultControlChannel) {
			n--
			switch wire.MessageKind(m) {
			case wire.KindWelcome:
				w, _ := wire.DecodeWelcome(m)
				fmt.Println("welcome: player", w.Player)
			case wire.KindKick:
				reason, _ := wire.DecodeKick(m)
				fmt.Println("kicked:", reason)
			case wire.KindGame:
				v, err := msgs.Decode(m)
				if err != nil {
					panic(err)
				}
				fmt.Printf("%T %+v\n", v, v)
			}
		}
		if err != nil {
			fmt.Println("disconnected:", errors.Is(err, netcode.ErrDisconnected))
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// A host drives the server itself, one Step per tick, instead of Run:
// here a client connects over an in-memory pipe, and Close ends the
// server, telling the client.
func ExampleServer_Step() {
	srv, c := newChatServer()
	defer c.Close()
	pump(srv, c, 2) // the welcome, then AddPlayer's notice
	// Between Steps, the host may call the server as the game does.
	fmt.Println("players:", srv.Players(), "clients:", srv.Stats().Clients)
	if err := srv.Close(); err != nil {
		panic(err)
	}
	pump(nil, c, 1)
	// Output:
	// welcome: player 1
	// server_test.Notice {Text:welcome, player 1}
	// players: [1] clients: 1
	// disconnected: true
}

// The game sends one player a message (chatGame.AddPlayer greets each
// player with a Notice); the client reads it after the Welcome, on the
// control channel.
func ExampleServer_Send() {
	srv, c := newChatServer()
	defer c.Close()
	defer srv.Close()
	pump(srv, c, 2)
	// The host may send too, between Steps.
	if err := srv.Send(1, Notice{Text: "the round starts"}); err != nil {
		panic(err)
	}
	pump(srv, c, 1)
	fmt.Println(srv.Send(2, Notice{}))
	fmt.Println(srv.Send(1, "a string"))
	// Output:
	// welcome: player 1
	// server_test.Notice {Text:welcome, player 1}
	// server_test.Notice {Text:the round starts}
	// server: unknown player: 2 (not connected, left or kicked)
	// server: unregistered message type: string is not registered in Config.Messages
}

// A client sends a Chat; the game's HandleMessage stamps it with the
// sender and relays it to every player with Broadcast.
func ExampleServer_Broadcast() {
	srv, c := newChatServer()
	defer c.Close()
	defer srv.Close()
	pump(srv, c, 2)
	msgs := gameMessages()
	msg, err := msgs.Append(nil, Chat{From: 99, Text: "hello"})
	if err != nil {
		panic(err)
	}
	if _, err := c.Send(server.DefaultControlChannel, msg); err != nil {
		panic(err)
	}
	pump(srv, c, 1)
	st := srv.Stats()
	fmt.Printf("messages in %d, out %d\n", st.MessagesIn, st.MessagesOut)
	// Output:
	// welcome: player 1
	// server_test.Notice {Text:welcome, player 1}
	// server_test.Chat {From:1 Text:hello}
	// messages in 1, out 2
}

// A client shouts; the game kicks it. The client reads the reason, then
// its connection ends (as soon as it has acknowledged the kick).
func ExampleServer_Kick() {
	srv, c := newChatServer()
	defer c.Close()
	defer srv.Close()
	pump(srv, c, 2)
	msg, err := gameMessages().Append(nil, Chat{Text: "HELLO"})
	if err != nil {
		panic(err)
	}
	if _, err := c.Send(server.DefaultControlChannel, msg); err != nil {
		panic(err)
	}
	pump(srv, c, 2) // the kick, then the end of the connection
	fmt.Println("players:", srv.Players(), "kicks:", srv.Stats().Kicks)
	// Output:
	// welcome: player 1
	// server_test.Notice {Text:welcome, player 1}
	// kicked: no shouting
	// disconnected: true
	// players: [] kicks: 1
}
