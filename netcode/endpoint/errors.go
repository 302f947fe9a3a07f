package endpoint

import "errors"

// Sentinel errors returned by the reliability endpoint. Test for them with
// errors.Is; returned errors may wrap them with more detail.
var (
	// ErrSendQueueFull reports that a channel's send queue holds as many
	// messages (or bytes) as its ChannelConfig allows. The message was not
	// queued; the caller may drop it or retry on a later tick.
	ErrSendQueueFull = errors.New("endpoint: send queue full")

	// ErrMessageTooLarge reports a message longer than Config.MaxMessageSize.
	ErrMessageTooLarge = errors.New("endpoint: message too large")

	// ErrMalformedPacket reports a packet that does not decode: truncated,
	// inconsistent, or naming a channel that does not exist.
	ErrMalformedPacket = errors.New("endpoint: malformed packet")

	// ErrUnknownChannel reports a channel id outside Config.Channels.
	ErrUnknownChannel = errors.New("endpoint: unknown channel")

	// ErrStalePacket reports a packet whose sequence number is too old to be
	// tracked any more. It is dropped and counted in Stats.PacketsStale.
	ErrStalePacket = errors.New("endpoint: stale packet")

	// ErrDuplicatePacket reports a packet that was already received. It is
	// dropped and counted in Stats.PacketsDuplicate.
	ErrDuplicatePacket = errors.New("endpoint: duplicate packet")
)

// malformedError says why a packet was rejected. Every value is a
// package-level pointer so that rejecting a packet does not allocate.
type malformedError struct{ reason string }

func (e *malformedError) Error() string        { return "endpoint: malformed packet: " + e.reason }
func (e *malformedError) Is(target error) bool { return target == ErrMalformedPacket }

var (
	errHeaderShort     = &malformedError{"header truncated"}
	errHeaderReserved  = &malformedError{"reserved header flag bits set"}
	errHeaderFlags     = &malformedError{"contradictory header flags"}
	errHeaderAckBits   = &malformedError{"non-canonical ack bits"}
	errHeaderAckDelay  = &malformedError{"bad ack delay"}
	errFrameShort      = &malformedError{"message frame truncated"}
	errFrameChannel    = &malformedError{"message frame names an unknown channel"}
	errFrameLength     = &malformedError{"message length exceeds packet"}
	errFrameFragment   = &malformedError{"inconsistent fragment fields"}
	errFrameVarint     = &malformedError{"bad varint"}
	errPacketTooLarge  = &malformedError{"packet larger than MaxPacketSize (or MaxPathMTU)"}
	errFramePadding    = &malformedError{"padding frame with non-zero bytes"}
	errFragmentChanged = &malformedError{"fragment disagrees with earlier fragments of its message"}
)
