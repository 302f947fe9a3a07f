package server

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/server/wire"
)

// Game message types of the tests.
type chatMsg struct {
	From PlayerID
	Text string
}

type hitMsg struct {
	Target PlayerID
	Damage int
}

type unregisteredMsg struct{ X int }

const (
	chatType = 1
	hitType  = 2
)

func testMessages(t testing.TB) *wire.Messages {
	t.Helper()
	m := wire.NewMessages()
	require.NoError(t, m.Register(chatType, chatMsg{}))
	require.NoError(t, m.Register(hitType, hitMsg{}))
	return m
}

// msgGame is the test game with a MessageHandler, recording the calls it
// gets in order.
type msgGame struct {
	*testGame
	calls []string
	got   []gotMsg
	// onMsg, onAdd, onRemove run inside HandleMessage, AddPlayer and
	// RemovePlayer (to call the server from the game).
	onMsg    func(from PlayerID, msg any)
	onAdd    func(id PlayerID)
	onRemove func(id PlayerID)
}

type gotMsg struct {
	from PlayerID
	msg  any
}

func newMsgGame() *msgGame { return &msgGame{testGame: newTestGame(0)} }

func (g *msgGame) AddPlayer(id PlayerID) error {
	g.calls = append(g.calls, fmt.Sprintf("add %d", id))
	if err := g.testGame.AddPlayer(id); err != nil {
		return err
	}
	if g.onAdd != nil {
		g.onAdd(id)
	}
	return nil
}

func (g *msgGame) RemovePlayer(id PlayerID) {
	g.calls = append(g.calls, fmt.Sprintf("remove %d", id))
	g.testGame.RemovePlayer(id)
	if g.onRemove != nil {
		g.onRemove(id)
	}
}

func (g *msgGame) HandleMessage(from PlayerID, msg any) {
	g.calls = append(g.calls, fmt.Sprintf("msg %d %v", from, msg))
	g.got = append(g.got, gotMsg{from, msg})
	if g.onMsg != nil {
		g.onMsg(from, msg)
	}
}

func (g *msgGame) ApplyInput(id PlayerID, tick uint32, input []byte) {
	g.calls = append(g.calls, fmt.Sprintf("input %d %d", id, tick))
	g.testGame.ApplyInput(id, tick, input)
}

func (g *msgGame) Step(tick uint32) {
	g.calls = append(g.calls, fmt.Sprintf("step %d", tick))
	g.testGame.Step(tick)
}

// newMsgServer is a test server running g with the test messages.
func newMsgServer(t testing.TB, cfg Config, g Game) *testServer {
	t.Helper()
	if cfg.Codec.Schema.Fields == nil {
		cfg.Codec = testCodec
	}
	if cfg.Messages == nil {
		cfg.Messages = testMessages(t)
	}
	tr := newFakeTransport()
	s, err := New(cfg, g, tr)
	require.NoError(t, err)
	return &testServer{Server: s, tr: tr, start: time.Unix(1000, 0)}
}

// controlLog decodes what the server sent on the control channel, per
// client: "welcome <player>", "kick <reason>" or the game message.
func controlLog(t testing.TB, ts *testServer) map[ClientID][]string {
	t.Helper()
	out := map[ClientID][]string{}
	for _, m := range ts.tr.take(DefaultControlChannel) {
		var line string
		switch wire.MessageKind(m.msg) {
		case wire.KindWelcome:
			w, err := wire.DecodeWelcome(m.msg)
			require.NoError(t, err)
			line = fmt.Sprintf("welcome %d", w.Player)
		case wire.KindKick:
			r, err := wire.DecodeKick(m.msg)
			require.NoError(t, err)
			line = "kick " + r
		case wire.KindGame:
			v, err := ts.cfg.Messages.Decode(m.msg)
			require.NoError(t, err)
			line = fmt.Sprintf("%T %v", v, v)
		default:
			t.Fatalf("unexpected message kind %d on the control channel", wire.MessageKind(m.msg))
		}
		out[m.client] = append(out[m.client], line)
	}
	return out
}

func gameMsg(t testing.TB, v any) []byte {
	t.Helper()
	b, err := testMessages(t).Append(nil, v)
	require.NoError(t, err)
	return b
}

// TestSendSendToBroadcast: the game's messages reach exactly the players
// they are for, after the Welcome and in the order sent; the errors name
// what is wrong and send nothing wrong.
func TestSendSendToBroadcast(t *testing.T) {
	g := newMsgGame()
	ts := newMsgServer(t, Config{}, g)
	// AddPlayer may already send: the message follows the Welcome, and a
	// Broadcast from it reaches the joining player too.
	g.onAdd = func(id PlayerID) {
		require.NoError(t, ts.Send(id, chatMsg{Text: "hello"}))
		require.NoError(t, ts.Broadcast(chatMsg{From: id, Text: "joined"}))
	}
	for c := ClientID(1); c <= 3; c++ {
		ts.tr.connect(c * 10)
	}
	ts.stepTo(t, 0)
	g.onAdd = nil

	// Between Steps the host may send too.
	require.NoError(t, ts.Send(2, hitMsg{Target: 2, Damage: 5}))
	require.NoError(t, ts.SendTo([]PlayerID{3, 1}, &chatMsg{Text: "psst"}), "a pointer to a registered type")
	require.NoError(t, ts.Broadcast(chatMsg{Text: "all"}))
	ts.stepTo(t, 1)

	assert.Equal(t, map[ClientID][]string{
		10: {"welcome 1", "server.chatMsg {0 hello}", "server.chatMsg {1 joined}", "server.chatMsg {2 joined}", "server.chatMsg {3 joined}",
			"server.chatMsg {0 psst}", "server.chatMsg {0 all}"},
		20: {"welcome 2", "server.chatMsg {0 hello}", "server.chatMsg {2 joined}", "server.chatMsg {3 joined}",
			"server.hitMsg {2 5}", "server.chatMsg {0 all}"},
		30: {"welcome 3", "server.chatMsg {0 hello}", "server.chatMsg {3 joined}",
			"server.chatMsg {0 psst}", "server.chatMsg {0 all}"},
	}, controlLog(t, ts))
	st := ts.Stats()
	assert.Equal(t, uint64(3+6+1+2+3), st.MessagesOut)

	// Errors.
	err := ts.Send(9, chatMsg{})
	assert.ErrorIs(t, err, ErrUnknownPlayer)
	assert.EqualError(t, err, "server: unknown player: 9 (not connected, left or kicked)")
	err = ts.Send(1, unregisteredMsg{})
	assert.ErrorIs(t, err, ErrUnregisteredMessage)
	assert.Contains(t, err.Error(), "server.unregisteredMsg is not registered in Config.Messages")
	assert.ErrorIs(t, ts.Broadcast(unregisteredMsg{}), ErrUnregisteredMessage)
	assert.ErrorIs(t, ts.SendTo([]PlayerID{1}, nil), ErrUnregisteredMessage)
	err = ts.SendTo([]PlayerID{1, 7, 8}, chatMsg{Text: "some"})
	assert.ErrorIs(t, err, ErrUnknownPlayer)
	assert.Contains(t, err.Error(), "[7 8]")
	ts.tr.sendErr = fmt.Errorf("queue full")
	err = ts.Send(2, chatMsg{})
	assert.ErrorContains(t, err, "server: send to player 2: queue full")
	ts.tr.sendErr = nil
	assert.Equal(t, map[ClientID][]string{10: {"server.chatMsg {0 some}"}}, controlLog(t, ts), "only the good ones")

	noReg := newTestServer(t, Config{}, newTestGame(0))
	noReg.tr.connect(1)
	noReg.stepTo(t, 0)
	err = noReg.Send(1, chatMsg{})
	assert.ErrorIs(t, err, ErrUnregisteredMessage)
	assert.Contains(t, err.Error(), "Config.Messages is nil")
}

// TestHandleMessage: a client's game messages reach HandleMessage with its
// PlayerID, in order, before the tick's inputs and step; bad ones are
// dropped and counted, and the client's good messages go on arriving.
func TestHandleMessage(t *testing.T) {
	var logs strings.Builder
	g := newMsgGame()
	ts := newMsgServer(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, g)
	ts.tr.connect(1)
	ts.tr.connect(2)
	ts.stepTo(t, 0)
	g.calls = nil

	ts.tr.deliver(2, DefaultControlChannel, gameMsg(t, chatMsg{Text: "from 2"}))
	ts.tr.deliver(1, DefaultControlChannel, gameMsg(t, hitMsg{Target: 2, Damage: 1}))
	ts.tr.deliver(1, DefaultInputChannel, inputMsg(t, 1, "a"))
	ts.tr.deliver(1, DefaultControlChannel, gameMsg(t, chatMsg{Text: "from 1"}))
	ts.stepTo(t, 1)
	assert.Equal(t, []string{
		"msg 1 {2 1}", "msg 1 {0 from 1}", "msg 2 {0 from 2}", // by player, each in order
		"input 1 1", "step 1",
	}, g.calls)
	assert.Equal(t, gotMsg{from: 1, msg: hitMsg{Target: 2, Damage: 1}}, g.got[0], "a value of the registered type")

	// Malformed: unknown type, a body that does not decode, trailing
	// bytes, another kind on the control channel, a message on the
	// snapshot channel. Then a good one: the connection is fine.
	good := gameMsg(t, chatMsg{Text: "still here"})
	bad := map[string][]byte{
		"unknown type": {wire.KindGame, 99, 0xc0},
		"garbage body": {wire.KindGame, chatType, 0xc1, 0xff},
		"trailing":     append(append([]byte(nil), good...), 0),
		"empty":        {},
		"wrong kind":   wire.AppendWelcome(nil, wire.Welcome{Player: 1, TickRate: 60, SnapshotRate: 30}),
	}
	for _, b := range bad {
		ts.tr.deliver(1, DefaultControlChannel, b)
	}
	ts.tr.deliver(1, DefaultSnapshotChannel, good)
	ts.tr.deliver(1, DefaultControlChannel, good)
	g.calls = nil
	ts.stepTo(t, 2)
	assert.Equal(t, []string{"msg 1 {0 still here}", "input 1 2", "step 2"}, g.calls)
	st := ts.Stats()
	assert.Equal(t, uint64(3), st.Drops[DropMessageMalformed])
	assert.Equal(t, uint64(3), st.Drops[DropUnexpectedMsg], "empty, wrong kind, snapshot channel")
	assert.Equal(t, uint64(0), st.Drops[DropMessageUnhandled])
	assert.Equal(t, uint64(6), st.MessagesDropped)
	assert.Equal(t, uint64(4), st.MessagesIn)
	assert.Equal(t, []ClientID(nil), ts.tr.kicked)
	assert.Equal(t, 1, strings.Count(logs.String(), "client message dropped"), "logged once, not six times")

	// Ten seconds of ticks later, one more line, with the count held back.
	ts.stepTo(t, 2+599)
	ts.tr.deliver(2, DefaultControlChannel, []byte{wire.KindGame})
	ts.tr.deliver(2, DefaultControlChannel, []byte{wire.KindGame})
	ts.stepTo(t, 2+600)
	assert.Equal(t, 2, strings.Count(logs.String(), "client message dropped"))
	assert.Contains(t, logs.String(), "more_since_last_log=5")
}

// TestHandleMessageWithoutHandler: a Game that is no MessageHandler gets
// no messages; they are dropped as unhandled.
func TestHandleMessageWithoutHandler(t *testing.T) {
	g := newTestGame(0)
	ts := newMsgServer(t, Config{}, g)
	ts.tr.connect(1)
	ts.tr.deliver(1, DefaultControlChannel, gameMsg(t, chatMsg{Text: "anyone?"}))
	ts.stepTo(t, 0)
	st := ts.Stats()
	assert.Equal(t, uint64(1), st.Drops[DropMessageUnhandled])
	assert.Equal(t, uint64(1), st.MessagesDropped)
	assert.Equal(t, uint64(0), st.MessagesIn)
	assert.Equal(t, []uint32{0}, g.steps)
}

// TestKick: the kicked player leaves the game at once, its client gets the
// reason and no more snapshots, and its connection ends when the kick is
// acked; the others play on.
func TestKick(t *testing.T) {
	var logs strings.Builder
	g := newMsgGame()
	ts := newMsgServer(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), AlignSnapshots: true}, g)
	var removedBroadcast error
	g.onRemove = func(id PlayerID) { removedBroadcast = ts.Broadcast(chatMsg{Text: fmt.Sprintf("%d left", id)}) }
	for c := ClientID(1); c <= 3; c++ {
		ts.tr.connect(c)
	}
	ts.stepTo(t, 1)
	controlLog(t, ts)
	ts.tr.take(DefaultSnapshotChannel)

	require.NoError(t, ts.Kick(2, "cheating"))
	assert.Equal(t, []PlayerID{2}, g.removed, "removed at once")
	require.NoError(t, removedBroadcast)
	assert.Equal(t, []PlayerID{1, 3}, ts.Players())
	_, ok := ts.Player(2)
	assert.False(t, ok)
	assert.ErrorIs(t, ts.Send(2, chatMsg{}), ErrUnknownPlayer)
	assert.ErrorIs(t, ts.Kick(2, "again"), ErrUnknownPlayer)
	assert.Equal(t, 2, ts.Clients())

	ts.tr.deliver(2, DefaultControlChannel, gameMsg(t, chatMsg{Text: "but"}))
	ts.tr.deliver(2, DefaultInputChannel, inputMsg(t, 2, "x"))
	g.calls = nil
	ts.stepTo(t, 2)
	assert.Equal(t, []string{"step 2"}, g.calls, "nothing from the kicked client")
	sent := ts.tr.take(DefaultControlChannel)
	require.Len(t, sent, 3)
	assert.Equal(t, ClientID(2), sent[0].client)
	reason, err := wire.DecodeKick(sent[0].msg)
	require.NoError(t, err)
	assert.Equal(t, "cheating", reason)
	assert.ElementsMatch(t, []ClientID{1, 3}, []ClientID{sent[1].client, sent[2].client}, "the others heard that 2 left")
	for _, m := range ts.tr.take(DefaultSnapshotChannel) {
		assert.NotEqual(t, ClientID(2), m.client, "no snapshot to the kicked client")
	}
	assert.Empty(t, ts.tr.kicked, "the connection waits for the kick to arrive")

	// The client acks the kick: its connection ends at the next tick.
	ts.tr.ack(sent[0])
	ts.stepTo(t, 3)
	assert.Equal(t, []ClientID{2}, ts.tr.kicked)
	ts.stepTo(t, 100)
	assert.Equal(t, []ClientID{2}, ts.tr.kicked, "once")

	st := ts.Stats()
	assert.Equal(t, uint64(1), st.Kicks)
	assert.Equal(t, 2, st.Clients)
	assert.Equal(t, uint64(1), st.Disconnects, "a kick is a disconnect")
	assert.Contains(t, logs.String(), `msg="player kicked" client=2`)
	assert.Contains(t, logs.String(), "reason=cheating")
	assert.Len(t, ts.tr.take(DefaultSnapshotChannel), 2*49, "1 and 3 play on: even ticks 4..100")
}

// TestKickGrace: a kick that is never acked ends the connection after
// Config.KickGrace of ticks; a kicked client that leaves by itself is not
// disconnected again.
func TestKickGrace(t *testing.T) {
	g := newMsgGame()
	ts := newMsgServer(t, Config{KickGrace: 100 * time.Millisecond}, g) // 6 ticks at 60 Hz
	for c := ClientID(1); c <= 3; c++ {
		ts.tr.connect(c)
	}
	// Kicked from the game during tick 0 (from HandleMessage): the kick
	// leaves with tick 0's flush.
	g.onMsg = func(from PlayerID, _ any) { require.NoError(t, ts.Kick(from, "spam")) }
	ts.tr.deliver(1, DefaultControlChannel, gameMsg(t, chatMsg{Text: "spam"}))
	ts.tr.deliver(1, DefaultControlChannel, gameMsg(t, chatMsg{Text: "more spam"}))
	ts.stepTo(t, 0)
	assert.Len(t, g.got, 1, "no more messages from a player once kicked")
	// Kicked between ticks 0 and 1: it leaves with tick 1's flush.
	require.NoError(t, ts.Kick(3, "afk"))
	ts.stepTo(t, 5)
	assert.Empty(t, ts.tr.kicked)
	ts.stepTo(t, 6)
	assert.Equal(t, []ClientID{1}, ts.tr.kicked, "6 ticks after tick 0")
	ts.stepTo(t, 7)
	assert.Equal(t, []ClientID{1, 3}, ts.tr.kicked, "6 ticks after tick 1")

	// A kicked client that disconnects during its grace is left alone.
	ts.tr.connect(4)
	ts.stepTo(t, 8)
	require.NoError(t, ts.Kick(4, "bye"))
	ts.tr.disconnect(4)
	ts.stepTo(t, 30)
	assert.Equal(t, []ClientID{1, 3}, ts.tr.kicked)
	assert.Equal(t, []PlayerID{2}, ts.Players())
	assert.Equal(t, uint64(3), ts.Stats().Kicks)

	// Kick from a player's own AddPlayer is refused: AddPlayer refuses.
	var err error
	g.onAdd = func(id PlayerID) { err = ts.Kick(id, "no") }
	ts.tr.connect(5)
	ts.stepTo(t, 31)
	assert.ErrorIs(t, err, ErrBusy)
	assert.Equal(t, []PlayerID{2, 5}, ts.Players())
}

// TestPlayerInfo: the info of a player, from AddPlayer on.
func TestPlayerInfo(t *testing.T) {
	g := newMsgGame()
	ts := newMsgServer(t, Config{}, g)
	var inAdd PlayerInfo
	g.onAdd = func(id PlayerID) {
		var ok bool
		inAdd, ok = ts.Player(id)
		assert.True(t, ok, "known in AddPlayer")
	}
	user := []byte("user 42")
	ts.tr.connectWith(7, user)
	ts.tr.connect(8)
	ts.stepTo(t, 3)
	ts.tr.connect(9)
	ts.stepTo(t, 4)
	ts.tr.stats[9] = LinkStats{RTT: 35 * time.Millisecond, PacketLoss: 0.25}
	user[0] = 'X' // the server keeps its own copy

	p1, ok := ts.Player(1)
	require.True(t, ok)
	assert.Equal(t, PlayerInfo{ID: 1, Client: 7, Addr: fakeAddr(7), UserData: []byte("user 42"), JoinedTick: 0}, p1)
	p3, ok := ts.Player(3)
	require.True(t, ok)
	assert.Equal(t, PlayerInfo{ID: 3, Client: 9, Addr: fakeAddr(9), JoinedTick: 4, RTT: 35 * time.Millisecond, PacketLoss: 0.25}, p3)
	assert.Equal(t, PlayerInfo{ID: 3, Client: 9, Addr: fakeAddr(9), JoinedTick: 4}, inAdd, "no link stats yet")
	assert.Equal(t, []PlayerID{1, 2, 3}, ts.Players())
	_, ok = ts.Player(4)
	assert.False(t, ok)

	ts.tr.disconnect(8)
	ts.stepTo(t, 5)
	assert.Equal(t, []PlayerID{1, 3}, ts.Players())
	_, ok = ts.Player(2)
	assert.False(t, ok)
}
