package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// Rooms: one server, one socket, many games. Every Room runs its own Game
// with its own players, world history and label, ticked by the server's
// one loop (no goroutine per room or per player). The Game passed to New,
// when not nil, is the room named "" (the lobby a client without a room
// name joins).
//
// A connecting client names its room in its connect token's user data
// (Config.RoomOf reads it: RoomFromUserData takes the user data up to its
// first zero byte as the room's name; without RoomOf every client joins
// the room ""). A room that does not exist is created by
// Config.NewRoom when set (under Config.MaxRooms), else the client is
// refused. A room's Game may implement JoinChecker (accept or refuse each
// player with a reason the client is shown) and Signaler (Server.Signal
// from any goroutine).

// MaxRoomName is the longest room name, in bytes.
const MaxRoomName = 64

// RoomOptions configure a room.
type RoomOptions struct {
	// Label describes the room for listing and search (Server.Rooms): a
	// mode, a map, a skill band, JSON. It may change (Room.SetLabel).
	Label string
	// MaxPlayers caps the room's players (0: no cap but the server's).
	MaxPlayers int
	// Params are the room's creation parameters, for its Game (the
	// server keeps a copy: Room.Params).
	Params []byte
}

// JoinChecker is an optional interface of a room's Game: JoinAttempt is
// called before AddPlayer for every client that asks to join the room, on
// the tick's goroutine, with what is known of the player (its connect
// token's user data says who it is). An error refuses it: the client is
// sent the error's text as the reason (wire.AppendKick, as a kick; the
// client runtime shows it) and disconnected; the Game never hears of it.
type JoinChecker interface {
	JoinAttempt(p PlayerInfo) error
}

// Signaler is an optional interface of a room's Game that receives
// Server.Signal calls (from outside the tick: a backend's request, an
// admin command) on the tick's goroutine, at the start of a tick; what it
// returns is Signal's result. Signal may call the methods a Game may call.
type Signaler interface {
	Signal(data []byte) (reply []byte, err error)
}

// RoomInfo describes a room (Server.Rooms).
type RoomInfo struct {
	Name       string
	Label      string
	Players    int
	MaxPlayers int
	// Created is the tick the room was created at.
	Created uint32
	// TickTime is how long the room's last tick took: its players'
	// inputs, its Step and its world (snapshot encoding is shared and
	// not included).
	TickTime time.Duration
}

// Room is one game of a Server. Its methods must be called from the tick's
// goroutine (from its Game's methods, Config.OnTick, or between Steps),
// like the Server's Send or Kick; from elsewhere, go through Server.Do.
type Room struct {
	srv         *Server
	name        string
	opts        RoomOptions
	game        Game
	interest    Interest       // the game's, or nil: every player sees the world
	handler     MessageHandler // the game's, or nil
	joiner      JoinChecker
	signaler    Signaler
	prioritizer Prioritizer
	created     uint32
	closed      bool

	worlds   *state.History // the world of every recent snapshot tick
	worldBuf state.Snapshot // the world being taken
	world    *state.Snapshot
	worldOK  bool
	worldAt  uint64 // the tick world was taken at, plus 1 (0: never)
	sessions []*session
	tickTime time.Duration
	errLog   rateLog
}

// Name returns the room's name.
func (r *Room) Name() string { return r.name }

// Params returns the room's creation parameters (do not modify them).
func (r *Room) Params() []byte { return r.opts.Params }

// Label returns the room's label.
func (r *Room) Label() string { return r.opts.Label }

// SetLabel changes the room's label (Server.Rooms shows it from the next
// tick on).
func (r *Room) SetLabel(label string) { r.opts.Label = label }

// MaxPlayers returns the room's player cap (0: none).
func (r *Room) MaxPlayers() int { return r.opts.MaxPlayers }

// SetMaxPlayers changes the room's player cap (0: none; a negative n is
// taken as 0). Players beyond a lowered cap stay; new ones are refused
// with "room … is full" until the room has room.
func (r *Room) SetMaxPlayers(n int) { r.opts.MaxPlayers = max(n, 0) }

// Players returns the ids of the room's players in increasing order (a new
// slice).
func (r *Room) Players() []PlayerID {
	ids := make([]PlayerID, len(r.sessions))
	for i, ss := range r.sessions {
		ids[i] = ss.player
	}
	return ids
}

// Broadcast queues msg, encoded once, to every player of the room, as
// Server.Send does.
func (r *Room) Broadcast(msg any) error {
	if err := r.srv.encode(msg); err != nil {
		return err
	}
	var errs []error
	for _, ss := range r.sessions {
		if err := r.srv.sendMsg(ss); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close terminates the room: every player is kicked with reason (see
// Server.Kick: the client is told why), the Game's RemovePlayer is called
// for each, and the room is gone (a client that names it again gets a new
// one from Config.NewRoom, or is refused). Closing a closed room does
// nothing.
func (r *Room) Close(reason string) {
	if r.closed {
		return
	}
	r.closed = true
	for _, ss := range slices.Clone(r.sessions) {
		_ = r.srv.Kick(ss.player, reason)
	}
	s := r.srv
	delete(s.roomByName, r.name)
	if i := slices.Index(s.rooms, r); i >= 0 {
		s.rooms = append(s.rooms[:i:i], s.rooms[i+1:]...)
	}
	s.st.RoomsClosed++
	s.log.Info("room closed", "room", r.name, "reason", reason, "rooms", len(s.rooms))
}

// Closed reports whether the room was closed.
func (r *Room) Closed() bool { return r.closed }

// CreateRoom creates the room name running the Game that newGame returns
// for it (newGame gets the *Room, for the Game to keep: its Broadcast,
// Players, SetLabel and Close are the room's). The errors wrap
// ErrInvalidConfig (a name longer than MaxRoomName, or taken), ErrBusy
// (Config.MaxRooms rooms exist) or are newGame's. Call it from the tick's
// goroutine, or through Do.
func (s *Server) CreateRoom(name string, opts RoomOptions, newGame func(*Room) (Game, error)) (*Room, error) {
	if len(name) > MaxRoomName {
		return nil, fmt.Errorf("%w: room name of %d bytes, want at most %d", ErrInvalidConfig, len(name), MaxRoomName)
	}
	if _, taken := s.roomByName[name]; taken {
		return nil, fmt.Errorf("%w: room %q exists", ErrInvalidConfig, name)
	}
	if s.cfg.MaxRooms > 0 && len(s.rooms) >= s.cfg.MaxRooms {
		return nil, fmt.Errorf("%w: %d rooms, Config.MaxRooms is %d", ErrBusy, len(s.rooms), s.cfg.MaxRooms)
	}
	if opts.MaxPlayers < 0 {
		return nil, fmt.Errorf("%w: RoomOptions.MaxPlayers is %d, want 0 (no cap) or more", ErrInvalidConfig, opts.MaxPlayers)
	}
	opts.Params = bytes.Clone(opts.Params)
	r := &Room{srv: s, name: name, opts: opts, created: s.tick}
	g, err := newGame(r)
	if err != nil {
		return nil, fmt.Errorf("server: room %q: %w", name, err)
	}
	if g == nil {
		return nil, fmt.Errorf("%w: room %q: newGame returned no Game", ErrInvalidConfig, name)
	}
	if err := s.addRoom(r, g); err != nil {
		return nil, err
	}
	s.log.Info("room created", "room", name, "label", r.opts.Label, "rooms", len(s.rooms))
	return r, nil
}

// addRoom starts r with game g.
func (s *Server) addRoom(r *Room, g Game) error {
	worlds, err := state.NewHistory(s.cfg.SnapshotHistory)
	if err != nil {
		return err
	}
	r.game, r.worlds = g, worlds
	r.interest, _ = g.(Interest)
	r.handler, _ = g.(MessageHandler)
	r.joiner, _ = g.(JoinChecker)
	r.signaler, _ = g.(Signaler)
	r.prioritizer, _ = g.(Prioritizer)
	s.rooms = append(s.rooms, r)
	s.roomByName[r.name] = r
	s.st.RoomsCreated++
	return nil
}

// Room returns the room named name, or nil. Call it from the tick's
// goroutine.
func (s *Server) Room(name string) *Room { return s.roomByName[name] }

// Rooms lists the rooms as of the last tick (a new slice, in creation
// order). Safe from any goroutine.
func (s *Server) Rooms() []RoomInfo {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return slices.Clone(s.roomsPub)
}

// publishRooms copies the rooms' descriptions for Rooms.
func (s *Server) publishRooms() {
	s.roomsBuf = s.roomsBuf[:0]
	for _, r := range s.rooms {
		s.roomsBuf = append(s.roomsBuf, RoomInfo{Name: r.name, Label: r.opts.Label, Players: len(r.sessions),
			MaxPlayers: r.opts.MaxPlayers, Created: r.created, TickTime: r.tickTime})
	}
	s.pubMu.Lock()
	s.roomsPub, s.roomsBuf = s.roomsBuf, s.roomsPub
	s.pubMu.Unlock()
}

// roomFor finds or creates the room a connecting client names, or says why
// it may not join.
func (s *Server) roomFor(ev Event) (*Room, error) {
	var name string
	if s.cfg.RoomOf != nil {
		name = s.cfg.RoomOf(ev.UserData)
	}
	r := s.roomByName[name]
	if r == nil {
		if s.cfg.NewRoom == nil {
			return nil, fmt.Errorf("no room %q", name)
		}
		var err error
		if r, err = s.CreateRoom(name, RoomOptions{}, func(r *Room) (Game, error) { return s.cfg.NewRoom(r) }); err != nil {
			if errors.Is(err, ErrBusy) {
				return nil, errors.New("the server is full (no room for a new room)")
			}
			return nil, fmt.Errorf("room %q not created", name)
		}
	}
	if r.opts.MaxPlayers > 0 && len(r.sessions) >= r.opts.MaxPlayers {
		return nil, fmt.Errorf("room %q is full", name)
	}
	return r, nil
}

// RoomFromUserData is a Config.RoomOf: the room's name is the connect
// token's user data up to its first zero byte (a token's user data is
// often zero-padded), cut to MaxRoomName bytes.
func RoomFromUserData(userData []byte) string {
	if i := bytes.IndexByte(userData, 0); i >= 0 {
		userData = userData[:i]
	}
	if len(userData) > MaxRoomName {
		userData = userData[:MaxRoomName]
	}
	return string(userData)
}

// refuse tells a client it may not join, and why: a kick message, then the
// end of its connection once the client acks it or the kick grace passes.
func (s *Server) refuse(ev Event, why string) {
	s.msgBuf = wire.AppendKick(s.msgBuf[:0], why)
	if id, err := s.tr.Send(ev.Client, s.cfg.ControlChannel, s.msgBuf); err != nil {
		s.tr.Disconnect(ev.Client)
	} else {
		s.kicking = append(s.kicking, kicked{client: ev.Client, id: id, deadline: s.tick + 1 + s.kickGrace})
	}
	s.st.Refused++
	s.log.Info("player refused", "client", ev.Client, "addr", ev.Addr, "reason", why)
}

// Do runs fn on the tick's goroutine at the start of the next tick, before
// the connects and inputs: the way to call what must not be called from
// another goroutine (CreateRoom, Room.Close, Kick, Send…) from an HTTP
// handler or a backend. It does not wait for fn; a call still waiting when
// the server shuts down never runs. The error wraps ErrClosed once the
// server shut down, and ErrBusy when MaxPendingCalls calls are already
// waiting. Safe from any goroutine.
func (s *Server) Do(fn func()) error { return s.enqueue(call{run: fn}) }

// MaxPendingCalls bounds the calls waiting for the next tick (Do, Signal).
const MaxPendingCalls = 4096

// call is a function queued for the tick's goroutine; abort, when set, is
// called instead if the server shuts down first.
type call struct{ run, abort func() }

func (s *Server) enqueue(c call) error {
	s.doMu.Lock()
	defer s.doMu.Unlock()
	if s.doClosed {
		return fmt.Errorf("%w: the server shut down", ErrClosed)
	}
	if len(s.doQueue) >= MaxPendingCalls {
		return fmt.Errorf("%w: %d calls already wait for the next tick", ErrBusy, MaxPendingCalls)
	}
	s.doQueue = append(s.doQueue, c)
	return nil
}

// runCalls runs the calls queued by Do and Signal.
func (s *Server) runCalls() {
	s.doMu.Lock()
	q := s.doQueue
	s.doQueue = s.doRun[:0]
	s.doMu.Unlock()
	for i, c := range q {
		c.run()
		q[i] = call{}
	}
	s.doRun = q[:0]
}

// closeCalls refuses further calls and aborts the waiting ones.
func (s *Server) closeCalls() {
	s.doMu.Lock()
	s.doClosed = true
	q := s.doQueue
	s.doQueue = nil
	s.doMu.Unlock()
	for _, c := range q {
		if c.abort != nil {
			c.abort()
		}
	}
}

// Signal hands data to the Game of room (a Signaler) at the start of the
// next tick and returns its reply: a signal into a running room from
// outside (a backend asking a match to change mode, an admin message). It
// waits for the tick, or for ctx. The errors wrap ErrClosed (the server
// shut down first), ErrBusy (too many pending calls) or ErrUnknownRoom (no
// such room, or its Game is not a Signaler), or are the Game's. Safe from
// any goroutine but the tick's (it would wait for itself).
func (s *Server) Signal(ctx context.Context, room string, data []byte) ([]byte, error) {
	type result struct {
		reply []byte
		err   error
	}
	done := make(chan result, 1)
	data = bytes.Clone(data)
	err := s.enqueue(call{
		run: func() {
			r := s.roomByName[room]
			switch {
			case r == nil:
				done <- result{err: fmt.Errorf("%w: %q", ErrUnknownRoom, room)}
			case r.signaler == nil:
				done <- result{err: fmt.Errorf("%w: the Game of room %q is not a Signaler", ErrUnknownRoom, room)}
			default:
				reply, err := r.signaler.Signal(data)
				done <- result{reply: reply, err: err}
			}
		},
		abort: func() { done <- result{err: fmt.Errorf("%w: the server shut down before the signal ran", ErrClosed)} },
	})
	if err != nil {
		return nil, err
	}
	select {
	case r := <-done:
		return r.reply, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
