package state

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them, so
// callers can test with errors.Is; the message adds the details.
var (
	// ErrInvalidConfig: a config, schema or quantizer value is out of range.
	// The message names the field, its value and what is allowed.
	ErrInvalidConfig = errors.New("state: invalid config")
	// ErrMalformedSnapshot: a snapshot payload could not be decoded (truncated,
	// trailing data, a count above the configured limits, a value outside its
	// field's range, or not a snapshot envelope at all).
	ErrMalformedSnapshot = errors.New("state: malformed snapshot")
	// ErrMissingBaseline: a delta snapshot refers to a baseline tick the
	// decoder was not given (the client never received it, or dropped it from
	// its history). Ask the server for a newer baseline by acking what you have.
	ErrMissingBaseline = errors.New("state: missing baseline snapshot")
	// ErrInvalidSnapshot: a snapshot handed to the encoder is unusable: IDs not
	// strictly increasing, the wrong number of fields, a kind the config does
	// not have, a value that does not fit its field (or a non-zero slot past
	// its kind's fields), or more entities than the configured maximum.
	ErrInvalidSnapshot = errors.New("state: invalid snapshot")
	// ErrStaleSnapshot: a snapshot is older than the one History keeps in its
	// slot; it is dropped.
	ErrStaleSnapshot = errors.New("state: stale snapshot")
)
