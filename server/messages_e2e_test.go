package server

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"

	"github.com/tickwire/tickwire/server/wire"
)

const e2eProtocol = 0x7e57

// netClient is a raw netcode client that logs what the server sends it on
// the control channel: "welcome <player>", a decoded game message, "kick
// <reason>", and "disconnected" when its connection ends.
type netClient struct {
	c         *netcode.Client
	msgs      *wire.Messages
	player    PlayerID
	log       []string
	snapshots int
	err       error // why the connection ended
}

func (nc *netClient) update(t *testing.T) {
	t.Helper()
	if nc.err != nil {
		return
	}
	err := nc.c.Update(time.Now())
	for m, ok := nc.c.ReadMessage(DefaultControlChannel); ok; m, ok = nc.c.ReadMessage(DefaultControlChannel) {
		switch wire.MessageKind(m) {
		case wire.KindWelcome:
			w, err := wire.DecodeWelcome(m)
			require.NoError(t, err)
			nc.player = w.Player
			nc.log = append(nc.log, fmt.Sprintf("welcome %d", w.Player))
		case wire.KindKick:
			reason, err := wire.DecodeKick(m)
			require.NoError(t, err)
			nc.log = append(nc.log, "kick "+reason)
		default:
			v, err := nc.msgs.Decode(m)
			require.NoError(t, err)
			nc.log = append(nc.log, fmt.Sprintf("%v", v))
		}
	}
	for _, ok := nc.c.ReadMessage(DefaultSnapshotChannel); ok; _, ok = nc.c.ReadMessage(DefaultSnapshotChannel) {
		nc.snapshots++
	}
	if err != nil {
		nc.err = err
		nc.log = append(nc.log, "disconnected")
	}
}

// send queues a raw message on the control channel.
func (nc *netClient) send(t *testing.T, msg []byte) {
	t.Helper()
	_, err := nc.c.Send(DefaultControlChannel, msg)
	require.NoError(t, err)
}

// netWorld is a Server on NetcodeTransport over a pipeHub, stepped at
// 60 Hz in a synctest bubble, with its clients updated after every tick.
type netWorld struct {
	t       *testing.T
	hub     *pipeHub
	srv     *Server
	clients []*netClient
	link    netsim.Config
}

func newNetWorld(t *testing.T, ncfg netcode.ServerConfig, cfg Config, g Game, link netsim.Config) *netWorld {
	t.Helper()
	hub := newPipeHub()
	ncfg.ProtocolID = e2eProtocol
	tr, err := NewNetcodeTransport(hub, ncfg)
	require.NoError(t, err)
	cfg.Codec = testCodec
	srv, err := New(cfg, g, tr)
	require.NoError(t, err)
	return &netWorld{t: t, hub: hub, srv: srv, link: link}
}

// step runs one server tick now, updates the clients, and sleeps a tick.
func (w *netWorld) step() {
	w.t.Helper()
	require.NoError(w.t, w.srv.Step(time.Now()))
	for _, c := range w.clients {
		c.update(w.t)
	}
	time.Sleep(time.Second / DefaultTickRate)
}

// steps runs n ticks.
func (w *netWorld) steps(n int) {
	w.t.Helper()
	for range n {
		w.step()
	}
}

// dial connects a client (with token, when not nil), stepping the server
// until its welcome arrives, and returns it with its address as the server
// sees it.
func (w *netWorld) dial(token []byte) (*netClient, netip.AddrPort) {
	w.t.Helper()
	pc, addr := w.hub.dial(w.link, w.link, uint64(len(w.clients)+1))
	done := make(chan error, 1)
	var c *netcode.Client
	go func() {
		var err error
		c, err = netcode.DialConn(w.t.Context(), pc, hubServerAddr, netcode.ClientConfig{ProtocolID: e2eProtocol, Token: token})
		done <- err
	}()
	for dialed := false; !dialed; {
		w.step()
		select {
		case err := <-done:
			require.NoError(w.t, err)
			dialed = true
		default:
		}
	}
	nc := &netClient{c: c, msgs: w.srv.cfg.Messages}
	w.clients = append(w.clients, nc)
	for range 30 {
		if nc.player != 0 {
			return nc, addr
		}
		w.step()
	}
	w.t.Fatal("no welcome in 30 ticks")
	return nil, addr
}

func (w *netWorld) close() {
	w.t.Helper()
	require.NoError(w.t, w.srv.Close())
	for _, c := range w.clients {
		_ = c.c.Close()
	}
}

// TestGameMessagesOverNetcode: three raw netcode clients over simulated
// links (latency, jitter, loss). The game sends a typed event to one
// player and relays chat to all; a client's malformed messages are dropped
// and counted while its connection and good messages go on; a kicked
// player's client gets the reason, then its connection ends, while the
// others keep playing.
func TestGameMessagesOverNetcode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newMsgGame()
		link := netsim.Config{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.1}
		w := newNetWorld(t, netcode.ServerConfig{MaxClients: 4}, Config{Messages: testMessages(t)}, g, link)
		defer w.close()
		// The game relays chat to everyone, stamped with the sender.
		g.onMsg = func(from PlayerID, msg any) {
			if c, ok := msg.(chatMsg); ok {
				c.From = from
				require.NoError(t, w.srv.Broadcast(c))
			}
		}
		a, _ := w.dial(nil)
		b, _ := w.dial(nil)
		c, _ := w.dial(nil)
		require.Equal(t, []PlayerID{1, 2, 3}, []PlayerID{a.player, b.player, c.player})

		// An event to player 2 only, and chat relayed to all, in order.
		require.NoError(t, w.srv.Send(2, hitMsg{Target: 2, Damage: 7}))
		a.send(t, gameMsg(t, chatMsg{Text: "hello"}))
		a.send(t, gameMsg(t, chatMsg{Text: "again"}))
		// Malformed from client b: unknown type, garbage body, another
		// kind on the control channel; then a good one.
		b.send(t, []byte{wire.KindGame, 99, 0xc0})
		b.send(t, []byte{wire.KindGame, chatType, 0xc1, 0xff, 0x00})
		b.send(t, wire.AppendWelcome(nil, wire.Welcome{Player: 9, TickRate: 60, SnapshotRate: 30}))
		b.send(t, gameMsg(t, chatMsg{Text: "b here"}))
		w.steps(60)

		// a's and b's messages travel on different links: either may
		// arrive first, but each client's arrive in order, and everyone
		// sees the chat in the order the game relayed it.
		require.ElementsMatch(t, []gotMsg{
			{1, chatMsg{Text: "hello"}}, {1, chatMsg{Text: "again"}}, {2, chatMsg{Text: "b here"}},
		}, g.got, "each message once, from the right player")
		var chat []string
		for _, m := range g.got {
			c := m.msg.(chatMsg)
			chat = append(chat, fmt.Sprintf("{%d %s}", m.from, c.Text))
		}
		assert.Less(t, slices.Index(chat, "{1 hello}"), slices.Index(chat, "{1 again}"))
		assert.Equal(t, append([]string{"welcome 1"}, chat...), a.log)
		assert.Equal(t, append([]string{"welcome 2", "{2 7}"}, chat...), b.log)
		assert.Equal(t, append([]string{"welcome 3"}, chat...), c.log)
		st := w.srv.Stats()
		assert.Equal(t, uint64(3), st.MessagesIn)
		assert.Equal(t, uint64(1+3*3), st.MessagesOut)
		assert.Equal(t, uint64(3), st.MessagesDropped)
		assert.Equal(t, uint64(2), st.Drops[DropMessageMalformed])
		assert.Equal(t, uint64(1), st.Drops[DropUnexpectedMsg])
		require.NoError(t, b.err, "b's connection survived its bad messages")

		// Kick player 3 from the game (during a tick, as a game would).
		kickAt := w.srv.Tick() + 1
		g.stepHook = func(tick uint32) {
			if tick == kickAt {
				require.NoError(t, w.srv.Kick(3, "too good"))
			}
		}
		snapsA := a.snapshots
		var endedAfter int
		for n := 1; c.err == nil && n <= 60; n++ {
			w.step()
			endedAfter = n
		}
		require.Error(t, c.err, "the kicked client's connection ended")
		assert.ErrorIs(t, c.err, netcode.ErrDisconnected)
		assert.Equal(t, append([]string{"welcome 3"}, append(chat, "kick too good", "disconnected")...), c.log,
			"the reason arrived before the connection ended")
		t.Logf("the kicked client's connection ended %d ticks after the kick", endedAfter)
		assert.Less(t, endedAfter, 30, "ended when the kick was acked, before the 500 ms grace")
		assert.Contains(t, g.removed, PlayerID(3))

		// The others play on.
		a.send(t, gameMsg(t, chatMsg{Text: "gg"}))
		w.steps(30)
		assert.Equal(t, "{1 gg}", a.log[len(a.log)-1])
		assert.Equal(t, "{1 gg}", b.log[len(b.log)-1])
		assert.Greater(t, a.snapshots, snapsA+(endedAfter+30)/2-3, "30 Hz snapshots")
		assert.NoError(t, a.err)
		assert.NoError(t, b.err)
		assert.Equal(t, []PlayerID{1, 2}, w.srv.Players())
		assert.Equal(t, uint64(1), w.srv.Stats().Kicks)
	})
}

// TestPlayerInfoOverNetcode: in secure mode a player's info carries the
// connect token's client id and user data, the address the server sees,
// the tick it joined and, after some traffic, the link's RTT; in plain
// mode the user data is nil.
func TestPlayerInfoOverNetcode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key, err := netcode.GenerateKey(rand.Reader)
		require.NoError(t, err)
		g := newMsgGame()
		var inAdd []byte
		var joined uint32
		link := netsim.Config{Latency: 25 * time.Millisecond}
		w := newNetWorld(t, netcode.ServerConfig{TokenKey: &key, PublicAddr: hubServerAddr}, Config{Messages: testMessages(t)}, g, link)
		defer w.close()
		g.onAdd = func(id PlayerID) {
			info, ok := w.srv.Player(id)
			require.True(t, ok)
			inAdd = info.UserData // AddPlayer can tell who joins
			joined = w.srv.Tick()
		}
		token, err := netcode.IssueConnectToken(key, netcode.ConnectToken{
			ProtocolID: e2eProtocol, ClientID: 4242, Expires: time.Now().Add(time.Minute),
			ServerAddrs: []netip.AddrPort{hubServerAddr}, UserData: []byte("account:alice"),
		}, rand.Reader)
		require.NoError(t, err)
		w.steps(3)
		nc, addr := w.dial(token)
		// Traffic both ways for a second: inputs up, snapshots down.
		for range 60 {
			_, err := nc.c.Send(DefaultInputChannel, inputMsg(t, w.srv.Tick()+2, "ab"))
			require.NoError(t, err)
			w.step()
		}
		info, ok := w.srv.Player(1)
		require.True(t, ok)
		assert.Equal(t, PlayerID(1), info.ID)
		assert.Equal(t, ClientID(4242), info.Client, "the token's client id")
		assert.Equal(t, addr, info.Addr)
		assert.Equal(t, []byte("account:alice"), info.UserData)
		assert.Equal(t, []byte("account:alice"), inAdd)
		assert.Equal(t, joined, info.JoinedTick)
		assert.Greater(t, joined, uint32(3), "joined after the 3 ticks before the dial")
		// 25 ms each way; acks are held at most AckDelay and that is
		// subtracted, but the server reads them only at its ticks.
		assert.GreaterOrEqual(t, info.RTT, 50*time.Millisecond)
		assert.Less(t, info.RTT, 50*time.Millisecond+2*time.Second/DefaultTickRate)
		assert.Zero(t, info.PacketLoss)
		require.NoError(t, nc.err)
	})
	synctest.Test(t, func(t *testing.T) {
		w := newNetWorld(t, netcode.ServerConfig{}, Config{}, newMsgGame(), netsim.Config{})
		defer w.close()
		_, addr := w.dial(nil)
		info, ok := w.srv.Player(1)
		require.True(t, ok)
		assert.Nil(t, info.UserData, "plain mode: no token")
		assert.Equal(t, addr, info.Addr)
		assert.Equal(t, ClientID(1), info.Client)
	})
}
