package client_test

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
	"github.com/tickwire/tickwire/server/wire"
)

// Game messages of the tests.
type chat struct{ Text string }
type score struct{ Points int }

func testMessages(t *testing.T) *wire.Messages {
	t.Helper()
	m := wire.NewMessages()
	require.NoError(t, m.Register(1, chat{}))
	require.NoError(t, m.Register(2, score{}))
	return m
}

// TestGameMessagesAndKickFake: typed messages go both ways on the control
// channel; unknown and malformed ones (which a real server does not send)
// are dropped and counted; a kick message disconnects the client with its
// reason, for good.
func TestGameMessagesAndKickFake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		msgs := testMessages(t)
		f, dial := newFakeServer(t, msgs, netsim.Config{Latency: 15 * time.Millisecond, Loss: 0.2})
		cfg := dotConfig()
		cfg.Dial = dial
		cfg.Messages = msgs
		cfg.Reconnect = client.ReconnectPolicy{Enabled: true} // a kick is final anyway
		c, err := client.New(cfg)
		require.NoError(t, err)
		assert.ErrorIs(t, c.Send(chat{"too early"}), client.ErrNotConnected)
		require.NoError(t, c.Close())
		assert.ErrorIs(t, c.Send(chat{"too late"}), client.ErrClosed)
		assert.ErrorIs(t, c.Close(), client.ErrClosed)

		f, dial = newFakeServer(t, msgs, netsim.Config{Latency: 15 * time.Millisecond, Loss: 0.2})
		cfg.Dial = dial
		c = connectFake(t, f, cfg)

		// Client to server, reliable and in order over a lossy link.
		for i := range 5 {
			require.NoError(t, c.Send(chat{Text: string(rune('a' + i))}))
		}
		require.NoError(t, c.Send(&score{Points: 3}), "a pointer to a registered type")
		err = c.Send(struct{ X int }{1})
		assert.ErrorIs(t, err, wire.ErrInvalidConfig, "an unregistered type")
		frames(60, f, c, move{})
		assert.Equal(t, []any{chat{"a"}, chat{"b"}, chat{"c"}, chat{"d"}, chat{"e"}, score{3}}, f.got)

		// Server to client, with garbage among them.
		good, err := msgs.Append(nil, score{Points: 7})
		require.NoError(t, err)
		unknown := binary.AppendUvarint([]byte{wire.KindGame}, 99)
		unknown = append(unknown, 0xc0) // msgpack nil
		malformed := []byte{wire.KindGame, 1, 0xc1}
		second := wire.AppendWelcome(nil, wire.Welcome{Player: 9, TickRate: 60, SnapshotRate: 30})
		f.welcome(1, 0)
		for _, m := range [][]byte{unknown, good, malformed, {0x77}, second, good} {
			f.send(client.DefaultControlChannel, m)
		}
		var got []any
		for range 60 {
			frames(1, f, c, move{})
			got = append(got, c.Messages()...)
		}
		assert.Equal(t, []any{score{7}, score{7}}, got)
		st := c.Stats()
		assert.Equal(t, uint64(2), st.GameMessages)
		assert.Equal(t, uint64(4), st.BadMessages, "unknown type, malformed body, unknown kind, second welcome")
		w, _ := c.Welcome()
		assert.Equal(t, wire.PlayerID(1), w.Player, "the second welcome is ignored")

		// A kick: the reason shows; no reconnect.
		f.snapshot(30, 0, 1, 4)
		frames(10, f, c, move{})
		f.send(client.DefaultControlChannel, wire.AppendKick(nil, "cheating"))
		var events []client.EntityEvent
		for range 60 {
			frames(1, f, c, move{})
			events = append(events, c.Events()...)
		}
		s := c.Status()
		assert.Equal(t, client.Disconnected, s.State)
		var kicked *client.KickedError
		require.True(t, errors.As(s.Err, &kicked), "%v", s.Err)
		assert.Equal(t, "cheating", kicked.Reason)
		assert.Equal(t, `disconnected: client: kicked: "cheating"`, s.String())
		assert.Zero(t, s.RetryIn, "a kicked client does not reconnect")
		assert.Len(t, events, 2, "both entities despawn")
		assert.ErrorIs(t, c.Send(chat{"still there?"}), client.ErrNotConnected)
		frames(120, f, c, move{})
		assert.Equal(t, client.Disconnected, c.Status().State)
		assert.Equal(t, uint64(1), c.Stats().Connects)
	})
}

// chatDots is the dots game with chat: the server answers each chat
// message with the score of its length, and kicks whoever asks for it.
type chatDots struct {
	*dotsGame
	srv *server.Server
	mu  sync.Mutex
	got []any
}

func (g *chatDots) HandleMessage(from server.PlayerID, msg any) {
	g.mu.Lock()
	g.got = append(g.got, msg)
	g.mu.Unlock()
	if c, ok := msg.(chat); ok {
		if c.Text == "kick me" {
			_ = g.srv.Kick(from, "asked for it")
			return
		}
		_ = g.srv.Send(from, score{Points: len(c.Text)})
	}
}

// TestGameMessagesAndKick: the same against a real server.Server: a chat
// message reaches the Game's MessageHandler, its answer (server.Send)
// reaches the client, and server.Kick disconnects the client with the
// reason, for good.
func TestGameMessagesAndKick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		msgs := testMessages(t)
		g := &chatDots{dotsGame: newDotsGame(1)}
		ts := startServerWith(t, server.Config{Codec: dotCodec, Messages: msgs}, g, g.dotsGame, func(s *server.Server) { g.srv = s })
		link := netsim.Config{Latency: 20 * time.Millisecond, Loss: 0.1}
		d := &dialer{target: ts.hub, up: link, down: link}
		cfg := dotConfig()
		cfg.Dial = d.dial
		cfg.Messages = msgs
		cfg.Reconnect = client.ReconnectPolicy{Enabled: true}
		c, err := client.New(cfg)
		require.NoError(t, err)
		defer c.Close()

		var got []any
		var events []client.EntityEvent
		run := func(n int) {
			for range n {
				now := time.Now()
				c.Update(now, move{DY: 1})
				got = append(got, c.Messages()...)
				events = append(events, c.Events()...)
				time.Sleep(time.Second / 60)
			}
		}
		for range 120 {
			if _, _, ok := c.Predicted(); ok {
				break
			}
			run(1)
		}
		_, _, ok := c.Predicted()
		require.True(t, ok, "%v", c.Status())

		require.NoError(t, c.Send(chat{Text: "hello"}))
		require.NoError(t, c.Send(chat{Text: "hi"}))
		run(60)
		assert.Equal(t, []any{score{5}, score{2}}, got)
		g.mu.Lock()
		assert.Equal(t, []any{chat{"hello"}, chat{"hi"}}, g.got)
		g.mu.Unlock()

		require.NoError(t, c.Send(chat{Text: "kick me"}))
		run(60)
		st := c.Status()
		assert.Equal(t, client.Disconnected, st.State)
		var kicked *client.KickedError
		require.True(t, errors.As(st.Err, &kicked), "%v", st.Err)
		assert.Equal(t, "asked for it", kicked.Reason)
		assert.Zero(t, st.RetryIn, "a kicked client does not reconnect")
		assert.Equal(t, 2, countKind(events, client.Spawned))
		assert.Equal(t, 2, countKind(events, client.Despawned), "the world despawned")
		run(120)
		assert.Equal(t, uint64(1), c.Stats().Connects)
		assert.Zero(t, c.Stats().BadMessages)

		require.NoError(t, c.Close())
		ts.stop(t)
	})
}
