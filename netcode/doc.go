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
// padded to 512 bytes, the server answers it with a 33-byte challenge
// carrying a stateless cookie (an HMAC of the client's address, the time and
// the request), and only a response that echoes a valid cookie, which proves
// the client receives at its address, creates a connection. Until then the
// server keeps nothing about the sender. A request with another ProtocolID
// or Version, or one that finds the server full, is refused: Dial returns a
// [*DeniedError] matching [ErrProtocolMismatch], [ErrVersionMismatch] or
// [ErrServerFull].
//
// # Plain and secure mode
//
// Without ServerConfig.TokenKey the server runs in plain mode: anyone who
// knows the ProtocolID and Version may connect, the server numbers clients
// 1, 2, 3..., and packets travel in the clear. Each connected packet must
// carry its connection's random 32-bit id and come from its address, and a
// replay window drops copies, so an attacker who cannot see the traffic
// cannot inject into a connection; one who can see it (on the same network
// path) can read it, inject packets and end connections. Plain mode is for
// LANs, tests and trusted networks.
//
// With ServerConfig.TokenKey the server runs in secure mode. A backend that
// shares the key authenticates the player, issues a connect token with
// [IssueConnectToken] (client id, expiry, the servers that accept it, two
// packet keys, and up to [MaxTokenUserData] bytes of user data that the
// server shows in [ClientInfo].UserData) and hands the token to the client
// over a secure channel (HTTPS), for ClientConfig.Token. The server refuses
// a token that is missing, tampered with, sealed under another key, expired,
// or issued for other servers: Dial returns a [*DeniedError] matching
// [ErrTokenDenied], whose Reason says which. Every connected packet is sealed
// with ChaCha20-Poly1305 under the token's keys, its header authenticated
// with it; tampered and replayed packets are dropped and counted
// (ServerStats.DropsAuth, DropsReplayed). A new connection with the client
// id of a connected client replaces the old one, which ends with
// ReasonReplaced.
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
