package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// Channels of the protocol, the same numbers as the server package's
// DefaultControlChannel, DefaultInputChannel and DefaultSnapshotChannel
// (this package does not import server, which links Prometheus), and the
// channel kinds of netcode's default endpoint layout.
const (
	DefaultControlChannel  = 0 // reliable-ordered: welcome, game messages, kick
	DefaultInputChannel    = 1 // unreliable: input messages
	DefaultSnapshotChannel = 2 // unreliable-sequenced: snapshots
)

// Defaults of Config.
const (
	DefaultInputRedundancy  = 4
	DefaultInterpDelay      = 100 * time.Millisecond
	DefaultMaxExtrapolation = 250 * time.Millisecond
	DefaultSmoothTime       = 150 * time.Millisecond
)

// AssumedRTT is the round trip the clock assumes until the connection has
// measured one (netcode's RTT is zero until the first acknowledgement). It
// errs on the long side: inputs that arrive a little early cost a few
// milliseconds of latency for a moment, while a clock started one one-way
// delay behind would send late inputs and correct itself for a second.
const AssumedRTT = 150 * time.Millisecond

// Config configures a Client for a game whose own predicted state is S and
// whose per-tick input is I. Zero fields take the defaults listed; the
// fields marked required have none. A Config is a plain value, read once by
// New.
type Config[S, I any] struct {
	// Addr is the server's "host:port", dialled with
	// netcode.Dial(ctx, Addr, Netcode) unless Dial is set.
	Addr string
	// Netcode configures the connection (ProtocolID, Version, a connect
	// Token for secure servers, timeouts, the endpoint's channel layout).
	Netcode netcode.ClientConfig
	// Dial, when set, makes the connection instead of netcode.Dial: for
	// example netcode.DialConn over an in-memory netsim.Pipe end (tests, an
	// in-process server), or a function that fetches a fresh connect token
	// before each attempt. It runs on a short-lived goroutine of its own
	// and must return when ctx is cancelled (Close cancels it).
	Dial func(ctx context.Context) (*netcode.Client, error)
	// Reconnect says whether and how to reconnect after the connection is
	// lost; the zero value never reconnects.
	Reconnect ReconnectPolicy

	// Codec is the server's snapshot schema and entity limit (the same
	// value as the server's Config.Codec). Required.
	Codec state.CodecConfig
	// Messages registers the game's typed messages, shared with the
	// server; nil means none (every game message received is dropped and
	// counted as bad).
	Messages *wire.Messages
	// ControlChannel, InputChannel and SnapshotChannel must match the
	// server's. When all three are 0 they take DefaultControlChannel,
	// DefaultInputChannel and DefaultSnapshotChannel; otherwise each must
	// be 0..255 and InputChannel must differ from the other two.
	ControlChannel, InputChannel, SnapshotChannel int
	// SnapshotHistory is how many ticks of snapshots are kept as delta
	// baselines; at least the server's Config.SnapshotHistory. 0 means
	// wire.DefaultSnapshotHistory (64); 2..65536.
	SnapshotHistory int

	// OwnState turns the fields of the client's own entity in a snapshot
	// into the predicted state S (with several entity kinds, the entity's
	// slot of Codec.Stride() values, those past its kind's fields 0). An
	// error means the entity is not a predictable state right now: the
	// snapshot is used for everything else and counted in
	// Stats.BadStates. Required.
	OwnState func(fields []int32) (S, error)
	// OwnEntity returns the entity ID of the client's own entity in
	// snapshots, given the player ID of the Welcome; nil means the
	// entity ID is the player ID.
	OwnEntity func(player wire.PlayerID) uint32
	// AppendInput appends the encoding of one tick's input to dst and
	// returns it, as the server's Game.ApplyInput decodes it: at most
	// wire.MaxInputSize bytes (and at most the server's
	// InputConfig.MaxInputSize, 64 by default; a longer one makes Update
	// panic, as a programming error). Required.
	AppendInput func(dst []byte, in I) []byte
	// Step advances the own state by one tick with one input: the same
	// deterministic rules the server runs (integer or fixed-point).
	// Required.
	Step func(s S, in I) S
	// Equal reports whether two states are identical; a server state
	// unequal to the prediction is a correction. Required (for a
	// comparable S: state.EqualComparable[S]).
	Equal func(a, b S) bool
	// Clone deep-copies a state; needed only when S holds references that
	// Step mutates. nil copies S by assignment.
	Clone func(s S) S
	// InputRedundancy is how many times each tick's input is sent, and
	// how many inputs one input message carries: 1..wire.MaxInputRedundancy,
	// 0 means DefaultInputRedundancy (4). A tick's input is lost only when
	// every packet carrying it is.
	InputRedundancy int

	// Correction measures a prediction correction for smoothing: it
	// appends to dst[:0] the visible difference before − after (for
	// example dx, dy of the drawn position) as CorrectionDims numbers and
	// returns it. nil means corrections are not smoothed (the own state
	// jumps) and every correction counts with size 0.
	Correction func(dst []float64, before, after S) []float64
	// CorrectionDims is the length of Correction's result, 1..16;
	// required with Correction.
	CorrectionDims int
	// SmoothTime is how long a correction takes to fade out of the drawn
	// own state (state.Smoother). 0 means DefaultSmoothTime (150 ms).
	SmoothTime time.Duration
	// SnapDistance: a correction longer than this (Euclidean length of
	// Correction's result) snaps instead of sliding, so respawns and
	// teleports look like one. 0 means never snap.
	SnapDistance float64

	// Interp gives each snapshot field's interpolation mode for remote
	// entities (positions InterpLinear, discrete fields InterpStep,
	// angles InterpAngle), one entry per field slot (Codec.Stride()), for
	// every kind. nil derives each kind's modes from its field types
	// (state.Kind.Interp: bools and enums in steps, ints and floats
	// linearly).
	Interp []state.FieldInterp
	// InterpDelay is how far behind the newest snapshots remote entities
	// are drawn on a steady link (twice the measured jitter is added).
	// 0 means DefaultInterpDelay (100 ms).
	InterpDelay time.Duration
	// MaxExtrapolation bounds how far past the newest snapshot remote
	// entities are moved along their last change when snapshots are late;
	// past it they freeze and the frame counts as a stall. 0 means
	// DefaultMaxExtrapolation (250 ms).
	MaxExtrapolation time.Duration

	// Logger receives connection events (connect, welcome, disconnect,
	// reconnect); nil discards them.
	Logger *slog.Logger
}

// ReconnectPolicy says when a Client reconnects after losing its
// connection or failing to make one. The zero value never reconnects.
//
// The delay before attempt n (1, 2, …) is min(MaxDelay, MinDelay·2^(n-1)),
// of which the upper half is random ("equal jitter", drawn from a PCG
// generator seeded with Seed), so clients that lost the same server do not
// come back in lockstep. A kick, a refused connect token, a version or
// protocol mismatch and Close end the client for good: retrying cannot help.
type ReconnectPolicy struct {
	// Enabled turns reconnecting on.
	Enabled bool
	// MaxAttempts bounds the attempts after one loss (a successful
	// connection starts the count again); 0 means no bound.
	MaxAttempts int
	// MinDelay is the delay before the first attempt; default 500 ms.
	MinDelay time.Duration
	// MaxDelay bounds the delay; default 15 s, at least MinDelay.
	MaxDelay time.Duration
	// Seed seeds the jitter.
	Seed uint64
}

// Defaults of ReconnectPolicy.
const (
	DefaultReconnectMinDelay = 500 * time.Millisecond
	DefaultReconnectMaxDelay = 15 * time.Second
)

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("client: invalid config")

func (c Config[S, I]) withDefaults() Config[S, I] {
	if c.ControlChannel == 0 && c.InputChannel == 0 && c.SnapshotChannel == 0 {
		c.ControlChannel, c.InputChannel, c.SnapshotChannel = DefaultControlChannel, DefaultInputChannel, DefaultSnapshotChannel
	}
	if c.SnapshotHistory == 0 {
		c.SnapshotHistory = wire.DefaultSnapshotHistory
	}
	if c.OwnEntity == nil {
		c.OwnEntity = func(p wire.PlayerID) uint32 { return uint32(p) }
	}
	if c.InputRedundancy == 0 {
		c.InputRedundancy = DefaultInputRedundancy
	}
	if c.SmoothTime == 0 {
		c.SmoothTime = DefaultSmoothTime
	}
	if c.InterpDelay == 0 {
		c.InterpDelay = DefaultInterpDelay
	}
	if c.MaxExtrapolation == 0 {
		c.MaxExtrapolation = DefaultMaxExtrapolation
	}
	if c.Reconnect.MinDelay == 0 {
		c.Reconnect.MinDelay = DefaultReconnectMinDelay
	}
	if c.Reconnect.MaxDelay == 0 {
		c.Reconnect.MaxDelay = max(DefaultReconnectMaxDelay, c.Reconnect.MinDelay)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first field that is missing or out of range,
// naming it, its value and what is allowed. The error wraps
// ErrInvalidConfig.
func (c Config[S, I]) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if c.Addr == "" && c.Dial == nil {
		return bad("Config.Addr is empty and Config.Dial is nil, want a server address or a dial function")
	}
	if err := c.Codec.Validate(); err != nil {
		return fmt.Errorf("%w: Config.Codec: %w", ErrInvalidConfig, err)
	}
	if c.OwnState == nil || c.AppendInput == nil || c.Step == nil || c.Equal == nil {
		var missing string
		switch {
		case c.OwnState == nil:
			missing = "OwnState"
		case c.AppendInput == nil:
			missing = "AppendInput"
		case c.Step == nil:
			missing = "Step"
		default:
			missing = "Equal"
		}
		return bad("Config.%s is nil, want the game's function", missing)
	}
	if c.SnapshotHistory != 0 && (c.SnapshotHistory < 2 || c.SnapshotHistory > 1<<16) {
		return bad("Config.SnapshotHistory is %d, want 0 (default %d) or 2..65536", c.SnapshotHistory, wire.DefaultSnapshotHistory)
	}
	if c.InputRedundancy < 0 || c.InputRedundancy > wire.MaxInputRedundancy {
		return bad("Config.InputRedundancy is %d, want 0 (default %d) or 1..%d", c.InputRedundancy, DefaultInputRedundancy, wire.MaxInputRedundancy)
	}
	d := c.withDefaults()
	for _, ch := range []struct {
		name string
		v    int
	}{{"ControlChannel", d.ControlChannel}, {"InputChannel", d.InputChannel}, {"SnapshotChannel", d.SnapshotChannel}} {
		if ch.v < 0 || ch.v > 255 {
			return bad("Config.%s is %d, want 0..255", ch.name, ch.v)
		}
	}
	if d.InputChannel == d.ControlChannel || d.InputChannel == d.SnapshotChannel {
		return bad("Config.InputChannel is %d, the same as ControlChannel (%d) or SnapshotChannel (%d), want its own channel",
			d.InputChannel, d.ControlChannel, d.SnapshotChannel)
	}
	if c.Correction != nil && (c.CorrectionDims < 1 || c.CorrectionDims > 16) {
		return bad("Config.CorrectionDims is %d, want 1..16 with a Correction function", c.CorrectionDims)
	}
	if c.SmoothTime < 0 {
		return bad("Config.SmoothTime is %v, want 0 (default %v) or more", c.SmoothTime, DefaultSmoothTime)
	}
	if c.SnapDistance < 0 || math.IsNaN(c.SnapDistance) {
		return bad("Config.SnapDistance is %v, want 0 (never snap) or more", c.SnapDistance)
	}
	if n := c.Codec.Stride(); c.Interp != nil && len(c.Interp) != n {
		return bad("Config.Interp has %d entries, want nil or one per field slot (Codec.Stride(): %d)", len(c.Interp), n)
	}
	if c.InterpDelay < 0 {
		return bad("Config.InterpDelay is %v, want 0 (default %v) or more", c.InterpDelay, DefaultInterpDelay)
	}
	if c.MaxExtrapolation < 0 {
		return bad("Config.MaxExtrapolation is %v, want 0 (default %v) or more", c.MaxExtrapolation, DefaultMaxExtrapolation)
	}
	// The interpolator checks the modes (and angle bits) with a tick
	// interval that only the Welcome gives; check them now with a nominal
	// one so that a bad mode fails New, not the connection.
	if err := interpConfig(c.Codec, c.Interp, time.Second/60, d.InterpDelay, d.MaxExtrapolation).Validate(); err != nil {
		return bad("Config.Interp, InterpDelay or MaxExtrapolation: %v", err)
	}
	r := c.Reconnect
	if r.MaxAttempts < 0 {
		return bad("Config.Reconnect.MaxAttempts is %d, want 0 (no bound) or more", r.MaxAttempts)
	}
	if r.MinDelay < 0 {
		return bad("Config.Reconnect.MinDelay is %v, want 0 (default %v) or more", r.MinDelay, DefaultReconnectMinDelay)
	}
	if r.MaxDelay != 0 && r.MaxDelay < d.Reconnect.MinDelay {
		return bad("Config.Reconnect.MaxDelay is %v, want 0 (default %v) or at least MinDelay (%v)",
			r.MaxDelay, DefaultReconnectMaxDelay, d.Reconnect.MinDelay)
	}
	return nil
}

// interpConfig returns the interpolator's config for a codec: modes from
// interp for every kind, or, when it is nil, from each kind's field types.
func interpConfig(codec state.CodecConfig, interp []state.FieldInterp, tickDt, delay, maxExtra time.Duration) state.InterpolatorConfig {
	cfg := state.InterpolatorConfig{TickInterval: tickDt, Stride: codec.Stride(), Fields: interp, Delay: delay, MaxExtrapolation: maxExtra}
	if interp != nil {
		return cfg
	}
	if len(codec.Kinds) == 0 {
		cfg.Fields = state.Kind{Fields: codec.Schema.Fields}.Interp()
		return cfg
	}
	cfg.KindFields = make([][]state.FieldInterp, len(codec.Kinds))
	for k, kind := range codec.Kinds {
		cfg.KindFields[k] = kind.Interp()
	}
	return cfg
}
