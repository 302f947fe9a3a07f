package clientui

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

func TestResolveServer(t *testing.T) {
	ap, err := ResolveServer("127.0.0.1:7777")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7777", ap.String())
	ap, err = ResolveServer("[::ffff:127.0.0.1]:9")
	require.NoError(t, err)
	assert.True(t, ap.Addr().Is4(), "an IPv4-mapped address is unmapped")
	for addr, want := range map[string]string{
		"":               "server address is empty: want host:port",
		"nowhere":        `server address "nowhere"`,
		"127.0.0.1:0":    "want an IP address (or host name) and a non-zero port",
		"127.0.0.1:port": `server address "127.0.0.1:port"`,
	} {
		_, err := ResolveServer(addr)
		assert.ErrorContains(t, err, want, addr)
	}
}

func TestNewUDPDialerRejectsBadConfig(t *testing.T) {
	_, err := NewUDPDialer(DialerConfig{Addr: "127.0.0.1:0"})
	assert.ErrorContains(t, err, "non-zero port")
	_, err = NewUDPDialer(DialerConfig{Addr: "127.0.0.1:7777", Link: netsim.Config{Loss: 2}})
	assert.ErrorIs(t, err, netsim.ErrInvalidConfig)
	assert.ErrorContains(t, err, "clientui: DialerConfig.Link: ")
	d, err := NewUDPDialer(DialerConfig{Addr: "127.0.0.1:7777"})
	require.NoError(t, err)
	assert.NoError(t, d.SetConfig(netsim.Config{Latency: time.Millisecond}), "before any socket: for the next ones")
	assert.ErrorIs(t, d.SetConfig(netsim.Config{Jitter: -time.Second}), netsim.ErrInvalidConfig)
}

// TestUDPDialerOpensASocketPerAttempt connects twice to a real netcode
// server on loopback: each attempt has a socket of its own (a reconnect
// does not reuse the dead connection's), and the live conditioner follows
// the network panel.
func TestUDPDialerOpensASocketPerAttempt(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{ProtocolID: protocol.ProtocolID, Endpoint: NetcodeConfig().Endpoint})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				srv.Update(time.Now())
			}
		}
	}()
	defer func() {
		cancel()
		<-pumped
		require.NoError(t, srv.Close())
	}()

	d, err := NewUDPDialer(DialerConfig{Addr: srv.Addr().String(), Live: true, Seed: 3})
	require.NoError(t, err)
	assert.Equal(t, srv.Addr().String(), d.Server().String())
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	a, err := d.Dial(dctx)
	require.NoError(t, err)
	require.NoError(t, d.SetConfig(netsim.Config{Latency: 5 * time.Millisecond}), "the live socket's conditions change")
	b, err := d.Dial(dctx)
	require.NoError(t, err)
	assert.NotEqual(t, a.LocalAddr().String(), b.LocalAddr().String(), "a new socket per attempt")
	assert.NotEqual(t, a.ID(), b.ID())
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
}
