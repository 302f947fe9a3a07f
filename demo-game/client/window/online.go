//go:build !js

package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/server/client"
)

// dial returns the Online source of a client of the demo server at
// opts.Addr. The client runtime connects at its first update (the window
// opens at once and shows "connecting"), from a UDP socket wrapped in a
// netsim conditioner: both directions get opts.Link, and the network panel
// changes them live, also across reconnects. With opts.Reconnect it
// reconnects after losing the server, and the status line counts down to
// the next attempt.
func dial(opts clientui.Options, log *slog.Logger) (clientui.Source, error) {
	ncfg := clientui.NetcodeConfig()
	ncfg.ProtocolID = opts.ProtocolID
	d, err := clientui.NewUDPDialer(clientui.DialerConfig{
		Addr: opts.Addr, Link: opts.Link, Seed: opts.Seed, Live: true, Netcode: ncfg,
	})
	if err != nil {
		return nil, fmt.Errorf("client: -addr %q: %s", opts.Addr, strings.TrimPrefix(err.Error(), "clientui: "))
	}
	static := game.NewStatic()
	cfg := clientui.ClientConfig(static)
	cfg.Netcode = ncfg
	cfg.Dial = d.Dial
	cfg.Reconnect = client.ReconnectPolicy{Enabled: opts.Reconnect, Seed: opts.Seed}
	cfg.Logger = log
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	return clientui.NewOnline(c, static, d, opts.Addr), nil
}
