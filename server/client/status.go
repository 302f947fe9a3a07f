package client

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tickwire/tickwire/netcode"
)

// ConnState is where a Client's connection stands.
type ConnState uint8

// Connection states. A new Client is Connecting (it dials at its first
// Update); a lost connection is Disconnected, and Connecting again when a
// reconnect attempt starts.
const (
	Connecting ConnState = iota
	Connected
	Disconnected
)

// String returns "connecting", "connected" or "disconnected".
func (s ConnState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return "ConnState(" + strconv.Itoa(int(s)) + ")"
}

// Status is what a HUD shows about the connection.
type Status struct {
	State ConnState
	// Err says why the last connection ended or the last attempt failed
	// (nil before that): a *KickedError, an error matching
	// netcode.ErrTimeout, netcode.ErrDisconnected (the server closed),
	// netcode.ErrTokenDenied (a *netcode.DeniedError says why),
	// netcode.ErrServerFull, …, or ErrClosed after Close. It stays set
	// while reconnecting.
	Err error
	// Attempt counts the reconnect attempts since the connection was lost
	// (0 for the first connection).
	Attempt int
	// RetryIn is, while Disconnected with a reconnect scheduled, the time
	// left before the next attempt as of the last Update; 0 when no attempt
	// is scheduled (the client has given up or does not reconnect).
	RetryIn time.Duration
	// Welcomed: the server's Welcome arrived on this connection (the game
	// knows its player ID; prediction may start).
	Welcomed bool
}

// String describes the status in a line, e.g. "connected",
// `disconnected: client: kicked: "cheating"`, or
// "disconnected: netcode: connection timed out; reconnecting in 1.2s".
func (s Status) String() string {
	out := s.State.String()
	if s.State == Connected && !s.Welcomed {
		out += ", waiting for the welcome"
	}
	if s.State == Connecting && s.Attempt > 0 {
		out = fmt.Sprintf("reconnecting (attempt %d)", s.Attempt)
	}
	if s.Err != nil && s.State != Connected {
		out += ": " + s.Err.Error()
	}
	if s.RetryIn > 0 {
		// Rounded up to 100 ms, so that it never shows "0s".
		out += "; reconnecting in " + (s.RetryIn + 100*time.Millisecond - 1).Truncate(100*time.Millisecond).String()
	}
	return out
}

// KickedError is Status.Err after the server kicked the client with a
// reason (wire.AppendKick). A client that was kicked does not reconnect.
type KickedError struct {
	Reason string
}

// Error returns `client: kicked: "<reason>"`.
func (e *KickedError) Error() string { return fmt.Sprintf("client: kicked: %q", e.Reason) }

var (
	// ErrClosed: the Client was closed (Status.Err after Close; Send's
	// error after it).
	ErrClosed = errors.New("client: closed")
	// ErrNotConnected: Send was called while no connection is up.
	ErrNotConnected = errors.New("client: not connected")
)

// permanent reports whether err ends the client for good (no reconnect):
// retrying cannot succeed, or the server asked us to stay away.
func permanent(err error) bool {
	var kicked *KickedError
	var disc *netcode.DisconnectError
	switch {
	case errors.As(err, &kicked):
		return true
	case errors.Is(err, ErrClosed), errors.Is(err, netcode.ErrClosed):
		return true
	case errors.Is(err, netcode.ErrTokenDenied), errors.Is(err, netcode.ErrVersionMismatch), errors.Is(err, netcode.ErrProtocolMismatch),
		errors.Is(err, netcode.ErrInvalidConnConfig), errors.Is(err, netcode.ErrInvalidToken):
		return true
	case errors.As(err, &disc):
		// Kicked by netcode's Server.Disconnect (the game refused the
		// player, say), or replaced by a newer connection of ours.
		return disc.Reason == netcode.ReasonKicked || disc.Reason == netcode.ReasonReplaced
	}
	return false
}
