package client_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/client"
)

func TestConfigValidate(t *testing.T) {
	ok := dotConfig()
	ok.Addr = "127.0.0.1:7000"
	require.NoError(t, ok.Validate())
	_, err := client.New(ok)
	require.NoError(t, err, "New does not dial")

	for _, tc := range []struct {
		name string
		edit func(*client.Config[dot, move])
		want string
	}{
		{"no server", func(c *client.Config[dot, move]) { c.Addr = "" },
			"client: invalid config: Config.Addr is empty and Config.Dial is nil, want a server address or a dial function"},
		{"no schema", func(c *client.Config[dot, move]) { c.Codec = state.CodecConfig{} },
			"client: invalid config: Config.Codec: state: invalid config"},
		{"no OwnState", func(c *client.Config[dot, move]) { c.OwnState = nil },
			"client: invalid config: Config.OwnState is nil, want the game's function"},
		{"no AppendInput", func(c *client.Config[dot, move]) { c.AppendInput = nil },
			"client: invalid config: Config.AppendInput is nil, want the game's function"},
		{"no Step", func(c *client.Config[dot, move]) { c.Step = nil },
			"client: invalid config: Config.Step is nil, want the game's function"},
		{"no Equal", func(c *client.Config[dot, move]) { c.Equal = nil },
			"client: invalid config: Config.Equal is nil, want the game's function"},
		{"history", func(c *client.Config[dot, move]) { c.SnapshotHistory = 1 },
			"client: invalid config: Config.SnapshotHistory is 1, want 0 (default 64) or 2..65536"},
		{"redundancy", func(c *client.Config[dot, move]) { c.InputRedundancy = 17 },
			"client: invalid config: Config.InputRedundancy is 17, want 0 (default 4) or 1..16"},
		{"channel range", func(c *client.Config[dot, move]) { c.ControlChannel, c.InputChannel, c.SnapshotChannel = 0, 1, 300 },
			"client: invalid config: Config.SnapshotChannel is 300, want 0..255"},
		{"input channel shared", func(c *client.Config[dot, move]) { c.ControlChannel, c.InputChannel, c.SnapshotChannel = 3, 3, 4 },
			"client: invalid config: Config.InputChannel is 3, the same as ControlChannel (3) or SnapshotChannel (4), want its own channel"},
		{"correction dims", func(c *client.Config[dot, move]) { c.CorrectionDims = 0 },
			"client: invalid config: Config.CorrectionDims is 0, want 1..16 with a Correction function"},
		{"smooth time", func(c *client.Config[dot, move]) { c.SmoothTime = -time.Second },
			"client: invalid config: Config.SmoothTime is -1s, want 0 (default 150ms) or more"},
		{"snap distance", func(c *client.Config[dot, move]) { c.SnapDistance = math.NaN() },
			"client: invalid config: Config.SnapDistance is NaN, want 0 (never snap) or more"},
		{"interp length", func(c *client.Config[dot, move]) { c.Interp = []state.FieldInterp{{}} },
			"client: invalid config: Config.Interp has 1 entries, want nil or one per field slot (Codec.Stride(): 2)"},
		{"interp mode", func(c *client.Config[dot, move]) {
			c.Interp = []state.FieldInterp{{Mode: state.InterpAngle}, {}}
		}, "client: invalid config: Config.Interp, InterpDelay or MaxExtrapolation: state: invalid config"},
		{"interp delay", func(c *client.Config[dot, move]) { c.InterpDelay = -1 },
			"client: invalid config: Config.InterpDelay is -1ns, want 0 (default 100ms) or more"},
		{"extrapolation", func(c *client.Config[dot, move]) { c.MaxExtrapolation = -1 },
			"client: invalid config: Config.MaxExtrapolation is -1ns, want 0 (default 250ms) or more"},
		{"attempts", func(c *client.Config[dot, move]) { c.Reconnect.MaxAttempts = -1 },
			"client: invalid config: Config.Reconnect.MaxAttempts is -1, want 0 (no bound) or more"},
		{"min delay", func(c *client.Config[dot, move]) { c.Reconnect.MinDelay = -1 },
			"client: invalid config: Config.Reconnect.MinDelay is -1ns, want 0 (default 500ms) or more"},
		{"max delay", func(c *client.Config[dot, move]) {
			c.Reconnect.MinDelay, c.Reconnect.MaxDelay = time.Second, time.Millisecond
		},
			"client: invalid config: Config.Reconnect.MaxDelay is 1ms, want 0 (default 15s) or at least MinDelay (1s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			err := cfg.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, client.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
			_, err = client.New(cfg)
			assert.ErrorIs(t, err, client.ErrInvalidConfig, "New validates")
		})
	}

	// Channels that the server allows: control and snapshots on one
	// channel, input on its own.
	cfg := ok
	cfg.ControlChannel, cfg.InputChannel, cfg.SnapshotChannel = 2, 5, 2
	assert.NoError(t, cfg.Validate())
	cfg = ok
	cfg.Addr, cfg.Dial = "", func(context.Context) (*netcode.Client, error) { return nil, errors.New("x") }
	assert.NoError(t, cfg.Validate(), "a Dial function instead of an address")
}
