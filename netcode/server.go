package netcode

import (
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// Server serves many clients from one UDP socket (any net.PacketConn),
// demultiplexing datagrams to connections by source address and connection
// id. Create it with Listen or NewServer.
//
// # Threading model
//
// A Server owns two goroutines. A reader reads datagrams (in batches with
// recvmmsg on a *net.UDPConn) into a fixed pool of buffers and queues them;
// when the queue is full, datagrams are dropped and counted
// (ServerStats.DropsQueueFull). Datagrams from addresses with no connection
// are sorted out by the reader: only handshake packets are queued, within a
// per-source rate (ServerConfig.HandshakeRate) and in a bounded queue of
// their own (ServerConfig.UnverifiedQueue), so that a flood of them never
// costs an established connection a datagram. A writer writes the
// datagrams that Update and Flush build, in batches with sendmmsg, so that
// the loop does not wait for the kernel (ServerConfig.SendInline writes
// from the loop instead).
// No goroutine is started per client or per message: all protocol work
// happens in Update, on the goroutine that calls it — the game's tick loop:
//
//	for each tick {
//		for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() { ... } // connects, disconnects
//		for _, id := range srv.AppendClients(ids[:0]) {
//			for msg, ok := srv.ReadMessage(id, ch); ok; msg, ok = srv.ReadMessage(id, ch) { ... }
//		}
//		... simulate ...
//		srv.Send(id, ch, msg) or srv.Broadcast(ch, msg)
//		srv.Update(now) // receive queued datagrams, handshakes, timeouts, keepalives, then send
//	}
//
// Calling Update last in the tick sends the tick's messages at once, with the
// acknowledgements of what was just received riding in the same packets;
// what Update received is read at the start of the next tick. Update is
// Receive followed by Flush: a loop may instead call Receive at the start of
// its tick and Flush at the end, so that what arrived is read in the same
// tick, and each client still gets at most one datagram per tick.
//
// Every method must be called from that one goroutine — the Server is not
// safe for concurrent use — except Addr and Wake, which are safe from any
// goroutine. Wake lets an event-driven loop sleep until datagrams arrive.
// Close must also be called from the loop's goroutine; it returns after the
// writer has written everything (the disconnects last) and both goroutines
// have exited. OnMessageAcked runs inside Update (or Receive).
type Server struct {
	cfg    ServerConfig
	common connCommon
	log    *slog.Logger

	sock   *socket
	rx     *receiver
	jar    *cookieJar
	tokens *tokenOpener   // nil in insecure mode
	hsKeys *handshakeKeys // secure mode: of the hello being handled
	public netip.AddrPort

	conns   []*serverConn // in connection order
	last    *serverConn   // the connection lookup found last
	byAddr  map[netip.AddrPort]*serverConn
	byID    map[ClientID]*serverConn
	nextID  ClientID
	events  []Event
	evHead  int
	lastNow time.Time
	closed  bool

	batch      *outBatch // datagrams being built
	writer     *writer   // nil: flushOut writes from the caller's goroutine
	handed     uint64    // datagrams handed to the socket (or the writer)
	sendFailed uint64    // datagrams the socket refused, when writing inline

	hello hello
	priv  privateToken
	stats ServerStats

	refuseLog  *rate.Limiter // info logs of refusals
	suppressed uint64        // refusals not logged since the last log
}

// ServerStats counts what a Server did since it started. The Drops fields
// count datagrams dropped before reaching a connection's endpoint, by
// reason; the endpoint's own drops are in each client's Stats. Drops and
// Refusals enumerate the counters with metric-friendly names, zeros
// included, for exporting.
type ServerStats struct {
	Connected         int
	DatagramsReceived uint64 // read from the socket, dropped or not
	BytesReceived     uint64
	DatagramsSent     uint64
	BytesSent         uint64
	SendErrors        uint64
	ChallengesSent    uint64
	Accepted          uint64 // connections made
	// Refused counts the handshakes refused, by reason
	// (Refused[RefuseServerFull]...): those a denial answers and those
	// ignored without an answer. The first reasons are numbered like the
	// DenyReason of the denial.
	Refused  [numRefuseReasons]uint64
	Timeouts uint64

	DropsQueueFull     uint64 // receive queue full (Update not keeping up)
	DropsMalformed     uint64 // does not decode
	DropsUnknownAddr   uint64 // connected packet from an address with no connection
	DropsWrongConn     uint64 // connection id of another (older) connection
	DropsReplayed      uint64 // replay window: seen before or too old
	DropsAuth          uint64 // AEAD open failed (tampered, wrong key)
	DropsBadCookie     uint64 // response with a forged cookie
	DropsExpiredCookie uint64 // response after ChallengeLifetime
	DropsEndpoint      uint64 // the endpoint refused the packet (stale, duplicate, malformed)
	// DropsUnproven counts plain-mode disconnects that did not prove their
	// sender sees the connection's traffic (a forgery).
	DropsUnproven uint64
	// DropsRateLimited counts handshake packets over HandshakeRate from
	// one address.
	DropsRateLimited uint64
	// DropsHandshakeQueueFull counts handshake packets from addresses with
	// no connection that found their queue (UnverifiedQueue) full, or whose
	// place a connected client's datagram took.
	DropsHandshakeQueueFull uint64
}

// Dropped is the sum of the Drops fields.
func (s ServerStats) Dropped() uint64 {
	var n uint64
	for _, v := range s.Drops() {
		n += v
	}
	return n
}

// Drops yields every drop counter, zeros included, by a stable snake_case
// name ("queue_full", "malformed", "unknown_addr", "wrong_conn",
// "replayed", "auth", "bad_cookie", "expired_cookie", "endpoint",
// "unproven", "rate_limited", "handshake_queue_full"), in that order.
func (s ServerStats) Drops() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		_ = yield("queue_full", s.DropsQueueFull) && yield("malformed", s.DropsMalformed) &&
			yield("unknown_addr", s.DropsUnknownAddr) && yield("wrong_conn", s.DropsWrongConn) &&
			yield("replayed", s.DropsReplayed) && yield("auth", s.DropsAuth) &&
			yield("bad_cookie", s.DropsBadCookie) && yield("expired_cookie", s.DropsExpiredCookie) &&
			yield("endpoint", s.DropsEndpoint) && yield("unproven", s.DropsUnproven) &&
			yield("rate_limited", s.DropsRateLimited) && yield("handshake_queue_full", s.DropsHandshakeQueueFull)
	}
}

// Refusals yields every RefuseReason with its count, zeros included, in
// order.
func (s ServerStats) Refusals() iter.Seq2[RefuseReason, uint64] {
	return func(yield func(RefuseReason, uint64) bool) {
		for r := RefuseServerFull; r < numRefuseReasons; r++ {
			if !yield(r, s.Refused[r]) {
				return
			}
		}
	}
}

// RefuseReason says why a server refused a handshake.
type RefuseReason uint8

// Refusal reasons answered with a denial, numbered like its DenyReason.
// The others (RefuseAddrInUse...) are ignored without an answer, as the
// netcode.io standard has it, so that they tell a replaying attacker
// nothing.
const (
	RefuseServerFull       RefuseReason = RefuseReason(DenyServerFull)
	RefuseVersionMismatch  RefuseReason = RefuseReason(DenyVersionMismatch)
	RefuseProtocolMismatch RefuseReason = RefuseReason(DenyProtocolMismatch)
	RefuseTokenInvalid     RefuseReason = RefuseReason(DenyTokenInvalid)
	RefuseTokenExpired     RefuseReason = RefuseReason(DenyTokenExpired)
	RefuseTokenWrongServer RefuseReason = RefuseReason(DenyTokenWrongServer)
)

// Refusals ignored without an answer.
const (
	// RefuseAddrInUse: a new handshake (another client nonce) from the
	// address of an established connection.
	RefuseAddrInUse = RefuseTokenWrongServer + 1 + iota
	// RefuseClientIDInUse: a token for a client id that is connected from
	// another address, with another token.
	RefuseClientIDInUse
	// RefuseTokenInUse: the token of a connection, from another address:
	// a replayed request, or the player after a NAT rebinding before its
	// old connection timed out.
	RefuseTokenInUse
	// RefuseKeyProof: a response that echoes the challenge but does not
	// prove it holds the token's keys: a replayed request's challenge.
	RefuseKeyProof

	numRefuseReasons
)

// String returns a short snake_case name, suitable as a metric label.
func (r RefuseReason) String() string {
	switch r {
	case RefuseServerFull:
		return "server_full"
	case RefuseVersionMismatch:
		return "version_mismatch"
	case RefuseProtocolMismatch:
		return "protocol_mismatch"
	case RefuseTokenInvalid:
		return "token_invalid"
	case RefuseTokenExpired:
		return "token_expired"
	case RefuseTokenWrongServer:
		return "token_wrong_server"
	case RefuseAddrInUse:
		return "addr_in_use"
	case RefuseClientIDInUse:
		return "client_id_in_use"
	case RefuseTokenInUse:
		return "token_in_use"
	case RefuseKeyProof:
		return "key_proof"
	}
	return fmt.Sprintf("refuse_reason_%d", uint8(r))
}

// ConnStats counts one connection's traffic at the connection layer; the
// endpoint's Stats has RTT, loss and message counters.
type ConnStats struct {
	PacketsSent     uint64
	PacketsReceived uint64
	BytesSent       uint64
	BytesReceived   uint64
	DropsReplayed   uint64
	DropsAuth       uint64
	DropsEndpoint   uint64
	DropsUnproven   uint64 // plain mode: forged disconnects (see ServerStats)
}

// ClientInfo describes a connected client.
type ClientInfo struct {
	ID          ClientID
	Addr        netip.AddrPort
	ConnectedAt time.Time
	LastReceive time.Time
	// UserData is the connect token's user data (secure mode) or, in plain
	// mode, what the client's ClientConfig.UserData said (unauthenticated);
	// read-only.
	UserData []byte
	Stats    Stats     // the endpoint's: RTT, loss, bandwidth, packets, messages
	Conn     ConnStats // the connection layer's
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	EventConnect EventKind = iota + 1
	EventDisconnect
)

func (k EventKind) String() string {
	switch k {
	case EventConnect:
		return "connect"
	case EventDisconnect:
		return "disconnect"
	}
	return fmt.Sprintf("event %d", uint8(k))
}

// Event reports a client connecting or disconnecting.
type Event struct {
	Kind   EventKind
	Client ClientID
	Addr   netip.AddrPort
	Reason DisconnectReason // EventDisconnect only
}

type serverConn struct {
	id          ClientID
	connID      uint32
	addr        netip.AddrPort
	udpAddr     *net.UDPAddr
	clientNonce uint64
	ep          *endpoint.Endpoint
	cipher      *packetCipher
	replay      replayWindow
	firstSeq    uint64 // sendSeq before the first packet (random)
	sendSeq     uint64
	connectedAt time.Time
	lastRecv    time.Time
	lastSend    time.Time
	userData    []byte
	tokenNonce  [tokenNonceSize]byte // secure mode: identifies the connection's token
	stats       ConnStats
	emit        func([]byte)
	removed     bool
}

// Listen opens a UDP socket on addr (e.g. ":7000", "127.0.0.1:0") and serves
// it. See NewServer.
func Listen(addr string, cfg ServerConfig) (*Server, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("netcode: listen %q: %w", addr, err)
	}
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("netcode: listen %q: %w", addr, err)
	}
	s, err := NewServer(pc, cfg)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return s, nil
}

// NewServer serves clients on pc, which the Server owns from now on (Close
// closes it). pc may be any net.PacketConn whose addresses are *net.UDPAddr,
// e.g. one wrapped by netsim. It starts the reader goroutine.
func NewServer(pc net.PacketConn, cfg ServerConfig) (*Server, error) {
	common, err := newConnCommon("ServerConfig", cfg.Timeout, cfg.KeepaliveInterval, cfg.Endpoint, cfg.ReceiveQueue,
		DefaultServerQueue, cfg.DisconnectPackets, cfg.Logger, cfg.Clock, cfg.Rand, cfg.DisableBatching)
	if err != nil {
		return nil, err
	}
	// One goroutine drives every connection's endpoint: they build their
	// packets in one buffer instead of one each.
	common.endpoint.Scratch = new(endpoint.Scratch)
	if cfg.MaxClients == 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.MaxClients < 1 || cfg.MaxClients > maxClientsLimit {
		return nil, configError("ServerConfig.MaxClients", cfg.MaxClients, "1..65536 (0 = 64)")
	}
	if cfg.ChallengeLifetime == 0 {
		cfg.ChallengeLifetime = DefaultChallengeLifetime
	}
	if cfg.ChallengeLifetime < time.Second {
		return nil, configError("ServerConfig.ChallengeLifetime", cfg.ChallengeLifetime, ">= 1s (0 = 10s)")
	}
	if cfg.UnverifiedQueue == 0 {
		cfg.UnverifiedQueue = max(1, common.queue/8)
	}
	if cfg.ReceiveCoalesce > maxReceiveCoalesce {
		return nil, configError("ServerConfig.ReceiveCoalesce", cfg.ReceiveCoalesce, "0 (read at every arrival) up to 10ms")
	}
	if cfg.UnverifiedQueue < 1 || cfg.UnverifiedQueue > common.queue {
		return nil, configError("ServerConfig.UnverifiedQueue", cfg.UnverifiedQueue, "1..ReceiveQueue (0 = ReceiveQueue/8)")
	}
	if cfg.HandshakeRate == 0 {
		cfg.HandshakeRate = DefaultHandshakeRate
	}
	if cfg.HandshakeRate < 1 || cfg.HandshakeRate > 1_000_000 {
		return nil, configError("ServerConfig.HandshakeRate", cfg.HandshakeRate, "1..1000000 (0 = 20)")
	}
	secret, err := GenerateKey(common.rand)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		common: common,
		log:    common.log,
		jar:    newCookieJar(secret, cfg.ChallengeLifetime),
		byAddr: make(map[netip.AddrPort]*serverConn, cfg.MaxClients),
		byID:   make(map[ClientID]*serverConn, cfg.MaxClients),
		conns:  make([]*serverConn, 0, cfg.MaxClients),
		nextID: 1,
		public: cfg.PublicAddr,
		// A burst of ten lines, then one a second with the count of
		// those left out.
		refuseLog: rate.NewLimiter(rate.Every(time.Second), 10),
	}
	if cfg.TokenKey != nil {
		if s.tokens, err = newTokenOpener(*cfg.TokenKey); err != nil {
			return nil, err
		}
		s.hsKeys = newHandshakeKeys()
	}
	if !s.public.IsValid() {
		if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
			s.public = normalizeAddr(ua.AddrPort())
		}
	}
	s.batch = newOutBatch()
	s.sock = newSocket(pc, common.batching)
	if common.endpoint.MaxPathMTU > 0 {
		if err := s.sock.refuseFragmentation(); err != nil {
			common.log.Warn("netcode: cannot refuse IP fragmentation; path MTU probes may pass as fragments", "err", err)
		}
	}
	if !cfg.SendInline {
		s.writer = newWriter(s.sock)
	}
	s.rx = newReceiver(s.sock, common.queue, common.clock, newSourceFilter(cfg.UnverifiedQueue, cfg.HandshakeRate))
	s.rx.coalesce = max(cfg.ReceiveCoalesce, 0)
	if cfg.ReceiveInline && s.rx.canInline() {
		s.rx.goInline()
	} else {
		s.rx.start()
	}
	s.log.Info("netcode: server listening", "addr", pc.LocalAddr().String(), "secure", s.tokens != nil,
		"max_clients", cfg.MaxClients, "batching", s.sock.batch != nil)
	return s, nil
}

// Addr returns the socket's local address. Safe from any goroutine.
func (s *Server) Addr() net.Addr { return s.sock.pc.LocalAddr() }

// Wake returns a channel that receives a value when datagrams were queued
// since the last receive from it. Safe from any goroutine; use it to sleep
// until there is something for Update to do.
func (s *Server) Wake() <-chan struct{} { return s.rx.wake }

// Wait blocks until datagrams are waiting for Receive or the deadline (the
// zero time: none) passes, and reports whether any may be. With
// ServerConfig.ReceiveInline it reads the socket itself, so no goroutine
// switch lies between a datagram's arrival and the caller; otherwise it
// waits for Wake. Call it from the goroutine that drives the Server; a
// loop that answers datagrams as they come, and ticks at least every
// tick:
//
//	for {
//		s.Wait(time.Now().Add(tick))
//		s.Receive(time.Now())
//		// read, answer
//		s.Flush(time.Now())
//	}
func (s *Server) Wait(deadline time.Time) bool { return s.rx.wait(deadline) }

// Update processes every datagram queued so far (handshakes, packets,
// disconnects), times out clients silent for Timeout, then sends: queued
// messages, resends, acknowledgements, and a keepalive to every client sent
// nothing for KeepaliveInterval. now should not go backwards between calls.
func (s *Server) Update(now time.Time) {
	s.Receive(now)
	s.Flush(now)
}

// Receive is the first half of Update: it processes every datagram queued
// so far and times out silent clients, but sends nothing (handshake
// replies wait for the next Flush too). A game loop that calls Receive at
// the start of a tick and Flush at its end sends each client one datagram
// per tick at most, carrying both the tick's messages and the acks of what
// arrived; with Config.AckDelay above the interval between two messages to
// a client, the acks wait for those messages instead of leaving alone.
func (s *Server) Receive(now time.Time) {
	if s.closed {
		return
	}
	s.receive(now)
	for i := 0; i < len(s.conns); i++ {
		c := s.conns[i]
		if now.Sub(c.lastRecv) > s.common.timeout {
			s.stats.Timeouts++
			s.remove(c, ReasonTimeout, false)
			i--
		}
	}
}

// Flush sends what every connection has to send now (queued messages, due
// resends, acks, keepalives) without reading the receive queue.
func (s *Server) Flush(now time.Time) {
	if s.closed {
		return
	}
	s.advance(now)
	for _, c := range s.conns {
		if now.Sub(c.lastSend) >= s.common.keepalive {
			c.ep.Ping()
		}
		c.ep.Flush(now, c.emit)
	}
	s.flushOut()
}

func (s *Server) advance(now time.Time) {
	if now.After(s.lastNow) {
		s.lastNow = now
	}
}

func (s *Server) receive(now time.Time) {
	s.advance(now)
	s.stats.DropsQueueFull = s.rx.dropped.Load()
	ds := s.rx.take()
	for _, d := range ds {
		// The reader's receive stamp, not now: RTT samples then do not
		// depend on when in the tick Update runs.
		s.handle(d.buf[:d.n], d.from, d.at)
	}
	s.rx.release(ds)
}

func (s *Server) handle(b []byte, from netip.AddrPort, now time.Time) {
	if len(b) == 0 {
		if s.endSession(from) { // browser_hook.go
			return
		}
		s.stats.DropsMalformed++
		return
	}
	switch connPacketType(b[0]) {
	case ptRequest, ptResponse:
		s.handleHello(b, from, now)
	case ptPayload, ptDisconnect:
		s.handleConnected(b, from, now)
	default:
		s.stats.DropsMalformed++
	}
}

// handleConnected handles a payload or disconnect packet. Nothing of the
// connection changes (replay window, timeout, counters) until the packet has
// been fully validated: authenticated in secure mode, decoded by the
// endpoint (a payload) and, in plain mode, a disconnect must prove that its
// sender sees the connection's traffic: it must echo a sequence this side
// sent among its last disconnectEchoWindow packets, and its own sequence
// must be within the receive window. An attacker who spoofs the client's
// address and knows the connection id but not the current traffic cannot
// end the connection; in secure mode the AEAD already proves the sender.
func (s *Server) handleConnected(b []byte, from netip.AddrPort, now time.Time) {
	c := s.byAddr[from]
	if c == nil {
		s.stats.DropsUnknownAddr++
		return
	}
	h, body, drop := openConnected(b, c.connID, &c.replay, c.cipher)
	switch drop {
	case dropMalformed:
		s.stats.DropsMalformed++
		return
	case dropWrongConn:
		s.stats.DropsWrongConn++
		return
	case dropReplayed:
		s.stats.DropsReplayed++
		c.stats.DropsReplayed++
		return
	case dropAuth:
		s.stats.DropsAuth++
		c.stats.DropsAuth++
		return
	}
	switch h.Type {
	case ptPayload:
		if err := c.ep.Receive(now, body); err != nil {
			s.stats.DropsEndpoint++
			c.stats.DropsEndpoint++
			if errors.Is(err, endpoint.ErrMalformedPacket) {
				return // garbage moves nothing
			}
			// A duplicate or stale endpoint packet under a new connection
			// sequence is still the peer's: it proves the peer alive.
		}
		c.replay.accept(h.Seq)
		c.lastRecv = now
		c.stats.PacketsReceived++
		c.stats.BytesReceived += uint64(len(b))
	case ptDisconnect:
		_, echo, _, err := decodeDisconnectBody(body)
		if err != nil {
			s.stats.DropsMalformed++
			return
		}
		if c.cipher == nil && (!c.replay.within(h.Seq) || !echoProves(echo, c.clientNonce, c.firstSeq, c.sendSeq)) {
			s.stats.DropsUnproven++
			c.stats.DropsUnproven++
			return
		}
		c.replay.accept(h.Seq)
		c.stats.PacketsReceived++
		c.stats.BytesReceived += uint64(len(b))
		s.remove(c, ReasonClosed, false)
	}
}

// handleHello answers a request with a challenge and a response with an
// accept, either with a denial, or ignores it. Until the response's cookie
// verifies, the server keeps nothing about the sender and answers with at
// most one datagram much smaller than the one received.
//
// The rules of the netcode.io standard hold: a new handshake never takes
// over an established connection, whether it comes from the connection's
// address with another client nonce (RefuseAddrInUse) or, in secure mode,
// carries the client id of a connection at another address
// (RefuseClientIDInUse, or RefuseTokenInUse for the connection's own
// token): those are ignored without an answer. In secure mode the
// challenge and the denials the server can seal are authenticated under the
// token's keys, and only a response that proves it holds them makes a
// connection (RefuseKeyProof), so a request replayed from another address
// gets nothing while its connection lives and can never complete.
func (s *Server) handleHello(b []byte, from netip.AddrPort, now time.Time) {
	h := &s.hello
	t, _, err := decodeHello(b, h)
	if err != nil {
		s.stats.DropsMalformed++
		return
	}
	var keys *handshakeKeys // secure mode, once the token opened: seals the answers
	switch {
	case h.Wire != wireVersion:
		s.deny(from, h.ClientNonce, DenyProtocolMismatch, nil, now)
		return
	case s.tokens != nil:
		if !h.Secure || s.tokens.open(h, &s.priv) != nil {
			s.deny(from, h.ClientNonce, DenyTokenInvalid, nil, now)
			return
		}
		keys = s.hsKeys
		keys.derive(&s.priv.C2SKey, &s.priv.S2CKey)
	case h.Secure:
		s.deny(from, h.ClientNonce, DenyProtocolMismatch, nil, now)
		return
	}
	if h.ProtocolID != s.cfg.ProtocolID {
		s.deny(from, h.ClientNonce, DenyProtocolMismatch, keys, now)
		return
	}
	if h.Version != s.cfg.Version {
		s.deny(from, h.ClientNonce, DenyVersionMismatch, keys, now)
		return
	}
	if keys != nil {
		if h.TokenExpires < now.UnixMilli() {
			s.deny(from, h.ClientNonce, DenyTokenExpired, keys, now)
			return
		}
		if !s.tokenListsServer() {
			s.deny(from, h.ClientNonce, DenyTokenWrongServer, keys, now)
			return
		}
	}
	existing := s.byAddr[from]
	if existing != nil && existing.clientNonce != h.ClientNonce {
		s.refuse(from, RefuseAddrInUse, now)
		return
	}
	if keys != nil && existing == nil {
		if old := s.byID[s.priv.ClientID]; old != nil {
			if old.tokenNonce == h.TokenNonce {
				s.refuse(from, RefuseTokenInUse, now)
			} else {
				s.refuse(from, RefuseClientIDInUse, now)
			}
			return
		}
	}
	if t == ptRequest {
		if existing == nil && len(s.conns) >= s.cfg.MaxClients {
			s.deny(from, h.ClientNonce, DenyServerFull, keys, now)
			return
		}
		s.stats.ChallengesSent++
		ck := s.jar.mint(now, from, h)
		var tag *[hsTagSize]byte
		if keys != nil {
			t := keys.challengeTag(h.ClientNonce, ck)
			tag = &t
		}
		s.queueRaw(from, appendChallenge(s.nextBuf(), h.ClientNonce, ck, tag))
		return
	}
	if !s.verifyResponse(h, from, keys, now) {
		return
	}
	// The address is verified (and in secure mode the keys proven) from here on.
	if existing != nil {
		s.sendAccept(existing) // the same client: it did not get the first accept
		return
	}
	if len(s.conns) >= s.cfg.MaxClients {
		s.deny(from, h.ClientNonce, DenyServerFull, keys, now)
		return
	}
	id := s.priv.ClientID
	if s.tokens == nil {
		id = s.nextID
		for s.byID[id] != nil || id == 0 {
			id++
		}
		s.nextID = id + 1
	}
	if err := s.accept(id, from, h, now); err != nil {
		s.log.Error("netcode: accept failed", "addr", from.String(), "err", err)
	}
}

// verifyResponse checks a response's cookie: minted by this server for this
// address and request, within ChallengeLifetime. In secure mode the response
// carries, in place of the cookie's MAC, the proof that the client holds the
// token's keys (see handshakeKeys.proof).
func (s *Server) verifyResponse(h *hello, from netip.AddrPort, keys *handshakeKeys, now time.Time) bool {
	want, expired := s.jar.expect(now, from, h)
	if expired {
		s.stats.DropsExpiredCookie++
		return false
	}
	if keys == nil {
		if !tagEqual(&want.MAC, &h.Cookie.MAC) {
			s.stats.DropsBadCookie++
			return false
		}
		return true
	}
	proof := keys.proof(h.ClientNonce, want)
	if tagEqual(&proof, &h.Cookie.MAC) {
		return true
	}
	if tagEqual(&want.MAC, &h.Cookie.MAC) {
		// The challenge echoed as it came: whoever sent it saw the
		// challenge but does not hold the token's keys.
		s.refuse(from, RefuseKeyProof, now)
		return false
	}
	s.stats.DropsBadCookie++
	return false
}

// tokenListsServer reports whether the opened token (s.priv) lists this
// server's public address.
func (s *Server) tokenListsServer() bool {
	for _, a := range s.priv.Addrs[:s.priv.NumAddrs] {
		if a == s.public || (s.public.Addr().IsUnspecified() && a.Port() == s.public.Port()) {
			return true
		}
	}
	return false
}

// deny refuses a handshake with a denial, sealed when keys (the token's)
// are known.
func (s *Server) deny(to netip.AddrPort, nonce uint64, r DenyReason, keys *handshakeKeys, now time.Time) {
	s.refuse(to, RefuseReason(r), now)
	var tag *[hsTagSize]byte
	if keys != nil {
		t := keys.deniedTag(nonce, r)
		tag = &t
	}
	s.queueRaw(to, appendDenied(s.nextBuf(), nonce, r, tag))
}

// refuse counts a refusal and logs it at info level, at most ten lines in a
// burst and then one a second, each with the number left out before it.
func (s *Server) refuse(from netip.AddrPort, r RefuseReason, now time.Time) {
	s.stats.Refused[r]++
	if !s.refuseLog.AllowN(now, 1) {
		s.suppressed++
		return
	}
	s.log.Info("netcode: connection refused", "addr", from.String(), "reason", r.String(), "suppressed", s.suppressed)
	s.suppressed = 0
}

func (s *Server) accept(id ClientID, from netip.AddrPort, h *hello, now time.Time) error {
	ep, err := endpoint.NewEndpoint(s.common.endpoint, now)
	if err != nil {
		return err
	}
	connID, firstSeq, err := newConnIDs(s.common.rand)
	if err != nil {
		return err
	}
	c := &serverConn{
		id:          id,
		connID:      connID,
		addr:        from,
		udpAddr:     net.UDPAddrFromAddrPort(from),
		clientNonce: h.ClientNonce,
		ep:          ep,
		firstSeq:    firstSeq,
		sendSeq:     firstSeq,
		connectedAt: now,
		lastRecv:    now,
		lastSend:    now,
	}
	if s.tokens != nil {
		c.tokenNonce = h.TokenNonce
		if c.cipher, err = newPacketCipher(s.priv.S2CKey, s.priv.C2SKey); err != nil {
			return err
		}
		c.userData = append([]byte(nil), s.priv.UserData[:s.priv.UserDataLen]...)
	} else if h.UserDataLen > 0 {
		c.userData = append([]byte(nil), h.UserData[:h.UserDataLen]...) // plain mode: as the client says
	}
	c.emit = func(p []byte) { s.queueConn(c, ptPayload, p) }
	if s.cfg.OnMessageAcked != nil {
		fn := s.cfg.OnMessageAcked
		ep.SetAckHandler(func(ch int, mid MessageID) { fn(c.id, ch, mid) })
	}
	s.conns = append(s.conns, c)
	s.byAddr[from] = c
	s.byID[id] = c
	s.rx.setKnown(from, true)
	s.stats.Accepted++
	s.stats.Connected = len(s.conns)
	s.pushEvent(Event{Kind: EventConnect, Client: id, Addr: from})
	s.log.Info("netcode: client connected", "client", uint64(id), "addr", from.String())
	s.sendAccept(c)
	return nil
}

func (s *Server) sendAccept(c *serverConn) {
	var body [acceptBodySize]byte
	s.queueConn(c, ptAccept, appendAcceptBody(body[:0], c.id, c.clientNonce))
}

// remove ends c: it leaves the maps at once, so a new connection from the
// same address or id can take its place.
func (s *Server) remove(c *serverConn, r DisconnectReason, notify bool) {
	if c.removed {
		return
	}
	if notify {
		s.sendDisconnect(c, r)
	}
	c.removed = true
	for i, x := range s.conns {
		if x == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
	delete(s.byAddr, c.addr)
	s.rx.setKnown(c.addr, false)
	if s.byID[c.id] == c {
		delete(s.byID, c.id)
	}
	s.stats.Connected = len(s.conns)
	s.pushEvent(Event{Kind: EventDisconnect, Client: c.id, Addr: c.addr, Reason: r})
	s.log.Info("netcode: client disconnected", "client", uint64(c.id), "addr", c.addr.String(), "reason", r.String())
}

func (s *Server) sendDisconnect(c *serverConn, r DisconnectReason) {
	var body [disconnectBodySize]byte
	for range s.common.disconnectPackets {
		s.queueConn(c, ptDisconnect, appendDisconnectBody(body[:0], r, c.replay.echo(c.clientNonce)))
	}
}

func (s *Server) pushEvent(e Event) {
	if s.evHead == len(s.events) {
		s.events, s.evHead = s.events[:0], 0
	}
	s.events = append(s.events, e)
}

// PollEvent returns the next connect or disconnect event, oldest first.
// Events wait in a queue until polled (one connect and one disconnect per
// connection at most), so poll them every tick.
func (s *Server) PollEvent() (Event, bool) {
	if s.evHead == len(s.events) {
		return Event{}, false
	}
	e := s.events[s.evHead]
	s.evHead++
	return e, true
}

// nextBuf returns an empty buffer for the next outgoing datagram.
func (s *Server) nextBuf() []byte { return s.batch.next() }

func (s *Server) queueRaw(to netip.AddrPort, b []byte) {
	if s.batch.add(outDatagram{buf: b, to: to}) {
		s.flushOut()
	}
}

func (s *Server) queueConn(c *serverConn, t connPacketType, body []byte) {
	c.sendSeq++
	b := c.cipher.appendConnPacket(s.nextBuf(), connHeader{Type: t, ConnID: c.connID, Seq: c.sendSeq}, body)
	c.lastSend = s.lastNow
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(b))
	if s.batch.add(outDatagram{buf: b, to: c.addr, addr: c.udpAddr}) {
		s.flushOut()
	}
}

// flushOut hands the batch built so far to the writer goroutine (or writes
// it, with SendInline). Datagrams and bytes are counted as sent when they
// are handed over; the writer counts what the socket refused.
func (s *Server) flushOut() {
	out := s.batch.out
	if len(out) == 0 {
		return
	}
	s.handed += uint64(len(out))
	for _, o := range out {
		s.stats.BytesSent += uint64(len(o.buf))
	}
	if s.writer != nil {
		s.batch = s.writer.hand(s.batch)
		return
	}
	sent, _ := s.sock.write(out)
	s.sendFailed += uint64(len(out) - sent)
	s.batch.reset()
}

// lookup returns client id's connection, or nil. The last one found is
// kept: a game calls several methods for one client in a row (read each
// channel, send), and a map lookup per call is a cache miss per call.
func (s *Server) lookup(id ClientID) *serverConn {
	if c := s.last; c != nil && c.id == id && !c.removed {
		return c
	}
	c := s.byID[id]
	s.last = c
	return c
}

func (s *Server) conn(id ClientID) (*serverConn, error) {
	c := s.lookup(id)
	if c == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownClient, uint64(id))
	}
	return c, nil
}

// Send queues msg (copied) for client id on channel ch. It leaves at the
// next Flush or Update.
func (s *Server) Send(id ClientID, ch int, msg []byte) (MessageID, error) {
	c, err := s.conn(id)
	if err != nil {
		return 0, err
	}
	return c.ep.Send(ch, msg)
}

// Broadcast queues msg for every connected client on channel ch. It returns
// the errors of the clients whose queue refused it, joined.
func (s *Server) Broadcast(ch int, msg []byte) error {
	var errs []error
	for _, c := range s.conns {
		if _, err := c.ep.Send(ch, msg); err != nil {
			errs = append(errs, fmt.Errorf("netcode: broadcast to client %d: %w", uint64(c.id), err))
		}
	}
	return errors.Join(errs...)
}

// ReadMessage returns the next message client id delivered on channel ch.
// msg is valid until the next call of a method of s.
func (s *Server) ReadMessage(id ClientID, ch int) (msg []byte, ok bool) {
	c := s.lookup(id)
	if c == nil {
		return nil, false
	}
	return c.ep.ReadMessage(ch)
}

// AppendClients appends the ids of the connected clients, in connection
// order, to dst.
func (s *Server) AppendClients(dst []ClientID) []ClientID {
	for _, c := range s.conns {
		dst = append(dst, c.id)
	}
	return dst
}

// NumClients returns the number of connected clients.
func (s *Server) NumClients() int { return len(s.conns) }

// Client describes the connected client id.
func (s *Server) Client(id ClientID) (ClientInfo, bool) {
	c := s.lookup(id)
	if c == nil {
		return ClientInfo{}, false
	}
	return ClientInfo{
		ID: c.id, Addr: c.addr, ConnectedAt: c.connectedAt, LastReceive: c.lastRecv,
		UserData: c.userData, Stats: c.ep.Stats(), Conn: c.stats,
	}, true
}

// Stats returns the server's counters, those of the reader goroutine
// (datagrams received, and what it dropped) included.
func (s *Server) Stats() ServerStats {
	s.stats.DropsQueueFull = s.rx.dropped.Load()
	st := s.stats
	f := s.rx.filter
	st.DatagramsReceived = s.rx.packets.Load()
	st.BytesReceived = s.rx.bytes.Load()
	st.DropsMalformed += f.malformed.Load()
	st.DropsUnknownAddr += f.unknownAddr.Load()
	st.DropsRateLimited = f.rateLimited.Load()
	st.DropsHandshakeQueueFull = f.unverFull.Load() + f.evicted.Load()
	st.SendErrors = s.sendFailed
	if s.writer != nil {
		st.SendErrors += s.writer.failed.Load()
	}
	st.DatagramsSent = s.handed - st.SendErrors
	return st
}

// Disconnect ends client id's connection, telling it (redundantly). The
// disconnect event is queued at once.
func (s *Server) Disconnect(id ClientID) error {
	c, err := s.conn(id)
	if err != nil {
		return err
	}
	s.remove(c, ReasonKicked, true)
	s.flushOut()
	return nil
}

// Close disconnects every client (sending each DisconnectPackets disconnect
// packets), closes the socket and waits for the reader goroutine to exit.
// Calling it again returns ErrClosed.
func (s *Server) Close() error {
	if s.closed {
		return ErrClosed
	}
	for len(s.conns) > 0 {
		s.remove(s.conns[0], ReasonServerClosed, true)
	}
	s.flushOut()
	if s.writer != nil {
		s.writer.stop() // the disconnects leave before the socket closes
	}
	s.closed = true
	err := s.rx.stop()
	s.log.Info("netcode: server closed")
	if err != nil {
		return fmt.Errorf("netcode: close: %w", err)
	}
	return nil
}

// SendValue encodes v as msgpack (the endpoint's Codec) and queues it for
// client id on channel ch.
func (s *Server) SendValue(id ClientID, ch int, v any) (MessageID, error) {
	c, err := s.conn(id)
	if err != nil {
		return 0, err
	}
	return c.ep.SendValue(ch, v)
}

// ReadValue decodes the next message client id delivered on channel ch
// into v (a pointer). It returns false when there is none.
func (s *Server) ReadValue(id ClientID, ch int, v any) (bool, error) {
	c, err := s.conn(id)
	if err != nil {
		return false, err
	}
	return c.ep.ReadValue(ch, v)
}
