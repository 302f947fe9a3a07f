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
// browser, over the route the page sets in globalThis.tickwire:
// {webtransport: "https://…" URL, certHash: "64 hex digits" or "" for a
// trusted certificate, webrtc: the URL that answers WebRTC offers}.
// WebTransport is tried first, WebRTC is the fallback; the route taken is
// written back as tickwire.route ("webtransport" or "webrtc"). There is no
// link conditioner in the browser (the network panel says so).
func dial(opts clientui.Options, log *slog.Logger) (clientui.Source, error) {
	page := js.Global().Get("tickwire")
	if page.Type() != js.TypeObject {
		return nil, errors.New("client: the page sets no globalThis.tickwire (the server's URLs)")
	}
	str := func(name string) string {
		if v := page.Get(name); v.Type() == js.TypeString {
			return v.String()
		}
		return ""
	}
	bcfg := browserconn.Config{WebTransportURL: str("webtransport"), WebRTCURL: str("webrtc")}
	if bcfg.WebTransportURL == "" && bcfg.WebRTCURL == "" {
		return nil, errors.New("client: globalThis.tickwire has neither a webtransport nor a webrtc URL")
	}
	if h := str("certHash"); h != "" {
		hash, err := browserconn.ParseCertHash(h)
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
		pc, route, err := browserconn.Dial(ctx, bcfg)
		if err != nil {
			return nil, err
		}
		page.Set("route", string(route))
		return netcode.DialConn(ctx, pc, browserconn.ServerAddr, ncfg)
	}
	cfg.Reconnect = client.ReconnectPolicy{Enabled: opts.Reconnect, Seed: opts.Seed}
	cfg.Logger = log
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	label := bcfg.WebTransportURL
	if label == "" {
		label = bcfg.WebRTCURL
	}
	return clientui.NewOnline(c, static, nil, label), nil
}
