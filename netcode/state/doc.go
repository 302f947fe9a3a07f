// Package state holds the state-synchronisation logic of a Tickwire game,
// shared by the authoritative server and its clients: quantization, a
// bit-packed delta snapshot codec, a server-clock estimate, client-side
// prediction with reconciliation, and interpolation of remote entities.
//
// It is pure logic: no sockets, no goroutines, no global state, and every
// function that depends on time takes it as an argument, so tests drive it
// with a fake clock. It does not depend on the transport (package netcode);
// the server and client glue the two together.
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
// Ticks are uint32 counters compared as plain integers: at 60 Hz they wrap
// after more than two years of one session, which this package does not
// handle.
//
// # Entity kinds and field types
//
// A game with several kinds of entities (players, projectiles, pickups)
// lists them in CodecConfig.Kinds instead of a Schema, each Kind with its own
// fields, and adds each entity with Snapshot.AddKind(id, kind) (Add means
// kind 0). A snapshot keeps one Stride for all, CodecConfig.Stride(), the
// largest kind's field count; an entity uses the first slots, as many as
// its kind has fields, and the rest stay 0. The codec sends only the
// entity's own kind's fields, and its kind (ceil(log2 kinds) bits) only when
// the entity appears; an ID whose kind changes is sent as removed and added.
// A single-kind config costs no kind bits: its payloads are byte for byte
// what they were before kinds existed.
//
// Fields are declared by meaning: IntField (bits, signed), BoolField (1
// bit), EnumField (n values in ceil(log2 n) bits) and FloatField (a range
// and a precision; the bits follow from them, at most 31). Each keeps its
// value in the int32 slot, so deltas stay bit-packed integers; the Field's
// methods convert: PutFloat/Float (rounding to the nearest level, clamping
// into range, exact at both ends), PutInt/Int, PutBool/Bool, and FloatF for
// the fractional values an Interpolator's Frame holds. The Encoder rejects a
// value outside its field (an enum past n-1, a float level past its top)
// with an error that names the entity, its kind and the field; the Decoder
// rejects such bytes as malformed. Kind.Interp gives the interpolation modes
// a kind's fields want (InterpolatorConfig.KindFields), and an entity whose
// kind changed is drawn at its new values, not blended.
//
// # Client loop
//
// A client wires the pieces together once per frame, all with the same now:
//
//   - on each snapshot payload: History.Decode it, Clock.Observe its tick with
//     the transport's RTT, Interpolator.Add it for the remote entities, and
//     Predictor.Reconcile the own entity's server state with the input tick
//     the server says it applied (feed Reconciliation.Before minus the new
//     State to a Smoother); ack the snapshot so the server can use it as a
//     baseline;
//   - while Predictor.Tick() < Clock.PredictionTick(now): Predictor.Predict
//     the current input and send it (with the last few unacked ones, from
//     Predictor.Unacked and Predictor.Input);
//   - draw the own entity at Predictor.State() plus Smoother.Offset, and the
//     others from Interpolator.Sample(Clock.SnapshotTime(now), &frame).
//
// The Clock runs the prediction about RTT/2 plus a buffer ahead of the
// server so inputs arrive in time; the Interpolator draws others about
// 100 ms (more on a jittery link) behind the newest snapshots, extrapolating
// at most MaxExtrapolation when they are late, and counts extrapolated and
// stalled frames. RateMeter turns counters (corrections, stalls) into
// per-second rates.
//
// # Zero values and concurrency
//
// Quantizer, AngleQuantizer, Field, Schema, Kind, Header, Frame, Snapshot
// and the Config types are plain values; the zero Snapshot and Frame are empty and
// ready to use, the zero Quantizer, AngleQuantizer, Schema and configs are
// invalid where their Validate says so. Encoder, Decoder, History,
// BaselineTracker, Clock, Predictor, Smoother, Interpolator and RateMeter
// must be created with their New function and are not safe for concurrent
// use: drive each from one goroutine (a server encoding for many clients in
// parallel gives each goroutine its own Encoder). Nothing here starts a
// goroutine or reads the clock.
//
// Every error wraps one of the sentinel errors (ErrInvalidConfig,
// ErrMalformedSnapshot, ErrMissingBaseline, ErrInvalidSnapshot,
// ErrStaleSnapshot) for errors.Is.
package state
