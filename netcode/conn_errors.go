package netcode

import (
	"errors"
	"fmt"
)

// Errors of the connection layer. Every error returned by Dial, DialConn,
// Client.Update, Listen and Serve either is one of these or wraps one, so
// callers test them with errors.Is.
var (
	// ErrServerFull: the server already has MaxClients connected clients.
	ErrServerFull = errors.New("netcode: server full")
	// ErrVersionMismatch: client and server run different Version values.
	ErrVersionMismatch = errors.New("netcode: version mismatch")
	// ErrProtocolMismatch: client and server use different ProtocolID values,
	// or a different connection wire format.
	ErrProtocolMismatch = errors.New("netcode: protocol mismatch")
	// ErrTokenDenied: the connect token was refused (tampered, expired, issued
	// for another server or protocol, or missing in secure mode). The
	// DeniedError that wraps it says which.
	ErrTokenDenied = errors.New("netcode: connect token denied")
	// ErrTimeout: the peer went silent for longer than the configured timeout,
	// or the handshake did not finish in time.
	ErrTimeout = errors.New("netcode: connection timed out")
	// ErrDisconnected: the peer closed the connection.
	ErrDisconnected = errors.New("netcode: disconnected by peer")
	// ErrClosed: the Client or Server was closed locally.
	ErrClosed = errors.New("netcode: connection closed")
	// ErrUnknownClient: no connected client has this id.
	ErrUnknownClient = errors.New("netcode: unknown client")
	// ErrInvalidToken: a connect token could not be issued or parsed.
	ErrInvalidToken = errors.New("netcode: invalid connect token")
	// ErrInvalidConnConfig: a ServerConfig or ClientConfig field is out of range.
	ErrInvalidConnConfig = errors.New("netcode: invalid connection config")

	// errBadConnPacket is wrapped by every connection packet decoder error.
	errBadConnPacket = errors.New("netcode: malformed connection packet")
)

// DenyReason says why a server refused a connection request.
type DenyReason uint8

// Deny reasons, as carried in a denied packet.
const (
	DenyServerFull DenyReason = iota + 1
	DenyVersionMismatch
	DenyProtocolMismatch
	DenyTokenInvalid     // missing, tampered or undecodable token
	DenyTokenExpired     // token past its expiry on the server's clock
	DenyTokenWrongServer // token does not list this server's address
)

func (r DenyReason) String() string {
	switch r {
	case DenyServerFull:
		return "server full"
	case DenyVersionMismatch:
		return "version mismatch"
	case DenyProtocolMismatch:
		return "protocol mismatch"
	case DenyTokenInvalid:
		return "token invalid"
	case DenyTokenExpired:
		return "token expired"
	case DenyTokenWrongServer:
		return "token for another server"
	default:
		return fmt.Sprintf("deny reason %d", uint8(r))
	}
}

func (r DenyReason) valid() bool { return r >= DenyServerFull && r <= DenyTokenWrongServer }

// sentinel maps a reason to the sentinel error it matches with errors.Is.
func (r DenyReason) sentinel() error {
	switch r {
	case DenyServerFull:
		return ErrServerFull
	case DenyVersionMismatch:
		return ErrVersionMismatch
	case DenyProtocolMismatch:
		return ErrProtocolMismatch
	default:
		return ErrTokenDenied
	}
}

// DeniedError is returned by Dial when the server (or, for an expired token,
// the client itself) refused the connection. errors.Is(err, ErrServerFull),
// ErrVersionMismatch, ErrProtocolMismatch or ErrTokenDenied matches it by Reason.
type DeniedError struct {
	Reason DenyReason
	Detail string // optional, e.g. the two versions
}

func (e *DeniedError) Error() string {
	msg := e.Reason.sentinel().Error()
	if e.Reason.sentinel() == ErrTokenDenied {
		msg += " (" + e.Reason.String() + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap lets errors.Is match the reason's sentinel.
func (e *DeniedError) Unwrap() error { return e.Reason.sentinel() }

// DisconnectReason says why a connection ended.
type DisconnectReason uint8

// Disconnect reasons. The ones below 16 also travel on the wire in a
// disconnect packet.
const (
	ReasonNone         DisconnectReason = iota
	ReasonClosed                        // the peer called Close (or Server.Disconnect)
	ReasonServerClosed                  // the server shut down
	ReasonTimeout                       // nothing received for Timeout
	ReasonReplaced                      // no longer sent: a new handshake never replaces a connection (kept for its number)
	ReasonKicked                        // Server.Disconnect
)

func (r DisconnectReason) String() string {
	switch r {
	case ReasonNone:
		return "none"
	case ReasonClosed:
		return "closed by peer"
	case ReasonServerClosed:
		return "server closed"
	case ReasonTimeout:
		return "timed out"
	case ReasonReplaced:
		return "replaced by a new connection"
	case ReasonKicked:
		return "kicked by server"
	default:
		return fmt.Sprintf("reason %d", uint8(r))
	}
}

// DisconnectError is returned by Client.Update (and the client's methods that
// send) once the connection is over. errors.Is matches ErrTimeout for
// ReasonTimeout, ErrClosed when closed locally, and ErrDisconnected otherwise.
type DisconnectError struct {
	Reason DisconnectReason
	Local  bool // true when this side ended it (Close or timeout)
}

func (e *DisconnectError) Error() string {
	if e.Reason == ReasonTimeout {
		return ErrTimeout.Error() // "connection timed out: timed out" said it twice
	}
	return e.Unwrap().Error() + ": " + e.Reason.String()
}

// Unwrap returns ErrTimeout, ErrClosed or ErrDisconnected.
func (e *DisconnectError) Unwrap() error {
	switch {
	case e.Reason == ReasonTimeout:
		return ErrTimeout
	case e.Local:
		return ErrClosed
	default:
		return ErrDisconnected
	}
}

func configError(field string, value any, allowed string) error {
	return fmt.Errorf("%w: %s = %v, want %s", ErrInvalidConnConfig, field, value, allowed)
}
