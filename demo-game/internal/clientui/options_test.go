package clientui

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/netsim"
)

func TestParseOptions(t *testing.T) {
	def := Options{Addr: DefaultAddr, ProtocolID: DefaultProtocolID, FPS: 60, HUD: true, Bots: 2, Reconnect: true, Seed: game.DefaultConfig().Seed, NPCs: game.DefaultConfig().NPCs}
	with := func(f func(*Options)) Options { o := def; f(&o); return o }
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{"defaults", nil, def},
		{"offline", []string{"-offline", "-npcs", "3", "-seed", "9"}, with(func(o *Options) { o.Offline, o.NPCs, o.Seed = true, 3, 9 })},
		{"loopback", []string{"-loopback", "-loss", "0.1"}, with(func(o *Options) { o.Loopback, o.Link.Loss = true, 0.1 })},
		{"screenshot implies script and 120 frames", []string{"-offline", "-screenshot", "x.png"},
			with(func(o *Options) {
				o.Offline, o.Screenshot, o.Script, o.FixedStep, o.Frames = true, "x.png", true, true, 120
			})},
		{"screenshot with keyboard and real time", []string{"-loopback", "-screenshot", "x.png", "-script=false", "-fixedstep=false", "-frames", "5"},
			with(func(o *Options) { o.Loopback, o.Screenshot, o.Frames = true, "x.png", 5 })},
		{"online screenshot keeps real time", []string{"-screenshot", "x.png"},
			with(func(o *Options) { o.Screenshot, o.Script, o.Frames = "x.png", true, 120 })},
		{"fixed step offline", []string{"-offline", "-fixedstep"}, with(func(o *Options) { o.Offline, o.FixedStep = true, true })},
		{"link", []string{"-loss", "5%", "-latency", "50ms", "-jitter", "5ms", "-dup", "0.01"},
			with(func(o *Options) {
				o.Link = netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond, Jitter: 5 * time.Millisecond, Duplicate: 0.01}
			})},
		{"addr, hud off, timeout", []string{"-addr", "10.0.0.1:9", "-hud=false", "-timeout", "3s", "-fps", "0"},
			with(func(o *Options) { o.Addr, o.HUD, o.Timeout, o.FPS = "10.0.0.1:9", false, 3*time.Second, 0 })},
		{"no reconnect", []string{"-reconnect=false"}, with(func(o *Options) { o.Reconnect = false })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := ParseOptions(tt.args, &out)
			require.NoError(t, err, out.String())
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-fps", "-1"}, "clientui: -fps -1: must be 0 (uncapped) to 1000"},
		{[]string{"-frames", "-2"}, "clientui: -frames -2: must be 0 or positive"},
		{[]string{"-screenshot", "a.png", "-frames", "0"}, "clientui: -frames 0: must be at least 1 with -screenshot"},
		{[]string{"-timeout", "-1s"}, "clientui: -timeout -1s: must not be negative"},
		{[]string{"-offline", "-npcs", "1000"}, "clientui: -npcs 1000: must be 0..256"},
		{[]string{"-addr", ""}, `clientui: -addr "": give the server's host:port`},
		{[]string{"-addr", "nowhere"}, `clientui: -addr "nowhere": want host:port with a port from 1 to 65535`},
		{[]string{"-addr", "127.0.0.1:0"}, `clientui: -addr "127.0.0.1:0": want host:port`},
		{[]string{"-addr", ":7777"}, `clientui: -addr ":7777": want host:port`},
		{[]string{"-latency", "-5ms"}, `clientui: -latency "-5ms": must be between 0 and`},
		{[]string{"-jitter", "x"}, `clientui: -jitter "x": not a duration`},
		{[]string{"-bots", "3"}, "clientui: -bots 3: only with -loopback"},
		{[]string{"-offline", "-loopback"}, "clientui: -offline and -loopback: choose one"},
		{[]string{"-fixedstep"}, "clientui: -fixedstep needs -offline or -loopback"},
		{[]string{"-loopback", "-npcs", "-1"}, "clientui: -npcs -1: must be 0..256"},
		{[]string{"-loss", "1.5"}, `clientui: -loss "1.5": a fraction must be between 0 and 1`},
		{[]string{"-dup", "150%"}, `clientui: -dup "150%": must be between 0% and 100%`},
		{[]string{"stray"}, `clientui: unexpected argument "stray"`},
		{[]string{"-loopback", "-bots", "9"}, "clientui: -bots 9: must be 0..7"},
		{[]string{"-nope"}, "clientui: flag provided but not defined: -nope (see -h)"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		_, err := ParseOptions(tt.args, &out)
		require.Error(t, err, "%v", tt.args)
		assert.True(t, strings.HasPrefix(err.Error(), tt.want), "%v: %q", tt.args, err)
		assert.NotContains(t, err.Error(), "\n", "one line")
		assert.Empty(t, out.String(), "nothing printed but -h")
	}
	var help bytes.Buffer
	_, err := ParseOptions([]string{"-h"}, &help)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, help.String(), "Usage: client ")
	assert.Contains(t, help.String(), "-latency delay")
	o, err := ParseOptions([]string{"-version", "-fps", "-9"}, &help)
	require.NoError(t, err, "-version checks nothing else")
	assert.True(t, o.Version)
}

func TestScriptIsValidAndCoversEveryDirection(t *testing.T) {
	var buttons uint8
	for tick := range uint32(4 * scriptLeg) {
		in := Script(tick)
		b, err := in.MarshalBinary()
		require.NoError(t, err)
		require.NoError(t, new(game.Input).UnmarshalBinary(b), "tick %d", tick)
		assert.True(t, in.Has(game.ButtonFire), "tick %d fires", tick)
		buttons |= in.Buttons
	}
	assert.Equal(t, game.ButtonMask, buttons, "every button used")
	assert.Equal(t, Script(7), Script(7+4*scriptLeg*3), "the script repeats")
}

func TestScriptFromHeadsIntoTheArena(t *testing.T) {
	tests := []struct {
		name        string
		x, y        int32
		first, down uint8 // the first leg's and the third leg's direction
	}{
		{"top left", game.Fixed(80), game.Fixed(80), game.ButtonRight, game.ButtonDown},
		{"top right", game.Fixed(1200), game.Fixed(80), game.ButtonLeft, game.ButtonDown},
		{"bottom right", game.Fixed(1200), game.Fixed(640), game.ButtonLeft, game.ButtonUp},
		{"bottom left", game.Fixed(80), game.Fixed(640), game.ButtonRight, game.ButtonUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, ScriptFrom(1, tt.x, tt.y).Has(tt.first))
			assert.True(t, ScriptFrom(2*scriptLeg+1, tt.x, tt.y).Has(tt.down))
		})
	}
	assert.Equal(t, Script(5), ScriptFrom(5, game.Fixed(80), game.Fixed(80)))
}
