// Package sync holds the state-synchronisation logic of a Tickwire game,
// shared by the authoritative server and its clients: quantization, a
// bit-packed delta snapshot codec, a server-clock estimate, client-side
// prediction with reconciliation, and interpolation of remote entities.
//
// It is pure logic: no sockets, no goroutines, no global state, and every
// function that depends on time takes it as an argument, so tests drive it
// with a fake clock. It does not depend on the transport (package netcode);
// the server and client glue the two together. Because its name shadows the
// standard library's, import it under another name:
//
//	import netsync "github.com/tickwire/tickwire/netcode/sync"
//
// # Snapshots
//
// A Snapshot is a server tick plus entities, each an ID and a fixed list of
// quantized int32 fields described by a Schema (bits per field, signed or
// not). Quantizer and AngleQuantizer turn floats into such fields with a
// documented precision; games with fixed-point state use their integers as
// they are.
//
// The server encodes each snapshot with an Encoder against the newest
// snapshot the client acknowledged (BaselineTracker), or in full when there
// is none. The payload is a msgpack array [tick, baseline|nil, body] whose
// body is bit-packed: in a delta an unchanged entity costs one bit, an
// unchanged field of a changed entity one bit, a changed field two bits plus
// a small varint of its change. The client decodes with a Decoder against
// its History of received snapshots; a delta whose baseline it no longer has
// fails with ErrMissingBaseline, and the next ack lets the server recover.
//
// # Zero values and concurrency
//
// Quantizer, AngleQuantizer, Field, Schema and the Config types are plain
// values, safe to copy and share; their zero values are invalid where their
// Validate says so. Encoder, Decoder, History, BaselineTracker and the other
// stateful types must be created with their New function and are not safe
// for concurrent use: drive each from one goroutine (a server encoding for
// many clients in parallel gives each goroutine its own Encoder).
//
// Every error wraps one of the sentinel errors (ErrInvalidConfig,
// ErrMalformedSnapshot, ErrMissingBaseline, ErrInvalidSnapshot,
// ErrStaleSnapshot) for errors.Is.
package sync
