package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tickwire/tickwire/internal/clitest"
)

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-dir", dir, "extra"}, `web: unexpected argument "extra"`},
		{[]string{"-dir", dir, "-nope"}, `web: flag provided but not defined: -nope`},
		{[]string{"-dir", "/nonexistent/web"}, `web: -dir "/nonexistent/web" is not a directory: build the client first (make web)`},
		{[]string{"-dir", dir, "-cert", "c.pem"}, `web: -cert and -key go together`},
		{[]string{"-dir", dir, "-http", "8080"}, `web: -http "8080": want host:port`},
		{[]string{"-dir", dir, "-webrtc", "127.0.0.1:99999"}, `web: -webrtc "127.0.0.1:99999": want host:port`},
		{[]string{"-dir", dir, "-host", ""}, `web: -host is empty`},
		{[]string{"-dir", dir, "-max-players", "0"}, `web: -max-players 0: want at least 1`},
		{[]string{"-dir", dir, "-loss", "120%"}, `web: -loss "120%": want a percentage from 0% to 100%`},
		{[]string{"-dir", dir, "-latency", "soon"}, `web: invalid value "soon" for flag -latency`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[2:], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr, nil)
			clitest.UsageError(t, "web:", tt.want, code, stdout.String(), stderr.String())
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &stdout, &stderr, nil))
	assert.Contains(t, stderr.String()+stdout.String(), "-webtransport")
	stdout.Reset()
	assert.Equal(t, 0, run(context.Background(), []string{"-version"}, &stdout, &stderr, nil))
	assert.Contains(t, stdout.String(), "web")
}
