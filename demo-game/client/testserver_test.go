package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode"
)

// runServerEnv makes TestMain run a demo server (a clientui.MiniServer per
// connected client behind a real netcode connection Server on a loopback
// UDP port) instead of the tests: the client tests connect to it as to a
// separate server process. It prints "addr HOST:PORT" and serves until its
// stdin closes or the value of the variable (a duration) passes.
const runServerEnv = "TICKWIRE_TEST_SERVER"

// clientLink is one client of a netcode Server, as a clientui.ServerLink.
type clientLink struct {
	s  *netcode.Server
	id netcode.ClientID
}

func (l clientLink) Send(ch int, msg []byte) (netcode.MessageID, error) {
	return l.s.Send(l.id, ch, msg)
}
func (l clientLink) ReadMessage(ch int) ([]byte, bool) { return l.s.ReadMessage(l.id, ch) }

func runTestServer(limit time.Duration) error {
	mini := map[netcode.ClientID]*clientui.MiniServer{}
	s, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{
		ProtocolID: clientui.DefaultProtocolID,
		Endpoint:   endpointConfig(),
		OnMessageAcked: func(c netcode.ClientID, ch int, id netcode.MessageID) {
			if m, ok := mini[c]; ok {
				m.Acked(ch, id)
			}
		},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("addr %s\n", s.Addr())
	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }()
	deadline := time.After(limit)

	started := map[netcode.ClientID]time.Time{}
	tick := time.NewTicker(time.Second / game.TickRate / 2)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-deadline:
			return fmt.Errorf("test server: stopped after %v", limit)
		case <-tick.C:
		}
		now := time.Now()
		s.Update(now)
		for {
			ev, ok := s.PollEvent()
			if !ok {
				break
			}
			switch ev.Kind {
			case netcode.EventConnect:
				m, err := clientui.NewMiniServer(clientLink{s, ev.Client}, clientui.LoopbackConfig{Seed: 1, NPCs: 6, Bots: 2})
				if err != nil {
					return err
				}
				mini[ev.Client], started[ev.Client] = m, now
			case netcode.EventDisconnect:
				delete(mini, ev.Client)
			}
		}
		for id, m := range mini {
			m.ReadInputs()
			due := uint32(now.Sub(started[id]) * game.TickRate / time.Second)
			for m.Ticks() < due {
				if err := m.Tick(); err != nil {
					return err
				}
			}
		}
		s.Flush(now)
	}
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
