// Package tokens is the token backend of a Tickwire game: an HTTP handler
// that a game's web backend embeds (or that the tokend command serves) to
// hand each player a netcode connect token naming the game server (and
// room) to join, in netcode.io's model.
//
// The handler authenticates nothing itself: an Authenticator the game
// supplies says who the caller is (SharedSecret and BearerTokens are two
// simple ones), a Picker chooses the server (NewPicker: the same room
// always on the same server, no room round-robin), each caller is rate
// limited by a token bucket keyed by its id (with a bound on how many
// callers are remembered), and the token is sealed with
// netcode.IssueConnectToken under the key the game servers share
// (netcode.ServerConfig.TokenKey).
//
// The protocol is one request:
//
//	POST /token  {"room": "arena-1"}     (the body may be empty: no room)
//	Authorization: Bearer …              (what the Authenticator checks)
//
//	200 {"token": "<base64>", "server": "203.0.113.7:7777", "room": "arena-1", "expires_at": "…"}
//	400 {"error": "bad_request", "message": "…"}       malformed body, bad room name
//	401 {"error": "unauthorized", "message": "…"}      the Authenticator refused
//	404 {"error": "unknown_room", "message": "…"}      Config.Rooms refused the room
//	405 {"error": "method_not_allowed", "message": "…"}
//	429 {"error": "rate_limited", "message": "…"}      with Retry-After (seconds)
//	503 {"error": "no_server", "message": "…"}         the Picker has no server
//
// The token's user data is the room name (its bytes, at most MaxRoomName),
// which a server reads as server.PlayerInfo.UserData; Config.UserData
// replaces that with the game's own encoding. The token base64 is the
// standard encoding with padding; the client decodes it and passes the
// bytes as netcode.ClientConfig.Token.
//
// Concurrency: a Handler is safe for concurrent use, as any http.Handler.
// Config's zero value is not usable (Key, ProtocolID and servers are
// required); New checks it.
package tokens
