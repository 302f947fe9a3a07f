package main

// Secure mode, the second half of the guide: on the internet a game server
// accepts only players its backend vouched for. The backend (your web
// service, after the player logged in) issues a connect token for one
// player and one or more servers, sealed with a key it shares with the
// servers; the client connects with it; the server learns who the player is
// from the token's user data; and every packet is then encrypted with keys
// from the token.

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// issueToken is the backend's part: a token for one player to join the
// server at addr within the next minute.
func issueToken(key [netcode.KeySize]byte, addr netip.AddrPort, account uint64, name string) ([]byte, error) {
	return netcode.IssueConnectToken(key, netcode.ConnectToken{
		ProtocolID:  protocolID,
		ClientID:    netcode.ClientID(account), // one connection per account at a time
		Expires:     time.Now().Add(time.Minute),
		ServerAddrs: []netip.AddrPort{addr},
		UserData:    []byte(name), // the server reads it back: Server.Player(id).UserData
	}, rand.Reader)
}

// playerName is who a player is: the name in its token in secure mode, or
// "player N" in plain mode.
func (g *game) playerName(id server.PlayerID) string {
	if p, ok := g.srv.Player(id); ok && len(p.UserData) > 0 {
		return string(p.UserData)
	}
	return fmt.Sprintf("player %d", id)
}

// badToken is a token sealed with a key the servers do not have.
func badToken(addr netip.AddrPort) ([]byte, error) {
	var wrongKey [netcode.KeySize]byte
	return issueToken(wrongKey, addr, 999, "mallory")
}

// refused shows what a player without a valid token gets: it runs a client
// (cfg, with a bad token) until it gives up, and returns its status's
// error, which says why (errors.Is(err, netcode.ErrTokenDenied)). The client
// does not retry: no retry can fix a bad token. A server cannot seal a
// denial for a token it cannot open, so an attacker could forge that one:
// the client keeps trying until its ConnectTimeout (here 2 s) before it
// believes it.
func refused(ctx context.Context, cfg client.Config[Dot, Move]) (error, error) {
	cfg.Netcode.ConnectTimeout = 2 * time.Second
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("a client with a bad token was not refused: %v", c.Status())
		case now := <-frame.C:
			c.Update(now, Move{})
			if st := c.Status(); st.State == client.Disconnected {
				return st.Err, nil
			}
		}
	}
}
