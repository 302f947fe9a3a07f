package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/internal/clitest"
)

func TestParseFlagsDefaults(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7777", o.swarm.Addr)
	assert.Equal(t, 4, o.swarm.Bots)
	assert.Equal(t, 30*time.Second, o.duration)
	assert.Equal(t, uint64(1), o.swarm.Seed)
	assert.False(t, o.soak)
	assert.False(t, o.linkSet())
	assert.True(t, o.swarm.Reconnect.Enabled, "bots reconnect by default")
	o, err = parseFlags([]string{"-reconnect=false"}, io.Discard)
	require.NoError(t, err)
	assert.False(t, o.swarm.Reconnect.Enabled)
}

func TestParseFlagsSoak(t *testing.T) {
	o, err := parseFlags([]string{"-soak", "-admin", "127.0.0.1:9100", "-n", "200", "-duration", "10m", "-seed", "7", "-latency", "20ms"}, io.Discard)
	require.NoError(t, err)
	assert.True(t, o.soak)
	assert.True(t, o.limits.RequireSamples)
	assert.Equal(t, 200, o.swarm.Bots)
	assert.Equal(t, 10*time.Minute, o.duration)
	assert.Equal(t, 20*time.Millisecond, o.swarm.Link.Latency)
	assert.True(t, o.linkSet())
}

func TestParseFlagsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-n", "0"}, "bots: -n 0: want 1..1000 bots"},
		{[]string{"-n", "5000"}, "bots: -n 5000"},
		{[]string{"-duration", "100ms"}, "bots: -duration 100ms: want 1s..2h0m0s"},
		{[]string{"-duration", "3h"}, "bots: -duration 3h0m0s"},
		{[]string{"-interval", "1ms"}, "bots: -interval 1ms: want at least 100ms"},
		{[]string{"-fps", "0"}, "bots: -fps 0: want 1..240"},
		{[]string{"-soak"}, `bots: -admin "": -soak needs the server's admin address`},
		{[]string{"-addr", "nowhere"}, `bots: -addr "nowhere": want host:port`},
		{[]string{"-addr", "10.1.2.3:7777"}, `bots: -addr "10.1.2.3:7777": not a loopback address`},
		{[]string{"-admin", "10.1.2.3:9100"}, `bots: -admin "10.1.2.3:9100": want a loopback host:port`},
		{[]string{"-loss", "1.5"}, `bots: -loss "1.5": `},
		{[]string{"-loss", "150%"}, `bots: -loss "150%": `},
		{[]string{"-latency", "-1s"}, `bots: -latency "-1s": `},
		{[]string{"-jitter", "soon"}, `bots: -jitter "soon": `},
		{[]string{"-max-stalls", "2"}, "bots: -max-stalls 2: want a fraction 0..1"},
		{[]string{"extra"}, `bots: unexpected argument "extra"`},
		{[]string{"-nope"}, "bots: flag provided but not defined: -nope (see -h)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			require.Error(t, err)
			assert.IsType(t, &flagError{}, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := parseFlags([]string{"-addr", "10.1.2.3:7777", "-allow-remote"}, io.Discard)
	assert.NoError(t, err, "-allow-remote lifts the loopback rule")
}

func TestParseFlagsLossForms(t *testing.T) {
	for _, v := range []string{"5%", "0.05"} {
		o, err := parseFlags([]string{"-loss", v, "-dup", v}, io.Discard)
		require.NoError(t, err, v)
		assert.InDelta(t, 0.05, o.swarm.Link.Loss, 1e-12, v)
		assert.InDelta(t, 0.05, o.swarm.Link.Duplicate, 1e-12, v)
	}
}

// TestRunUsageErrors runs the command on each bad command line: one line on
// stderr naming the flag, the value and what is allowed, the prefix once,
// exit status 2, nothing on stdout.
func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-n", "0"}, "bots: -n 0: want 1..1000 bots"},
		{[]string{"-loss", "5"}, `bots: -loss "5": `},
		{[]string{"-latency", "-5ms"}, `bots: -latency "-5ms": `},
		{[]string{"-fps", "-1"}, "bots: -fps -1: want 1..240"},
		{[]string{"-duration", "-1s"}, "bots: -duration -1s: want 1s..2h0m0s"},
		{[]string{"-fps", "many"}, `bots: invalid value "many" for flag -fps: parse error (see -h)`},
		{[]string{"-nope"}, "bots: flag provided but not defined: -nope (see -h)"},
		{[]string{"stray"}, `bots: unexpected argument "stray"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			clitest.UsageError(t, "bots:", tt.want, code, stdout.String(), stderr.String())
		})
	}
}

func TestRunHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-h"}, &stdout, &stderr))
	help := stderr.String()
	assert.Contains(t, help, "Usage: bots")
	for _, line := range []string{"-n count", "-fps rate", "-loss percentage", "-latency delay", "-max-stalls fraction", "-version"} {
		assert.Contains(t, help, line)
	}
	assert.NotContains(t, help, " float\n")
	assert.NotContains(t, help, " int\n")

	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, run([]string{"-version"}, &stdout, &stderr))
	assert.Regexp(t, `^bots \S+ .*go1\.\d+`, stdout.String())
	assert.Empty(t, stderr.String())
}
