package main

import (
	"bytes"
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/internal/buildinfo"
	"github.com/tickwire/tickwire/internal/clitest"
)

func TestParseFlagsDefaults(t *testing.T) {
	o, err := parseFlags([]string{"-server-cpus", "none", "-client-cpus", "none"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "driver", o.role)
	assert.Equal(t, []int{100, 500, 1000, 2000}, o.counts)
	assert.Equal(t, 10*time.Second, o.duration)
	assert.Equal(t, 60, o.tick)
	assert.Equal(t, 30, o.snap)
	assert.Nil(t, o.serverCPUs)
	assert.Zero(t, o.coalesce, "netcode's default: read at every arrival")
	assert.False(t, o.recvInline)

	o, err = parseFlags([]string{"-role", "clients", "-duration", "7m", "-addr", "127.0.0.1:4000", "-client-cpus", "none", "-server-cpus", "none"}, io.Discard)
	require.NoError(t, err, "the driver gives its client process warm-up + duration + 1m")
	assert.Equal(t, 7*time.Minute, o.duration)
}

// TestRunUsageErrors runs the command on each bad command line: one line on
// stderr naming the flag, the value and what is allowed, the prefix once,
// exit status 2.
func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-duration", "0s"}, "loadtest: -duration 0s: want 1s..5m"},
		{[]string{"-duration", "6m"}, "loadtest: -duration 6m0s: want 1s..5m"},
		{[]string{"-role", "boss"}, `loadtest: -role "boss": want driver, clients or server`},
		{[]string{"-clients", "10,x"}, `loadtest: -clients "10,x": want a comma-separated list of counts in 1..10000`},
		{[]string{"-clients", "0"}, `loadtest: -clients "0"`},
		{[]string{"-n", "0"}, "loadtest: -n 0: want 1..10000 clients"},
		{[]string{"-tick", "0"}, "loadtest: -tick 0: want 1..1000 Hz"},
		{[]string{"-snap", "90"}, "loadtest: -snap 90: want 1..60 Hz (at most -tick)"},
		{[]string{"-workers", "0"}, "loadtest: -workers 0: want 1..256"},
		{[]string{"-props", "-1"}, "loadtest: -props -1: want 0..64"},
		{[]string{"-input-every", "0"}, "loadtest: -input-every 0: want 1..60 frames"},
		{[]string{"-client-nice", "40"}, "loadtest: -client-nice 40: want 0..19"},
		{[]string{"-warmup", "-1s"}, "loadtest: -warmup -1s: want 0..1m"},
		{[]string{"-ack-delay", "0s"}, "loadtest: -ack-delay 0s: want 1ns..1s"},
		{[]string{"-receive-coalesce", "11ms"}, "loadtest: -receive-coalesce 11ms: want 0..10ms"},
		{[]string{"-addr", "10.0.0.1:7000"}, `loadtest: -addr "10.0.0.1:7000": want a loopback host:port`},
		{[]string{"-server-cpus", "99999"}, "loadtest: -server-cpus "},
		{[]string{"-tick", "fast"}, `loadtest: invalid value "fast" for flag -tick: parse error (see -h)`},
		{[]string{"-nope"}, "loadtest: flag provided but not defined: -nope (see -h)"},
		{[]string{"stray"}, `loadtest: unexpected argument "stray"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			clitest.UsageError(t, "loadtest:", tt.want, code, stdout.String(), stderr.String())
		})
	}
}

func TestRunHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-h"}, &stdout, &stderr))
	help := stderr.String()
	assert.True(t, strings.HasPrefix(help, "loadtest: how many clients"), help)
	assert.Contains(t, help, "Usage: loadtest ")
	assert.NotContains(t, help, "Usage of")
	for _, line := range []string{"-clients counts", "-tick rate", "-n count", "-server-cpus CPUs", "-version"} {
		assert.Contains(t, help, line)
	}

	stdout.Reset()
	require.Equal(t, 0, run([]string{"-version"}, &stdout, &stderr))
	assert.Regexp(t, `^loadtest \S+ .*go1\.[\d.]+\n$`, stdout.String())
	assert.Equal(t, "loadtest v0.4.0 rev 0123456789ab 2026-12-01T04:00:00Z go1.26.0", buildinfo.Format("loadtest", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-01T04:00:00Z"}}}))
}
