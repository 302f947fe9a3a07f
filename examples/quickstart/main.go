// Command quickstart is the small game of the README's "Write your own game"
// guide: dots that players steer around a square field, coins that appear
// and vanish, and a chat. One process runs the authoritative server and a
// few headless clients over UDP on 127.0.0.1; each client predicts its own
// dot, interpolates the others, and says hello in the chat.
//
//	go run ./examples/quickstart            # server + 3 clients for 5 s
//	go run ./examples/quickstart -clients 5 -duration 10s
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
	"github.com/tickwire/tickwire/server/wire"
)

// ---- What both halves share: rules, snapshot kinds, messages ----

const protocolID = 0x51554943 // any number; server and clients must agree

// Dot is a player's state: what the server simulates and a client predicts.
type Dot struct{ X, Y int32 }

// Move is one tick's input.
type Move struct{ DX, DY int8 }

// Chat is a typed game message, sent both ways.
type Chat struct {
	From uint32 // player id; 0 for the server
	Text string
}

const field = 1000 // the field is [0, field) on both axes

// step is the rule for one player and one tick. It must be deterministic:
// the server runs it, and each client runs it again to predict its own dot.
func step(d Dot, m Move) Dot {
	d.X = min(max(d.X+3*int32(m.DX), 0), field-1)
	d.Y = min(max(d.Y+3*int32(m.DY), 0), field-1)
	return d
}

// Two kinds of entities, each with its own fields.
const (
	kindDot  = 0
	kindCoin = 1
)

var codec = state.CodecConfig{Kinds: []state.Kind{
	{Name: "dot", Fields: []state.Field{state.IntField("x", 10, false), state.IntField("y", 10, false)}},
	{Name: "coin", Fields: []state.Field{state.IntField("x", 10, false), state.IntField("y", 10, false), state.EnumField("value", 3)}},
}}

func messages() *wire.Messages {
	m := wire.NewMessages()
	if err := m.Register(1, Chat{}); err != nil {
		panic(err)
	}
	return m
}

// ---- The server's side: a server.Game ----

type game struct {
	srv   *server.Server
	dots  map[server.PlayerID]Dot
	moves map[server.PlayerID]Move
	coin  uint32 // the coin's entity id; a new one appears every 2 s
}

func (g *game) AddPlayer(id server.PlayerID) error {
	g.dots[id] = Dot{X: field / 2, Y: field / 2}
	return g.srv.Broadcast(Chat{Text: g.playerName(id) + " joined"})
}

func (g *game) RemovePlayer(id server.PlayerID) { delete(g.dots, id); delete(g.moves, id) }

// ApplyInput decodes two bytes; anything else from the network is ignored.
func (g *game) ApplyInput(id server.PlayerID, _ uint32, in []byte) {
	if len(in) == 2 {
		g.moves[id] = Move{DX: int8(in[0]), DY: int8(in[1])}
	}
}

func (g *game) Step(tick uint32) {
	for id, d := range g.dots {
		g.dots[id] = step(d, g.moves[id])
	}
	if tick%120 == 0 {
		g.coin = 1_000_000 + tick/120 // the old coin despawns, a new one spawns
	}
}

func (g *game) Snapshot(tick uint32, dst *state.Snapshot) {
	for id, d := range g.dots {
		f := dst.AddKind(uint32(id), kindDot)
		f[0], f[1] = d.X, d.Y
	}
	f := dst.AddKind(g.coin, kindCoin)
	f[0], f[1], f[2] = int32(g.coin*37%field), int32(g.coin*91%field), int32(g.coin%3)
}

// HandleMessage makes game a server.MessageHandler: chats are relayed to all.
func (g *game) HandleMessage(from server.PlayerID, msg any) {
	if c, ok := msg.(Chat); ok && len(c.Text) <= 100 {
		_ = g.srv.Broadcast(Chat{From: uint32(from), Text: c.Text})
	}
}

// newServer runs the game over tr, a transport such as
// server.ListenNetcode(":7000", …).
func newServer(tr server.Transport) (*server.Server, error) {
	g := &game{dots: map[server.PlayerID]Dot{}, moves: map[server.PlayerID]Move{}}
	srv, err := server.New(server.Config{Codec: codec, Messages: messages()}, g, tr)
	if err != nil {
		return nil, err
	}
	g.srv = srv // the game talks to players through the server
	return srv, nil
}

// ---- A client: the public client runtime, driven by a frame loop ----

// report is what one client saw.
type report struct {
	player                      uint32
	moved                       bool
	spawns, despawns, remoteMax int
	chats                       []Chat
	stats                       client.Stats
}

// clientConfig is a client's configuration, to which the caller adds where
// the server is (Addr, or Dial).
func clientConfig() client.Config[Dot, Move] {
	return client.Config[Dot, Move]{
		Netcode:     netcode.ClientConfig{ProtocolID: protocolID},
		Codec:       codec,
		Messages:    messages(),
		OwnState:    func(f []int32) (Dot, error) { return Dot{X: f[0], Y: f[1]}, nil },
		AppendInput: func(b []byte, m Move) []byte { return append(b, byte(m.DX), byte(m.DY)) },
		Step:        step,
		Equal:       state.EqualComparable[Dot],
	}
}

// play runs client number n's frame loop (60 frames a second) until ctx is
// done. A real game draws where this one takes notes.
func play(ctx context.Context, cfg client.Config[Dot, Move], n int) (report, error) {
	var r report
	c, err := client.New(cfg)
	if err != nil {
		return r, err
	}
	defer c.Close()
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	var start Dot
	said := false
	for {
		select {
		case <-ctx.Done():
			return r, nil
		case now := <-frame.C:
			c.Update(now, Move{DX: int8(n%3 - 1), DY: 1}) // each client steers its own way
			if st := c.Status(); st.Err != nil {
				return r, st.Err
			} else if st.State == client.Connected {
				r.stats = c.Stats()
			}
			for _, ev := range c.Events() {
				if ev.Kind == client.Spawned {
					r.spawns++
				} else {
					r.despawns++
				}
			}
			for _, m := range c.Messages() {
				if chat, ok := m.(Chat); ok {
					r.chats = append(r.chats, chat)
				}
			}
			if w, ok := c.Welcome(); ok && !said {
				r.player, said = uint32(w.Player), true
				_ = c.Send(Chat{Text: fmt.Sprintf("hello from client %d", n)})
			}
			if own, _, ok := c.Predicted(); ok {
				if start == (Dot{}) {
					start = own
				}
				r.moved = r.moved || own != start // draw own + c.SmoothOffset(now)
			}
			if f, ok := c.Remote(now); ok {
				r.remoteMax = max(r.remoteMax, f.Len()) // draw the others
			}
		}
	}
}

func main() {
	clients := flag.Int("clients", 3, "headless clients to run, 1..32")
	duration := flag.Duration("duration", 5*time.Second, "how long the clients play, 1s..1h")
	secure := flag.Bool("secure", false, "secure mode: clients join with connect tokens, packets are encrypted")
	flag.Parse()
	switch {
	case *clients < 1 || *clients > 32:
		usage("-clients %d: want 1..32", *clients)
	case *duration < time.Second || *duration > time.Hour:
		usage("-duration %v: want 1s..1h", *duration)
	case flag.NArg() > 0:
		usage("unexpected argument %q: this command takes flags only", flag.Arg(0))
	}
	if err := run(*clients, *duration, *secure); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "quickstart: "+format+"\n", args...)
	os.Exit(2)
}

func run(clients int, duration time.Duration, secure bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	scfg := netcode.ServerConfig{ProtocolID: protocolID}
	var key [netcode.KeySize]byte // shared by the backend and the servers
	if secure {
		if _, err := rand.Read(key[:]); err != nil {
			return err
		}
		scfg.TokenKey = &key
	}
	tr, err := server.ListenNetcode("127.0.0.1:0", scfg)
	if err != nil {
		return err
	}
	srv, err := newServer(tr)
	if err != nil {
		return err
	}
	go func() { _ = srv.Run(ctx) }()
	addr := tr.Addr().(*net.UDPAddr).AddrPort()
	var why error // what a client with a bad token is told
	refusal := make(chan error, 1)
	if secure {
		cfg := clientConfig()
		cfg.Addr = addr.String()
		cfg.Netcode.Token, err = badToken(addr)
		if err != nil {
			return err
		}
		go func() {
			var err error
			why, err = refused(ctx, cfg)
			refusal <- err
		}()
	}
	reports, err := playAll(ctx, clients, func(n int) client.Config[Dot, Move] {
		cfg := clientConfig()
		cfg.Addr = addr.String()
		if secure { // in a real game the client gets its token from the backend over HTTPS
			cfg.Netcode.Token, _ = issueToken(key, addr, uint64(100+n), fmt.Sprintf("ana-%d", n))
		}
		return cfg
	})
	if secure {
		if err := <-refusal; err != nil {
			return err
		}
		fmt.Println("a client with a token from another key:", why)
	}
	st := srv.Stats()
	fmt.Printf("server %s: %d ticks, %d overruns, %d game messages in\n", addr, st.Ticks, st.Overruns, st.MessagesIn)
	for n, r := range reports {
		fmt.Printf("client %d: player %d, moved %v, saw up to %d entities, %d spawns, %d despawns, RTT %v, %d corrections, %d stalls\n",
			n, r.player, r.moved, r.remoteMax, r.spawns, r.despawns, r.stats.RTT.Round(10*time.Microsecond), r.stats.Corrections, r.stats.Stalls)
		for _, c := range r.chats {
			fmt.Printf("  chat from %d: %s\n", c.From, c.Text)
		}
	}
	return err
}

// playAll runs the clients side by side until ctx is done.
func playAll(ctx context.Context, clients int, cfg func(n int) client.Config[Dot, Move]) ([]report, error) {
	reports, errs := make([]report, clients), make([]error, clients)
	done := make(chan struct{})
	for n := range clients {
		go func() { reports[n], errs[n] = play(ctx, cfg(n), n); done <- struct{}{} }()
	}
	for range clients {
		<-done
	}
	return reports, errors.Join(errs...)
}
