//go:build display

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/internal/botswarm"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
)

// runServerEnv makes TestMain run the demo server (demoserver.Listen: the
// server package running the demo's arena over the netcode connection
// layer, as the demo-game/server command does) on a loopback UDP port
// instead of the tests, so the client tests connect to a separate server
// process. It prints "addr HOST:PORT" and serves until its stdin closes or
// the value of the variable (a duration) passes.
const runServerEnv = "TICKWIRE_TEST_SERVER"

func runTestServer(limit time.Duration) error {
	srv, err := demoserver.Listen(demoserver.ServerConfig{Addr: "127.0.0.1:0", MaxPlayers: 8})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("addr %s\n", srv.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx) }()
	// Two scripted bots (the demo's bot swarm) so the client has remote
	// players to interpolate.
	bots, err := botswarm.Dial(ctx, botswarm.Config{Addr: srv.Addr().String(), Bots: 2, Seed: 7})
	if err != nil {
		return err
	}
	defer bots.Close()
	go func() { _ = bots.Run(ctx) }()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// startServer starts the test server process and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), runServerEnv+"=120s")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "addr ")
	require.True(t, ok, "server said %q", line)
	return addr
}
