package server

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tickwire/tickwire/server/wire"
)

// The methods in this file — Player, Players, Send, SendTo, Broadcast and
// Kick — use the server's state without locks. Call them only from the
// goroutine that runs the ticks: from the Game's methods (except Snapshot,
// which may run on worker goroutines), from Config.OnTick, or, when the
// server is driven by Step, between Steps. Never from another goroutine
// while Run or a Step runs.

// MessageHandler is an optional interface of a Game that receives the game
// messages its players send (values of the types registered in
// Config.Messages, sent by a client on the control channel).
//
// HandleMessage is called on the tick's goroutine during the tick, after
// the connects and disconnects and before ApplyInput and Step: for each
// player in increasing PlayerID order, each of its messages in the order
// the client sent them. msg is a value of a registered type (not a
// pointer), decoded from the network: check what it says before trusting
// it. HandleMessage may call Send, Broadcast, Kick and the other methods a
// Game may call (a player it kicks gets no more calls).
//
// A message that does not decode (unknown type id, a body that does not
// fit its type) or that is not a game message, and every game message when
// the Game does not implement MessageHandler, is dropped and counted (the
// Stats.Drops and Stats.MessagesDropped); the connection goes on.
type MessageHandler interface {
	HandleMessage(from PlayerID, msg any)
}

// PlayerInfo describes a connected player.
type PlayerInfo struct {
	ID     PlayerID
	Client ClientID       // the transport's id of its connection
	Addr   netip.AddrPort // the client's address
	// UserData is the user data of the connect token the client connected
	// with (secure mode: who the player is, as the backend that issued the
	// token says), or in plain mode what the client's connection request
	// claimed (netcode.ClientConfig.UserData: anything; trust nothing in
	// it). Read-only: it is the server's copy.
	UserData []byte
	// JoinedTick is the tick at whose start the player joined.
	JoinedTick uint32
	// Room is the name of the player's room ("" for the Game passed to
	// New).
	Room string
	// RTT and PacketLoss (0..1) are the transport's current measurements
	// of the client's link (zero when the transport has none yet).
	RTT        time.Duration
	PacketLoss float64
}

// kicked is a kicked client whose connection stays open until its kick
// message is acked, or until the deadline tick.
type kicked struct {
	client   ClientID
	player   PlayerID
	id       uint16 // the kick message
	deadline uint32
	acked    bool
}

// session returns the connected player p, or nil.
func (s *Server) session(p PlayerID) *session {
	i, ok := slices.BinarySearchFunc(s.sessions, p, func(ss *session, p PlayerID) int {
		switch {
		case ss.player < p:
			return -1
		case ss.player > p:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return s.sessions[i]
}

func unknownPlayer(p PlayerID) error {
	return fmt.Errorf("%w: %d (not connected, left or kicked)", ErrUnknownPlayer, p)
}

// Player describes the connected player p; ok is false when p is not
// connected (never was, left or was kicked). A player is known from the
// Game's AddPlayer on (so AddPlayer may check UserData) and no longer in
// RemovePlayer. See the top of this file for who may call it.
func (s *Server) Player(p PlayerID) (PlayerInfo, bool) {
	ss := s.session(p)
	if ss == nil {
		return PlayerInfo{}, false
	}
	info := PlayerInfo{ID: p, Client: ss.client, Addr: ss.addr, UserData: ss.userData, JoinedTick: ss.joined, Room: ss.room.name}
	if st, ok := s.tr.Stats(ss.client); ok {
		info.RTT, info.PacketLoss = st.RTT, st.PacketLoss
	}
	return info, true
}

// Players returns the ids of the connected players in increasing order (a
// new slice). Like Player, it must be called from the tick's goroutine.
func (s *Server) Players() []PlayerID {
	ids := make([]PlayerID, len(s.sessions))
	for i, ss := range s.sessions {
		ids[i] = ss.player
	}
	return ids
}

// encode puts the game message carrying msg in s.msgBuf.
func (s *Server) encode(msg any) error {
	if msg == nil {
		return fmt.Errorf("%w: the message is nil", ErrUnregisteredMessage)
	}
	if s.cfg.Messages == nil {
		return fmt.Errorf("%w: Config.Messages is nil, so no message type is registered (sending a %T)", ErrUnregisteredMessage, msg)
	}
	b, err := s.cfg.Messages.Append(s.msgBuf[:0], msg)
	if err != nil {
		if errors.Is(err, wire.ErrInvalidConfig) {
			return fmt.Errorf("%w: %T is not registered in Config.Messages", ErrUnregisteredMessage, msg)
		}
		return fmt.Errorf("server: message %T: %w", msg, err)
	}
	s.msgBuf = b
	return nil
}

// sendMsg queues s.msgBuf to ss.
func (s *Server) sendMsg(ss *session) error {
	if _, err := s.tr.Send(ss.client, s.cfg.ControlChannel, s.msgBuf); err != nil {
		return fmt.Errorf("server: send to player %d: %w", ss.player, err)
	}
	s.st.MessagesOut++
	return nil
}

// Send queues msg, a value of a type registered in Config.Messages (or a
// pointer to one), to player p on the control channel: reliable and in
// order with the Welcome and every other message the server sends p. It
// leaves with the tick's flush (the current tick's when called during a
// tick, else the next Step's). The errors wrap ErrUnknownPlayer (p is not
// connected), ErrUnregisteredMessage (no Config.Messages, or msg's type is
// not in it), or are the transport's (p's send queue is full, msg is too
// large). See the top of this file for who may call it.
func (s *Server) Send(p PlayerID, msg any) error {
	ss := s.session(p)
	if ss == nil {
		return unknownPlayer(p)
	}
	if err := s.encode(msg); err != nil {
		return err
	}
	return s.sendMsg(ss)
}

// SendTo queues msg, encoded once, to each of players, as Send does. It
// sends to every connected one of them even when some are not connected;
// the error then wraps ErrUnknownPlayer and names them, joined with any
// transport error. An unregistered msg sends nothing.
func (s *Server) SendTo(players []PlayerID, msg any) error {
	if err := s.encode(msg); err != nil {
		return err
	}
	var errs []error
	var unknown []PlayerID
	for _, p := range players {
		ss := s.session(p)
		if ss == nil {
			unknown = append(unknown, p)
			continue
		}
		if err := s.sendMsg(ss); err != nil {
			errs = append(errs, err)
		}
	}
	if len(unknown) > 0 {
		errs = append(errs, fmt.Errorf("%w: %v (not connected, left or kicked)", ErrUnknownPlayer, unknown))
	}
	return errors.Join(errs...)
}

// Broadcast queues msg, encoded once, to every connected player, as Send
// does (a player whose AddPlayer is running included, a kicked one not).
// It returns the transport errors of the players whose queue refused it,
// joined.
func (s *Server) Broadcast(msg any) error {
	if err := s.encode(msg); err != nil {
		return err
	}
	var errs []error
	for _, ss := range s.sessions {
		if err := s.sendMsg(ss); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Kick removes player p from the game at once (the Game's RemovePlayer is
// called before Kick returns; p gets no more input, message or snapshot)
// and ends its client's connection with reason (cut to wire.MaxKickReason
// bytes): the client is sent a kick message (wire.AppendKick) on the
// control channel, and the connection ends as soon as the client has
// acknowledged it, or after Config.KickGrace (500 ms) of ticks, whichever
// comes first — so that the client can show the reason. Kicks are counted
// (Stats.Kicks and Stats.Disconnects) and logged.
//
// The error wraps ErrUnknownPlayer when p is not connected, and ErrBusy
// when called from p's own AddPlayer (return an error from AddPlayer to
// refuse a player). See the top of this file for who may call it.
func (s *Server) Kick(p PlayerID, reason string) error {
	ss := s.session(p)
	if ss == nil {
		return unknownPlayer(p)
	}
	if ss.joining {
		return fmt.Errorf("%w: Kick(%d) from its own AddPlayer; return an error from AddPlayer to refuse a player", ErrBusy, p)
	}
	s.removeSession(ss)
	s.msgBuf = wire.AppendKick(s.msgBuf[:0], reason)
	if id, err := s.tr.Send(ss.client, s.cfg.ControlChannel, s.msgBuf); err != nil {
		s.log.Warn("kick message not sent", "client", ss.client, "player", p, "err", err)
		s.tr.Disconnect(ss.client)
	} else {
		// The message leaves with this tick's flush, or the next tick's
		// when this one has flushed (Kick from OnTick or between Steps).
		sent := s.tick
		if s.flushed {
			sent++
		}
		s.kicking = append(s.kicking, kicked{client: ss.client, player: p, id: id, deadline: sent + s.kickGrace})
	}
	ss.room.game.RemovePlayer(p)
	s.setClients()
	s.st.Kicks++
	s.st.Disconnects++
	s.log.Info("player kicked", "client", ss.client, "addr", ss.addr, "player", p, "reason", reason, "tick", s.tick,
		"clients", len(s.sessions))
	return nil
}

// kickAcked marks the kick message id to client as received.
func (s *Server) kickAcked(client ClientID, id uint16) {
	for i := range s.kicking {
		if k := &s.kicking[i]; k.client == client && k.id == id {
			k.acked = true
		}
	}
}

// endKicks ends the connections of the kicked clients that received their
// kick message, or whose grace is over.
func (s *Server) endKicks() {
	if len(s.kicking) == 0 {
		return
	}
	keep := s.kicking[:0]
	for _, k := range s.kicking {
		if !k.acked && int32(s.tick-k.deadline) < 0 {
			keep = append(keep, k)
			continue
		}
		s.tr.Disconnect(k.client)
		s.log.Debug("kicked client disconnected", "client", k.client, "player", k.player, "acked", k.acked, "tick", s.tick)
	}
	clear(s.kicking[len(keep):])
	s.kicking = keep
}

// kickDone forgets a kicked client that left by itself (or timed out)
// during its grace.
func (s *Server) kickDone(client ClientID, reason string) {
	for i, k := range s.kicking {
		if k.client == client {
			s.kicking = slices.Delete(s.kicking, i, i+1)
			s.log.Debug("kicked client left", "client", client, "player", k.player, "reason", reason)
			return
		}
	}
}

// controlMessage handles a message ss sent on the control channel.
func (s *Server) controlMessage(ss *session, msg []byte) {
	if wire.MessageKind(msg) != wire.KindGame {
		s.dropMessage(ss, DropUnexpectedMsg, nil)
		return
	}
	if ss.room.handler == nil {
		s.dropMessage(ss, DropMessageUnhandled, nil)
		return
	}
	v, err := s.cfg.Messages.Decode(msg)
	if err != nil {
		s.dropMessage(ss, DropMessageMalformed, err)
		return
	}
	s.st.MessagesIn++
	ss.room.handler.HandleMessage(ss.player, v)
}

// dropMessage counts a message from ss dropped for reason, and logs it at
// most every 10 s of ticks.
func (s *Server) dropMessage(ss *session, reason DropReason, err error) {
	s.st.MessagesDropped++
	s.drop(reason)
	if more, ok := s.msgDropLog.allow(s.tick, 10*uint32(s.cfg.TickRate)); ok {
		s.log.Warn("client message dropped", "client", ss.client, "player", ss.player, "reason", reason.String(), "err", err,
			"more_since_last_log", more)
	}
}

// rateLog lets a log line through at most once every so many ticks.
type rateLog struct {
	logged   bool
	at       uint32 // the tick it was last let through
	unlogged int    // the lines held back since
}

// allow reports whether a line may be logged at tick, and how many were
// held back since the last one.
func (r *rateLog) allow(tick, every uint32) (held int, ok bool) {
	if r.logged && tick-r.at < every {
		r.unlogged++
		return 0, false
	}
	held = r.unlogged
	r.logged, r.at, r.unlogged = true, tick, 0
	return held, true
}
