package server

import (
	"errors"

	"github.com/tickwire/tickwire/server/wire"
)

// Sentinel errors. Every error this package returns wraps one of them, so
// callers can test with errors.Is; the message adds the details.
var (
	// ErrInvalidConfig: a config value is out of range. The message names
	// the field, its value and what is allowed.
	ErrInvalidConfig = errors.New("server: invalid config")
	// ErrMalformedMessage: a protocol message could not be decoded
	// (truncated, wrong kind, a count or length above its limit, trailing
	// bytes).
	ErrMalformedMessage = wire.ErrMalformedMessage
	// ErrClosed: the server was shut down.
	ErrClosed = errors.New("server: closed")
	// ErrBusy: the call conflicts with one in progress: Step, Run or Close
	// while Run or a Step runs, or Kick of a player from its own
	// AddPlayer.
	ErrBusy = errors.New("server: busy")
	// ErrUnknownPlayer: no connected player has that id (it never did, it
	// left or it was kicked).
	ErrUnknownPlayer = errors.New("server: unknown player")
	// ErrUnknownRoom: no room has that name (it never did, or it was
	// closed), or it cannot take the call (Server.Signal to a Game that is
	// not a Signaler).
	ErrUnknownRoom = errors.New("server: unknown room")
	// ErrUnregisteredMessage: a game message's type is not registered in
	// Config.Messages, or Config.Messages is nil.
	ErrUnregisteredMessage = errors.New("server: unregistered message type")
)
