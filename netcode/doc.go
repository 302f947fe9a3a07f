// Package netcode connects game clients to a game server over UDP: the
// handshake, connect tokens and packet encryption, keepalives and timeouts,
// and the sockets. It is the package a game imports: a [Server] serves
// every client from one socket, a [Client] is one connection to it.
//
// # Layers
//
// Each connection carries one reliability endpoint of package
// netcode/endpoint, which numbers and acknowledges packets, resends reliable
// messages, fragments large ones and measures RTT and loss, from bytes in,
// bytes out and an explicit time, without a socket. This package wraps
// every endpoint packet in a connection packet (type, connection id,
// sequence; sealed in secure mode), moves it through the socket, and drives
// the endpoint's Receive, Flush and Ping itself. Client and Server forward
// Send, ReadMessage, SendValue, ReadValue and Stats to it; [MessageID],
// [Stats] and the errors of Send ([ErrSendQueueFull], [ErrMessageTooLarge],
// [ErrUnknownChannel]) are re-exported here.
//
// A game imports package endpoint for one thing: the channel layout and
// limits, endpoint.Config (with endpoint.ChannelConfig, endpoint.ChannelKind
// and endpoint.DefaultConfig), which it puts in ServerConfig.Endpoint and
// ClientConfig.Endpoint, the same on both sides. It drives an
// endpoint.Endpoint itself only over a transport of its own (a WebTransport
// session, a WebRTC data channel), where this package's handshake and
// sockets do not apply.
//
// # Connecting
//
// [Listen] (or [NewServer] over any net.PacketConn) starts a server; [Dial]
// (or [DialConn]) connects a client and returns once the handshake is over.
// The handshake cannot be used as an amplifier: the client's request is
// padded to 512 bytes, the server answers it with a challenge of 33 bytes
// (49 in secure mode) carrying a stateless cookie (an HMAC of the client's
// address, the time and the request), and only a response that echoes a
// valid cookie, which proves the client receives at its address, creates a
// connection. Until then the server keeps nothing about the sender and
// sends it at most one datagram, smaller than the one it received, per
// handshake packet. A request with another ProtocolID or Version, or one
// that finds the server full, is refused: Dial returns a [*DeniedError]
// matching [ErrProtocolMismatch], [ErrVersionMismatch] or [ErrServerFull].
//
// A handshake never takes over an established connection (the netcode.io
// standard's rule): one from the address of a connection with another
// client nonce, or in secure mode one carrying the client id of a client
// connected from another address, is ignored without an answer and
// counted (ServerStats.Refused, by [RefuseReason]: RefuseAddrInUse,
// RefuseClientIDInUse, RefuseTokenInUse). A client that lost its address (a
// NAT rebinding gave it a new port, or it restarted) connects again once
// its old connection has timed out on the server (Timeout): until then its
// handshakes are ignored; its Dial keeps retrying for ConnectTimeout. Every
// refusal is logged at info level, at most ten lines in a burst and then
// one a second (with the count left out), and counted by reason.
//
// # Plain and secure mode: the threat model
//
// Without ServerConfig.TokenKey the server runs in plain mode: anyone who
// knows the ProtocolID and Version may connect, the server numbers clients
// 1, 2, 3..., and packets travel in the clear. Each connected packet must
// carry its connection's random 32-bit id and come from its address, and a
// replay window drops copies. An attacker who never saw a packet of a
// connection would have to guess that id for a spoofed address: it cannot
// inject into the connection or end it. One who saw a packet of it can
// inject packets, but garbage moves nothing: a connection's replay window,
// timeout and acks change only once a packet has been fully decoded. Nor can
// it end the connection without seeing the other direction's current
// traffic: a disconnect counts only if it echoes the newest connection
// sequence its sender received from the other side (each side counts from
// a random start), one of the other side's last 1024, or before any the
// handshake's client nonce, and its own sequence is within the receive
// window; others are dropped (DropsUnproven). One who sees the traffic both
// ways (on the same network path) can read it, inject packets, end
// connections, and spoil handshakes with forged denials and challenges.
// Plain mode is for LANs, tests and trusted networks: use secure mode on
// the internet.
//
// With ServerConfig.TokenKey the server runs in secure mode, which keeps
// the netcode.io standard's guarantees against an attacker who sees and
// forges traffic but does not hold a token. A backend that shares the key
// authenticates the player, issues a connect token with
// [IssueConnectToken] (client id, expiry, the servers that accept it, two
// packet keys, and up to [MaxTokenUserData] bytes of user data that the
// server shows in [ClientInfo].UserData) and hands the token to the client
// over a secure channel (HTTPS), for ClientConfig.Token. The request
// carries only the token's sealed part, never its keys. The server refuses
// a token that is missing, tampered with, sealed under another key,
// expired, or issued for other servers: Dial returns a [*DeniedError]
// matching [ErrTokenDenied], whose Reason says which.
//
// In secure mode the handshake is authenticated under keys derived from
// the token's: the server's challenge and denials carry a MAC the client
// checks (a forged one is dropped and counted, ClientConnStats.DropsAuth),
// and the client's response replaces the cookie's MAC with a proof that it
// holds the token's keys and saw the challenge. Someone who recorded a
// player's request and replays it from another address gets nothing while
// the player is connected (RefuseTokenInUse), and can never complete a
// handshake with it (RefuseKeyProof), so a seen request cannot take a
// player's client id, and a token stays bound to the address of its
// connection for as long as that connection lives; afterwards only the
// token's holder can use it again, from any address. A denial the server
// cannot seal, because the token did not open (invalid or no token, or a
// server in plain mode), could be anyone's: the client keeps trying and
// Dial returns it, marked unauthenticated, only when ConnectTimeout passes
// without an accept. Every connected packet is sealed with
// ChaCha20-Poly1305 under the token's keys, its header authenticated with
// it and its nonce made of the connection id and sequence; tampered and
// replayed packets are dropped and counted (ServerStats.DropsAuth,
// DropsReplayed).
//
// # Floods
//
// The reader goroutine sorts datagrams by source before they cost the
// game loop anything. Datagrams from addresses of established connections
// go to the receive queue. From any other address only a handshake packet
// (512 bytes, request or response) is queued, within a per-address rate
// (ServerConfig.HandshakeRate, golang.org/x/time/rate) and in a bounded
// queue of its own (ServerConfig.UnverifiedQueue), which also bounds the
// handshakes one Update handles; everything else is dropped and counted
// at once (DropsMalformed, DropsUnknownAddr, DropsRateLimited,
// DropsHandshakeQueueFull). When the receive queue is full, a datagram of
// an established connection takes the place of a queued handshake: no
// connection loses a datagram to queue space while a handshake is queued.
// ServerStats.Drops and Refusals enumerate every counter, zeros included,
// for exporting as metrics.
//
// # Keepalive, timeouts and disconnects
//
// A connection that sent nothing for KeepaliveInterval (100 ms) sends a
// keepalive, which also keeps RTT measured; one that received nothing for
// Timeout (5 s) ends. The server then reports an [Event] of kind
// EventDisconnect with ReasonTimeout; the client's Update returns a
// [*DisconnectError] matching [ErrTimeout]. Close and Server.Disconnect send
// DisconnectPackets copies of a disconnect packet, so that the peer learns
// at once (ErrDisconnected) even over a lossy link.
//
// # Sockets and threading
//
// One UDP socket serves all of a server's clients. Any net.PacketConn whose
// addresses are *net.UDPAddr works, such as a netsim.Pipe or a
// netsim-wrapped socket in tests; a *net.UDPConn is read and written in
// batches (recvmmsg and sendmmsg on Linux). Datagrams are at most the
// endpoint's MaxPacketSize plus [ConnOverhead] bytes; the default keeps them
// within 1200.
//
// A Client runs one goroutine, a Server two: a reader that queues received
// datagrams in a bounded queue (what does not fit is dropped and counted),
// and, on the server, a writer that hands datagrams to the kernel so that
// the game loop does not wait for it (ServerConfig.SendInline turns it off).
// All protocol work happens on the game's goroutine, in Update(now) or in
// its two halves Receive(now) and Flush(now), once per tick; see the
// threading model of [Server] and [Client]. Neither is safe for concurrent
// use, except the methods documented as such (Addr, LocalAddr, RemoteAddr,
// Wake). The time passed to Update must come from the clock in the config's
// Clock field (time.Now by default), which also stamps received datagrams.
//
// # Zero values, errors and allocation
//
// The zero [ServerConfig] and [ClientConfig] are valid: plain mode with the
// defaults noted on each field. The zero Client and Server are not usable:
// create them with the functions above. Errors of this package start with
// "netcode: "; those of the endpoint that Send, SendValue and ReadValue pass
// on start with "endpoint: ". The outcomes a game acts on are sentinels
// (ErrTimeout, ErrTokenDenied, ErrSendQueueFull...) or wrap them, so test
// them with errors.Is; [*DeniedError] and [*DisconnectError] carry the
// reason. Once connected, receiving, reading, sending and flushing small
// messages allocate nothing per packet, in plain and secure mode.
package netcode
