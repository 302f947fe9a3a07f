package tokens_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server/tokens"
)

// A game's own web backend embeds the token handler next to its other
// routes: its login sets a session cookie, and its Authenticator turns the
// cookie into the player's id, so each player is rate limited on its own.
// The client posts the room it wants and gets a token for the server that
// hosts it.
func Example() {
	// The servers' shared key: crypto/rand in production (netcode.GenerateKey).
	rnd := rand.NewChaCha8([32]byte{42})
	key, _ := netcode.GenerateKey(rnd)
	picker, err := tokens.NewPicker([]netip.AddrPort{
		netip.MustParseAddrPort("203.0.113.7:7777"), netip.MustParseAddrPort("203.0.113.8:7777"),
	})
	if err != nil {
		panic(err)
	}
	sessions := map[string]string{"c0ffee": "player-17"} // the game's own login state
	h, err := tokens.New(tokens.Config{
		Key: key, ProtocolID: 0x7469636b, Picker: picker, Rand: rnd,
		Auth: tokens.AuthFunc(func(r *http.Request) (tokens.Caller, error) {
			c, err := r.Cookie("session")
			if err != nil || sessions[c.Value] == "" {
				return tokens.Caller{}, errors.New("log in first")
			}
			return tokens.Caller{ID: sessions[c.Value]}, nil
		}),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/play/token", h)
	// mux.HandleFunc("POST /api/login", …) and the rest of the backend.
	web := httptest.NewServer(mux)
	defer web.Close()

	ask := func(session string) {
		req, _ := http.NewRequest("POST", web.URL+"/api/play/token", strings.NewReader(`{"room":"arena-1"}`))
		req.AddCookie(&http.Cookie{Name: "session", Value: session})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			var e tokens.ErrorResponse
			_ = json.NewDecoder(resp.Body).Decode(&e)
			fmt.Println(resp.StatusCode, e.Error, e.Message)
			return
		}
		var ok tokens.Response
		_ = json.NewDecoder(resp.Body).Decode(&ok)
		tok, _ := base64.StdEncoding.DecodeString(ok.Token) // for netcode.ClientConfig.Token
		fmt.Println(resp.StatusCode, ok.Server, ok.Room, len(tok) == netcode.PublicTokenSize)
	}
	ask("c0ffee")
	ask("stolen")
	// Output:
	// 200 203.0.113.8:7777 arena-1 true
	// 401 unauthorized tokens: log in first
}
