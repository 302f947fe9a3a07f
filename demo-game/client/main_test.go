package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/internal/clitest"
)

// These tests run without a display: this package does not link ebiten (its
// init would panic here before any test ran), TestNoEbiten checks it.

func TestNoEbiten(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok)
	for _, m := range bi.Deps {
		assert.NotContains(t, m.Path, "ebiten", "the launcher must run without a display")
	}
}

// noLaunch fails the test if the window would start.
func noLaunch(t *testing.T) launcher {
	return func(cmd []string, _ io.Writer) int {
		t.Errorf("the window started: %q", cmd)
		return 1
	}
}

// TestRunUsageErrors gives the command each bad command line from the issue
// and more: one line on stderr naming the flag, the value and what is
// allowed, the prefix once, exit status 2, and no window.
func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-latency", "-5ms"}, `client: -latency "-5ms": must be between 0 and 1h`},
		{[]string{"-loopback", "-offline"}, "client: -offline and -loopback: choose one"},
		{[]string{"-bots", "9", "-loopback"}, "client: -bots 9: must be 0..7"},
		{[]string{"-bots", "3"}, "client: -bots 3: only with -loopback"},
		{[]string{"-fps", "-1"}, "client: -fps -1: must be 0 (uncapped) to 1000"},
		{[]string{"-frames", "-5", "-offline"}, "client: -frames -5: must be 0 or positive"},
		{[]string{"-timeout", "-1s"}, "client: -timeout -1s: must not be negative"},
		{[]string{"-loss", "5"}, `client: -loss "5": a fraction must be between 0 and 1`},
		{[]string{"-loss", "150%"}, `client: -loss "150%": must be between 0% and 100%`},
		{[]string{"-offline", "-npcs", "999"}, "client: -npcs 999: must be 0..256"},
		{[]string{"-fps", "x"}, `client: invalid value "x" for flag -fps: parse error (see -h)`},
		{[]string{"-addr", "nowhere"}, `client: -addr "nowhere": want host:port with a port from 1 to 65535`},
		{[]string{"-nope"}, "client: flag provided but not defined: -nope (see -h)"},
		{[]string{"stray"}, `client: unexpected argument "stray"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, noLaunch(t))
			clitest.UsageError(t, "client:", tt.want, code, stdout.String(), stderr.String())
			assert.NotContains(t, stderr.String(), "clientui")
		})
	}
}

func TestRunHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-h"}, &stdout, &stderr, noLaunch(t)))
	help := stderr.String()
	assert.Contains(t, help, "Usage: client ")
	assert.NotContains(t, help, "Usage of")
	for _, line := range []string{"-addr address", "-fps rate", "-frames count", "-loss percentage", "-latency delay", "-bots count", "-version"} {
		assert.Contains(t, help, line)
	}
	assert.NotContains(t, help, " int\n")
	assert.NotContains(t, help, " string\n")

	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, run([]string{"-version"}, &stdout, &stderr, noLaunch(t)))
	assert.Regexp(t, `^client \S+ .*go1\.[\d.]+\n$`, stdout.String())
	assert.Empty(t, stderr.String())
}

func TestRunHandsTheArgumentsToTheWindow(t *testing.T) {
	t.Setenv("TICKWIRE_CLIENT_WINDOW", "/opt/w")
	var got []string
	launch := func(cmd []string, _ io.Writer) int { got = cmd; return 7 }
	args := []string{"-loopback", "-loss", "5%", "-screenshot", "x.png"}
	assert.Equal(t, 7, run(args, io.Discard, io.Discard, launch), "the window's exit status")
	assert.Equal(t, append([]string{"/opt/w"}, args...), got)
}

func TestWindowCommand(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "demo-client")
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	onPath := func(name string) (string, error) { return "/usr/local/bin/" + name, nil }

	assert.Equal(t, []string{"/x/w"}, windowCommand("/x/w", exe, onPath), "the override first")
	assert.Equal(t, []string{"/usr/local/bin/demo-client-window"}, windowCommand("", exe, onPath))
	assert.Equal(t, []string{"go", "run", windowPackage}, windowCommand("", exe, notFound), "go run ./demo-game/client")

	require.NoError(t, os.WriteFile(filepath.Join(dir, WindowName), []byte("#!/bin/sh\n"), 0o755))
	assert.Equal(t, []string{filepath.Join(dir, WindowName)}, windowCommand("", exe, onPath), "beside the launcher before $PATH")
}

func TestHasDisplay(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	assert.False(t, hasDisplay("linux", env(nil)))
	assert.True(t, hasDisplay("linux", env(map[string]string{"DISPLAY": ":99"})))
	assert.True(t, hasDisplay("freebsd", env(map[string]string{"WAYLAND_DISPLAY": "wayland-0"})))
	assert.True(t, hasDisplay("darwin", env(nil)))
}

func TestNoDisplayIsOneMessage(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	var stderr bytes.Buffer
	assert.Equal(t, 1, execWindow([]string{"/nonexistent/window"}, &stderr))
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), stderr.String())
	assert.Contains(t, stderr.String(), "client: no display")
}

func TestRunChildExitStatus(t *testing.T) {
	assert.Equal(t, 0, runChild([]string{"true"}, io.Discard))
	assert.Equal(t, 3, runChild([]string{"sh", "-c", "exit 3"}, io.Discard))
	var stderr bytes.Buffer
	assert.Equal(t, 1, runChild([]string{"/nonexistent/window"}, &stderr))
	assert.Contains(t, stderr.String(), "client: starting the window /nonexistent/window")
}
