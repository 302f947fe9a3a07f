package netcode

import "github.com/tickwire/tickwire/netcode/endpoint"

// Names of the reliability endpoint (package netcode/endpoint) that a game
// meets through a connection, so that it need not import that package for
// them. Channel configuration (endpoint.Config, endpoint.ChannelConfig)
// lives there.
type (
	// MessageID identifies a message sent on a channel; see endpoint.MessageID.
	MessageID = endpoint.MessageID
	// Stats are a connection's link statistics (RTT, loss, rates, counts);
	// see endpoint.Stats.
	Stats = endpoint.Stats
)

// Errors a connection's Send returns from its endpoint; test them with errors.Is.
var (
	ErrSendQueueFull   = endpoint.ErrSendQueueFull
	ErrMessageTooLarge = endpoint.ErrMessageTooLarge
	ErrUnknownChannel  = endpoint.ErrUnknownChannel
)
