package netcode

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

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
// (ServerStats.DropsQueueFull). A writer writes the datagrams that Update
// and Flush build, in batches with sendmmsg, so that the loop does not wait
// for the kernel (ServerConfig.SendInline writes from the loop instead).
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
	tokens *tokenOpener // nil in insecure mode
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
}

// ServerStats counts what a Server did since it started. The Drops fields
// count datagrams dropped before reaching a connection's endpoint, by
// reason; the endpoint's own drops are in each client's Stats.
type ServerStats struct {
	Connected          int
	DatagramsReceived  uint64
	BytesReceived      uint64
	DatagramsSent      uint64
	BytesSent          uint64
	SendErrors         uint64
	ChallengesSent     uint64
	Accepted           uint64                           // connections made
	Denied             [DenyTokenWrongServer + 1]uint64 // denials by reason: Denied[DenyServerFull]...
	Timeouts           uint64
	DropsQueueFull     uint64 // receive queue full (Update not keeping up)
	DropsMalformed     uint64 // does not decode
	DropsUnknownAddr   uint64 // connected packet from an address with no connection
	DropsWrongConn     uint64 // connection id of another (older) connection
	DropsReplayed      uint64 // replay window: seen before or too old
	DropsAuth          uint64 // AEAD open failed (tampered, wrong key)
	DropsBadCookie     uint64 // response with a forged cookie
	DropsExpiredCookie uint64 // response after ChallengeLifetime
	DropsEndpoint      uint64 // the endpoint refused the packet (stale, duplicate, malformed)
}

// Dropped is the sum of the Drops fields.
func (s ServerStats) Dropped() uint64 {
	return s.DropsQueueFull + s.DropsMalformed + s.DropsUnknownAddr + s.DropsWrongConn + s.DropsReplayed +
		s.DropsAuth + s.DropsBadCookie + s.DropsExpiredCookie + s.DropsEndpoint
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
}

// ClientInfo describes a connected client.
type ClientInfo struct {
	ID          ClientID
	Addr        netip.AddrPort
	ConnectedAt time.Time
	LastReceive time.Time
	// UserData is the connect token's user data (secure mode), read-only.
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
	sendSeq     uint64
	connectedAt time.Time
	lastRecv    time.Time
	lastSend    time.Time
	userData    []byte
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
	}
	if cfg.TokenKey != nil {
		if s.tokens, err = newTokenOpener(*cfg.TokenKey); err != nil {
			return nil, err
		}
	}
	if !s.public.IsValid() {
		if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
			s.public = normalizeAddr(ua.AddrPort())
		}
	}
	s.batch = newOutBatch()
	s.sock = newSocket(pc, common.batching)
	if !cfg.SendInline {
		s.writer = newWriter(s.sock)
	}
	s.rx = newReceiver(s.sock, common.queue, common.clock)
	s.rx.start()
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
		s.stats.DatagramsReceived++
		s.stats.BytesReceived += uint64(d.n)
		// The reader's receive stamp, not now: RTT samples then do not
		// depend on when in the tick Update runs.
		s.handle(d.buf[:d.n], d.from, d.at)
	}
	s.rx.release(ds)
}

func (s *Server) handle(b []byte, from netip.AddrPort, now time.Time) {
	if len(b) == 0 {
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
	c.lastRecv = now
	c.stats.PacketsReceived++
	c.stats.BytesReceived += uint64(len(b))
	switch h.Type {
	case ptPayload:
		if err := c.ep.Receive(now, body); err != nil {
			s.stats.DropsEndpoint++
			c.stats.DropsEndpoint++
		}
	case ptDisconnect:
		s.remove(c, ReasonClosed, false)
	}
}

// handleHello answers a request with a challenge and a response with an
// accept, or either with a denial. Until the response's cookie verifies, the
// server keeps nothing about the sender and answers with at most one
// datagram smaller than the one received.
func (s *Server) handleHello(b []byte, from netip.AddrPort, now time.Time) {
	h := &s.hello
	t, _, err := decodeHello(b, h)
	if err != nil {
		s.stats.DropsMalformed++
		return
	}
	if h.Wire != wireVersion || h.ProtocolID != s.cfg.ProtocolID || (h.Secure && s.tokens == nil) {
		s.deny(from, h.ClientNonce, DenyProtocolMismatch)
		return
	}
	if h.Version != s.cfg.Version {
		s.deny(from, h.ClientNonce, DenyVersionMismatch)
		return
	}
	if s.tokens != nil {
		if r := s.checkToken(h, now); r != 0 {
			s.deny(from, h.ClientNonce, r)
			return
		}
	}
	existing := s.byAddr[from]
	if t == ptRequest {
		if existing == nil && len(s.conns) >= s.cfg.MaxClients {
			s.deny(from, h.ClientNonce, DenyServerFull)
			return
		}
		s.stats.ChallengesSent++
		s.queueRaw(from, appendChallenge(s.nextBuf(), h.ClientNonce, s.jar.mint(now, from, h)))
		return
	}
	ok, expired := s.jar.verify(now, from, h)
	if !ok {
		if expired {
			s.stats.DropsExpiredCookie++
		} else {
			s.stats.DropsBadCookie++
		}
		return
	}
	// The address is verified from here on.
	if existing != nil {
		if existing.clientNonce == h.ClientNonce {
			s.sendAccept(existing) // the client did not get the first accept
			return
		}
		s.remove(existing, ReasonReplaced, true)
	}
	if s.tokens != nil {
		if old := s.byID[s.priv.ClientID]; old != nil {
			s.remove(old, ReasonReplaced, true) // the same player, reconnecting from elsewhere
		}
	}
	if len(s.conns) >= s.cfg.MaxClients {
		s.deny(from, h.ClientNonce, DenyServerFull)
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

// checkToken opens the token of a secure hello into s.priv.
func (s *Server) checkToken(h *hello, now time.Time) DenyReason {
	if !h.Secure {
		return DenyTokenInvalid
	}
	if err := s.tokens.open(h, &s.priv); err != nil {
		return DenyTokenInvalid
	}
	if h.TokenExpires < now.UnixMilli() {
		return DenyTokenExpired
	}
	for _, a := range s.priv.Addrs[:s.priv.NumAddrs] {
		if a == s.public || (s.public.Addr().IsUnspecified() && a.Port() == s.public.Port()) {
			return 0
		}
	}
	return DenyTokenWrongServer
}

func (s *Server) deny(to netip.AddrPort, nonce uint64, r DenyReason) {
	s.stats.Denied[r]++
	s.log.Debug("netcode: connection denied", "addr", to.String(), "reason", r.String())
	s.queueRaw(to, appendDenied(s.nextBuf(), nonce, r))
}

func (s *Server) accept(id ClientID, from netip.AddrPort, h *hello, now time.Time) error {
	ep, err := endpoint.NewEndpoint(s.common.endpoint, now)
	if err != nil {
		return err
	}
	var idb [4]byte
	var connID uint32
	for connID == 0 {
		if _, err := io.ReadFull(s.common.rand, idb[:]); err != nil {
			return fmt.Errorf("netcode: connection id: %w", err)
		}
		connID = uint32(idb[0])<<24 | uint32(idb[1])<<16 | uint32(idb[2])<<8 | uint32(idb[3])
	}
	c := &serverConn{
		id:          id,
		connID:      connID,
		addr:        from,
		udpAddr:     net.UDPAddrFromAddrPort(from),
		clientNonce: h.ClientNonce,
		ep:          ep,
		connectedAt: now,
		lastRecv:    now,
		lastSend:    now,
	}
	if s.tokens != nil {
		if c.cipher, err = newPacketCipher(s.priv.S2CKey, s.priv.C2SKey); err != nil {
			return err
		}
		c.userData = append([]byte(nil), s.priv.UserData[:s.priv.UserDataLen]...)
	}
	c.emit = func(p []byte) { s.queueConn(c, ptPayload, p) }
	if s.cfg.OnMessageAcked != nil {
		fn := s.cfg.OnMessageAcked
		ep.SetAckHandler(func(ch int, mid MessageID) { fn(c.id, ch, mid) })
	}
	s.conns = append(s.conns, c)
	s.byAddr[from] = c
	s.byID[id] = c
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
	if s.byID[c.id] == c {
		delete(s.byID, c.id)
	}
	s.stats.Connected = len(s.conns)
	s.pushEvent(Event{Kind: EventDisconnect, Client: c.id, Addr: c.addr, Reason: r})
	s.log.Info("netcode: client disconnected", "client", uint64(c.id), "addr", c.addr.String(), "reason", r.String())
}

func (s *Server) sendDisconnect(c *serverConn, r DisconnectReason) {
	for range s.common.disconnectPackets {
		s.queueConn(c, ptDisconnect, []byte{byte(r)})
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

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	s.stats.DropsQueueFull = s.rx.dropped.Load()
	st := s.stats
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
