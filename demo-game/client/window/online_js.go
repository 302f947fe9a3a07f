//go:build js

package main

import (
	"context"
	"errors"
	"log/slog"
	"syscall/js"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/browser/browserconn"
	"github.com/tickwire/tickwire/server/client"
)

// dial returns the Online source of a client of the demo server in the
// browser: over a WebTransport session to the URL and certificate hash the
// page sets in globalThis.tickwire ({webtransport: "https://…",
// certHash: "64 hex digits" or "" for a trusted certificate}). There is
// no link conditioner in the browser (the network panel says so).
func dial(opts clientui.Options, log *slog.Logger) (clientui.Source, error) {
	page := js.Global().Get("tickwire")
	if page.Type() != js.TypeObject || page.Get("webtransport").Type() != js.TypeString {
		return nil, errors.New("client: the page sets no globalThis.tickwire.webtransport URL")
	}
	bcfg := browserconn.Config{URL: page.Get("webtransport").String()}
	if h := page.Get("certHash"); h.Type() == js.TypeString && h.String() != "" {
		hash, err := browserconn.ParseCertHash(h.String())
		if err != nil {
			return nil, err
		}
		bcfg.CertHash = hash
	}
	ncfg := clientui.NetcodeConfig()
	ncfg.ProtocolID = opts.ProtocolID
	static := game.NewStatic()
	cfg := clientui.ClientConfig(static)
	cfg.Netcode = ncfg
	cfg.Dial = func(ctx context.Context) (*netcode.Client, error) {
		pc, err := browserconn.Dial(ctx, bcfg)
		if err != nil {
			return nil, err
		}
		return netcode.DialConn(ctx, pc, browserconn.ServerAddr, ncfg)
	}
	cfg.Reconnect = client.ReconnectPolicy{Enabled: opts.Reconnect, Seed: opts.Seed}
	cfg.Logger = log
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	return clientui.NewOnline(c, static, nil, bcfg.URL), nil
}
