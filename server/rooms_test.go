package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// roomGame is a room's Game: each player is an entity (id = PlayerID, x =
// the room's number), plus one NPC whose id (900) is the same in every
// room, so a snapshot that mixed rooms would show it twice or with
// another room's number.
type roomGame struct {
	r            *Room
	number       int32
	players      []PlayerID
	removed      []PlayerID
	refuse       map[string]string // user data -> reason
	signals      []string
	closeOnEmpty bool
}

func (g *roomGame) AddPlayer(id PlayerID) error { g.players = append(g.players, id); return nil }
func (g *roomGame) RemovePlayer(id PlayerID) {
	g.removed = append(g.removed, id)
	g.players = slices.DeleteFunc(g.players, func(p PlayerID) bool { return p == id })
	if g.closeOnEmpty && len(g.players) == 0 {
		g.r.Close("empty")
	}
}
func (g *roomGame) ApplyInput(PlayerID, uint32, []byte) {}
func (g *roomGame) Step(uint32)                         {}
func (g *roomGame) Snapshot(_ uint32, dst *state.Snapshot) {
	for _, p := range g.players {
		dst.Add(uint32(p))[0] = g.number
	}
	dst.Add(900)[0] = g.number
}

func (g *roomGame) JoinAttempt(p PlayerInfo) error {
	if why, ok := g.refuse[string(p.UserData)]; ok {
		return errors.New(why)
	}
	return nil
}

func (g *roomGame) Signal(data []byte) ([]byte, error) {
	g.signals = append(g.signals, string(data))
	if string(data) == "fail" {
		return nil, errors.New("no")
	}
	return append([]byte("ok "), data...), nil
}

// roomWorld is a rooms server on the fake transport whose rooms are made
// on demand, numbered in creation order.
type roomWorld struct {
	*testServer
	games map[string]*roomGame
}

func newRoomWorld(t *testing.T, cfg Config) *roomWorld {
	t.Helper()
	w := &roomWorld{games: map[string]*roomGame{}}
	cfg.Codec = testCodec
	cfg.AlignSnapshots = true
	cfg.RoomOf = RoomFromUserData
	cfg.NewRoom = func(r *Room) (Game, error) {
		if r.Name() == "broken" {
			return nil, errors.New("cannot make it")
		}
		g := &roomGame{r: r, number: int32(len(w.games) + 1)}
		w.games[r.Name()] = g
		r.SetLabel("mode=duel")
		return g, nil
	}
	tr := newFakeTransport()
	s, err := New(cfg, nil, tr)
	require.NoError(t, err)
	w.testServer = &testServer{Server: s, tr: tr, start: time.Unix(1000, 0)}
	return w
}

// snapshotsByClient decodes the snapshots sent this tick, per client.
func decodeSnapshots(t *testing.T, readers map[ClientID]*wire.SnapshotReader, sent []fakeSent) map[ClientID]*state.Snapshot {
	t.Helper()
	out := map[ClientID]*state.Snapshot{}
	for _, m := range sent {
		r := readers[m.client]
		if r == nil {
			var err error
			r, err = wire.NewSnapshotReader(testCodec, 0)
			require.NoError(t, err)
			readers[m.client] = r
		}
		snap, _, err := r.Read(m.msg)
		require.NoError(t, err)
		out[m.client] = snap.Clone()
	}
	return out
}

// kickReasons returns the kick reasons sent on the control channel, by
// client, and leaves the other messages.
func kickReasons(t *testing.T, ts *testServer) map[ClientID]string {
	t.Helper()
	out := map[ClientID]string{}
	for _, m := range ts.tr.take(DefaultControlChannel) {
		if wire.MessageKind(m.msg) == wire.KindKick {
			reason, err := wire.DecodeKick(m.msg)
			require.NoError(t, err)
			out[m.client] = reason
		}
	}
	return out
}

// TestRoomsSeparateWorlds: clients naming rooms in their user data land in
// rooms made on demand; each sees only its room's entities (the NPC id
// every room uses appears once, with its own room's number), deltas work
// per room, and the rooms are listed with players and labels.
func TestRoomsSeparateWorlds(t *testing.T) {
	w := newRoomWorld(t, Config{})
	rooms := map[ClientID]string{1: "red", 2: "blue", 3: "red", 4: "blue", 5: "green"}
	for c := ClientID(1); c <= 5; c++ {
		w.tr.connectWith(c, append([]byte(rooms[c]), 0, 0, 0)) // zero-padded user data
	}
	readers := map[ClientID]*wire.SnapshotReader{}
	var last map[ClientID]*state.Snapshot
	for tick := uint64(0); tick < 10; tick += 2 {
		w.stepTo(t, tick)
		sent := w.tr.take(DefaultSnapshotChannel)
		require.Len(t, sent, 5, "tick %d", tick)
		last = decodeSnapshots(t, readers, sent)
		for _, m := range sent {
			w.tr.ack(m)
		}
	}
	for c, snap := range last {
		g := w.games[rooms[c]]
		require.NotNil(t, g)
		want := []uint32{}
		for _, p := range g.players {
			want = append(want, uint32(p))
		}
		want = append(want, 900)
		assert.Equal(t, want, snap.IDs, "client %d sees its room %q only", c, rooms[c])
		for i := range snap.Len() {
			assert.Equal(t, g.number, snap.Fields(i)[0], "client %d entity %d", c, snap.IDs[i])
		}
	}
	st := w.Stats()
	assert.Equal(t, 3, st.Rooms)
	assert.Equal(t, uint64(3), st.RoomsCreated)
	assert.Positive(t, st.SnapshotsDelta, "deltas against each room's own history")
	infos := w.Rooms()
	require.Len(t, infos, 3)
	assert.Equal(t, RoomInfo{Name: "red", Label: "mode=duel", Players: 2, Created: 0, TickTime: infos[0].TickTime}, infos[0])
	assert.Equal(t, "blue", infos[1].Name)
	assert.Equal(t, 1, infos[2].Players)
	p, ok := w.Player(2)
	require.True(t, ok)
	assert.Equal(t, "blue", p.Room)
}

// TestRoomsRefusals: a client is refused, told why, and disconnected when
// its room cannot be made, is full, or its Game refuses it; the room's Game
// never hears of it, and the server's room cap holds.
func TestRoomsRefusals(t *testing.T) {
	w := newRoomWorld(t, Config{MaxRooms: 2})
	w.tr.connectWith(1, []byte("a"))
	w.stepTo(t, 0)
	a := w.games["a"]
	require.NotNil(t, a)
	a.r.SetMaxPlayers(2)

	w.tr.connectWith(2, []byte("broken")) // NewRoom fails
	w.tr.connectWith(3, []byte("b"))      // the second room: fine
	w.tr.connectWith(4, []byte("c"))      // a third room: over MaxRooms
	w.stepTo(t, 1)
	reasons := kickReasons(t, w.testServer)
	assert.Equal(t, `room "broken" not created`, reasons[2])
	assert.Equal(t, "the server is full (no room for a new room)", reasons[4])
	assert.NotContains(t, reasons, ClientID(3))

	_, err := w.CreateRoom("d", RoomOptions{}, func(*Room) (Game, error) { return &roomGame{}, nil })
	assert.ErrorIs(t, err, ErrBusy, "MaxRooms")
	_, err = w.CreateRoom("a", RoomOptions{}, func(*Room) (Game, error) { return &roomGame{}, nil })
	assert.ErrorIs(t, err, ErrInvalidConfig, "a name taken")

	// Room a: one more fits (MaxPlayers 2), then it is full.
	w.tr.connectWith(5, []byte("a"))
	w.stepTo(t, 2)
	w.tr.connectWith(6, []byte("a"))
	w.stepTo(t, 3)
	assert.Equal(t, map[ClientID]string{6: `room "a" is full`}, kickReasons(t, w.testServer))
	assert.Equal(t, []PlayerID{1, 3}, a.players) // clients 1 and 5 (players 1 and 3)

	// The Game's JoinChecker: refused with its reason.
	a.r.SetMaxPlayers(0)
	w.tr.connectWith(7, []byte("a\x00banned"))
	a.refuse = map[string]string{"a\x00banned": "you are banned from this room"}
	w.stepTo(t, 4)
	assert.Equal(t, map[ClientID]string{7: "you are banned from this room"}, kickReasons(t, w.testServer))
	assert.Equal(t, []PlayerID{1, 3}, a.players, "the Game never heard of the refused")
	assert.Equal(t, uint64(4), w.Stats().Refused)

	// Refused clients are disconnected once they ack the kick, or after
	// the grace.
	w.stepTo(t, 4+uint64(w.kickGrace)+1)
	for _, c := range []ClientID{2, 4, 6, 7} {
		assert.Contains(t, w.tr.kicked, c)
	}
	assert.NotContains(t, w.tr.kicked, ClientID(1))
}

// TestRoomsUnknownRoom: without Config.NewRoom, a client naming a room that
// does not exist is refused; one naming the room "" (no user data) joins
// the Game passed to New.
func TestRoomsUnknownRoom(t *testing.T) {
	lobby := &roomGame{number: 7}
	tr := newFakeTransport()
	s, err := New(Config{Codec: testCodec, RoomOf: RoomFromUserData}, lobby, tr)
	require.NoError(t, err)
	ts := &testServer{Server: s, tr: tr, start: time.Unix(1000, 0)}
	tr.connectWith(1, []byte("nowhere"))
	tr.connect(2)
	ts.stepTo(t, 0)
	assert.Equal(t, map[ClientID]string{1: `no room "nowhere"`}, kickReasons(t, ts))
	assert.Equal(t, []PlayerID{1}, lobby.players, "player 1 is client 2 (ids are not spent on refusals)")
	assert.Equal(t, []RoomInfo{{Name: "", Players: 1, TickTime: s.Rooms()[0].TickTime}}, s.Rooms())

	_, err = New(Config{Codec: testCodec}, nil, tr)
	assert.ErrorIs(t, err, ErrInvalidConfig, "no Game and no NewRoom")
}

// TestRoomClose: a room that closes (from its own Game, or from outside
// through Do) kicks its players with the reason, removes them from its
// Game, disappears from the list while other rooms play on, and a client
// naming it again gets a new room.
func TestRoomClose(t *testing.T) {
	w := newRoomWorld(t, Config{})
	w.tr.connectWith(1, []byte("x"))
	w.tr.connectWith(2, []byte("x"))
	w.tr.connectWith(3, []byte("y"))
	w.stepTo(t, 0)
	x, y := w.games["x"], w.games["y"]
	require.NoError(t, w.Do(func() { w.Room("x").Close("match over") }))
	w.stepTo(t, 1)
	assert.Equal(t, map[ClientID]string{1: "match over", 2: "match over"}, kickReasons(t, w.testServer))
	assert.Equal(t, []PlayerID{1, 2}, x.removed)
	assert.True(t, x.r.Closed())
	assert.Nil(t, w.Room("x"))
	require.Len(t, w.Rooms(), 1)
	assert.Equal(t, "y", w.Rooms()[0].Name)
	w.tr.take(DefaultSnapshotChannel)
	w.stepTo(t, 3)
	for _, m := range w.tr.take(DefaultSnapshotChannel) {
		assert.Equal(t, ClientID(3), m.client, "room y plays on")
	}

	// A Game that closes its room when the last player leaves.
	y.closeOnEmpty = true
	w.tr.disconnect(3)
	w.tr.connectWith(4, []byte("x")) // a new room x
	w.stepTo(t, 4)
	assert.Nil(t, w.Room("y"))
	require.NotNil(t, w.Room("x"))
	assert.NotSame(t, x, w.games["x"])
	assert.Equal(t, 1, w.Stats().Rooms)
	assert.Equal(t, uint64(2), w.Stats().RoomsClosed)
	w.Room("x").Close("again")
	w.Room("x") // gone: nil, no panic
}

// TestRoomSignal: Signal from another goroutine reaches the room's Game on
// the tick, with its reply or error; unknown rooms and a shut-down server
// are errors.
func TestRoomSignal(t *testing.T) {
	w := newRoomWorld(t, Config{})
	w.tr.connectWith(1, []byte("s"))
	w.stepTo(t, 0)
	type res struct {
		reply []byte
		err   error
	}
	ask := func(room, data string) chan res {
		ch := make(chan res, 1)
		go func() {
			r, err := w.Signal(context.Background(), room, []byte(data))
			ch <- res{r, err}
		}()
		return ch
	}
	// Wait until each call is queued before stepping.
	waitQueued := func(n int) {
		require.Eventually(t, func() bool {
			w.doMu.Lock()
			defer w.doMu.Unlock()
			return len(w.doQueue) == n
		}, 5*time.Second, time.Millisecond)
	}
	ok, fail, none := ask("s", "mode=ctf"), ask("s", "fail"), ask("nowhere", "x")
	waitQueued(3)
	w.stepTo(t, 1)
	r := <-ok
	require.NoError(t, r.err)
	assert.Equal(t, "ok mode=ctf", string(r.reply))
	assert.EqualError(t, (<-fail).err, "no")
	assert.ErrorIs(t, (<-none).err, ErrUnknownRoom)
	assert.ElementsMatch(t, []string{"mode=ctf", "fail"}, w.games["s"].signals)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ctxErr error
	wg.Go(func() { _, ctxErr = w.Signal(ctx, "s", nil) })
	waitQueued(1)
	cancel()
	wg.Wait()
	assert.ErrorIs(t, ctxErr, context.Canceled)

	late := ask("s", "late")
	waitQueued(2) // the cancelled one is still queued: it runs, unheard
	require.NoError(t, w.Close())
	assert.ErrorIs(t, (<-late).err, ErrClosed, "queued when the server shut down")
	_, err := w.Signal(context.Background(), "s", nil)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, w.Do(func() {}), ErrClosed)
}

// TestRoomsDoQueueBounded: Do refuses beyond MaxPendingCalls, and runs
// what it queued in order at the next tick.
func TestRoomsDoQueueBounded(t *testing.T) {
	w := newRoomWorld(t, Config{})
	var order []int
	for i := range MaxPendingCalls {
		require.NoError(t, w.Do(func() { order = append(order, i) }))
	}
	assert.ErrorIs(t, w.Do(func() {}), ErrBusy)
	w.stepTo(t, 0)
	require.Len(t, order, MaxPendingCalls)
	assert.True(t, slices.IsSorted(order))
	require.NoError(t, w.Do(func() {}), "room again after the tick")
}
