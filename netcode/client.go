package netcode

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// Client is one connection to a Server. Create it with Dial or DialConn.
//
// # Threading model
//
// Like Server: one reader goroutine queues received datagrams, and nothing
// else runs in the background. The game's loop owns the Client: each tick
// it reads messages (ReadMessage), sends (Send), then calls Update(now),
// which receives what was queued, times the connection out, sends a
// keepalive when idle, and flushes. Every method must be called from that
// one goroutine, except RemoteAddr, LocalAddr and Wake, which are safe from
// any goroutine. Dial blocks its caller until the handshake ends; the
// Client it returns belongs to the caller's goroutine (hand it to another
// with the usual happens-before, e.g. a channel send).
type Client struct {
	cfg    ClientConfig
	common connCommon
	log    *slog.Logger

	sock      *socket
	rx        *receiver
	server    netip.AddrPort
	serverUDP *net.UDPAddr

	nonce  uint64
	token  *publicToken
	cipher *packetCipher
	hsKeys *handshakeKeys // secure mode: checks the server's handshake packets
	cookie cookie

	id        ClientID
	connID    uint32
	connected bool
	ep        *endpoint.Endpoint
	replay    replayWindow
	firstSeq  uint64 // sendSeq before the first connected packet (random)
	sendSeq   uint64
	lastRecv  time.Time
	lastSend  time.Time
	lastNow   time.Time
	err       *DisconnectError
	closed    bool
	denied    *DeniedError
	// provisional is a denial the server could not seal (secure mode, the
	// token did not open): anyone could have sent it, so the handshake goes
	// on, and Dial returns it only if no accept comes in time.
	provisional *DeniedError

	batch *outBatch // datagrams being built
	emit  func([]byte)
	stats ClientConnStats
}

// ClientConnStats are the client's connection-layer counters.
type ClientConnStats struct {
	ConnStats
	DropsQueueFull   uint64 // receive queue full (Update not keeping up)
	DropsMalformed   uint64 // does not decode
	DropsUnknownAddr uint64 // not from the server's address
	DropsWrongConn   uint64 // another connection's id (a previous session), or before the accept
}

// Dial connects to the server at addr ("host:port") from a new UDP socket
// and returns when the handshake has finished. The errors it returns match,
// with errors.Is: ErrServerFull, ErrVersionMismatch, ErrProtocolMismatch,
// ErrTokenDenied (a *DeniedError says which), ErrTimeout (no answer within
// ConnectTimeout or ctx's deadline), or ctx.Err() when ctx is cancelled.
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Client, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("netcode: dial %q: %w", addr, err)
	}
	network := "udp4"
	if ua.IP.To4() == nil {
		network = "udp6"
	}
	// A connected socket: the kernel drops datagrams from anyone but the
	// server, and sends skip the per-datagram route lookup.
	pc, err := net.DialUDP(network, nil, ua)
	if err != nil {
		return nil, fmt.Errorf("netcode: dial %q: %w", addr, err)
	}
	return DialConn(ctx, pc, normalizeAddr(ua.AddrPort()), cfg)
}

// DialConn is Dial over pc, any net.PacketConn whose addresses are
// *net.UDPAddr (a netsim-wrapped conn, say), or a *net.UDPConn connected
// to server (net.DialUDP). The Client owns pc from now on and closes it on
// Close, or at once when the handshake fails.
func DialConn(ctx context.Context, pc net.PacketConn, server netip.AddrPort, cfg ClientConfig) (*Client, error) {
	c, err := newClient(pc, server, cfg)
	if err != nil {
		pc.Close()
		return nil, err
	}
	c.rx.start()
	if err := c.handshake(ctx); err != nil {
		c.rx.stop()
		return nil, err
	}
	if c.cfg.ReceiveInline && c.rx.canInline() {
		c.rx.goInline()
	}
	return c, nil
}

func newClient(pc net.PacketConn, server netip.AddrPort, cfg ClientConfig) (*Client, error) {
	common, err := newConnCommon("ClientConfig", cfg.Timeout, cfg.KeepaliveInterval, cfg.Endpoint, cfg.ReceiveQueue,
		DefaultClientQueue, cfg.DisconnectPackets, cfg.Logger, cfg.Clock, cfg.Rand, cfg.DisableBatching)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultTimeout
	}
	if cfg.HandshakeResend == 0 {
		cfg.HandshakeResend = DefaultHandshakeResend
	}
	if cfg.ConnectTimeout < 0 {
		return nil, configError("ClientConfig.ConnectTimeout", cfg.ConnectTimeout, "> 0 (0 = 5s)")
	}
	if cfg.HandshakeResend <= 0 {
		return nil, configError("ClientConfig.HandshakeResend", cfg.HandshakeResend, "> 0 (0 = 100ms)")
	}
	if len(cfg.UserData) > MaxTokenUserData {
		return nil, configError("ClientConfig.UserData", fmt.Sprintf("%d bytes", len(cfg.UserData)), fmt.Sprintf("at most %d bytes", MaxTokenUserData))
	}
	if len(cfg.UserData) > 0 && cfg.Token != nil {
		return nil, configError("ClientConfig.UserData", fmt.Sprintf("%d bytes", len(cfg.UserData)), "none with a Token (secure mode: the token carries the user data)")
	}
	if !server.IsValid() {
		return nil, configError("server address", server, "a valid address and port")
	}
	c := &Client{
		cfg:       cfg,
		common:    common,
		log:       common.log,
		server:    server,
		serverUDP: net.UDPAddrFromAddrPort(server),
	}
	var nb [8]byte
	if _, err := io.ReadFull(common.rand, nb[:]); err != nil {
		return nil, fmt.Errorf("netcode: client nonce: %w", err)
	}
	c.nonce = binary.BigEndian.Uint64(nb[:])
	if c.firstSeq, err = randomFirstSeq(common.rand); err != nil {
		return nil, err
	}
	if cfg.Token != nil {
		pt, _, err := decodePublicToken(cfg.Token)
		if err != nil {
			// The reason already says the token is invalid: keep only what is wrong with it.
			detail := strings.TrimPrefix(err.Error(), ErrInvalidToken.Error()+": ")
			return nil, &DeniedError{Reason: DenyTokenInvalid, Detail: detail}
		}
		if pt.ProtocolID != cfg.ProtocolID {
			return nil, &DeniedError{Reason: DenyTokenInvalid,
				Detail: fmt.Sprintf("token is for protocol %#x, client uses %#x", pt.ProtocolID, cfg.ProtocolID)}
		}
		if now := common.clock(); pt.Expires < now.UnixMilli() {
			return nil, &DeniedError{Reason: DenyTokenExpired, Detail: "expired " + time.UnixMilli(pt.Expires).UTC().Format(time.RFC3339)}
		}
		c.token = &pt
		if c.cipher, err = newPacketCipher(pt.C2SKey, pt.S2CKey); err != nil {
			return nil, err
		}
		c.hsKeys = newHandshakeKeys()
		c.hsKeys.derive(&pt.C2SKey, &pt.S2CKey)
	}
	c.batch = newOutBatch()
	c.emit = func(p []byte) { c.queueConn(ptPayload, p) }
	c.sock = newSocket(pc, common.batching)
	if common.endpoint.MaxPathMTU > 0 {
		if err := c.sock.refuseFragmentation(); err != nil {
			common.log.Warn("netcode: cannot refuse IP fragmentation; path MTU probes may pass as fragments", "err", err)
		}
	}
	c.rx = newReceiver(c.sock, common.queue, common.clock, nil)
	return c, nil
}

func (c *Client) hello(t connPacketType) []byte {
	h := hello{Wire: wireVersion, ProtocolID: c.cfg.ProtocolID, Version: c.cfg.Version, ClientNonce: c.nonce, Cookie: c.cookie}
	if c.token != nil {
		h.Secure = true
		h.TokenExpires = c.token.Expires
		h.TokenNonce = c.token.Nonce
		h.TokenSealed = c.token.Sealed
		if t == ptResponse {
			h.Cookie.MAC = c.hsKeys.proof(c.nonce, c.cookie)
		}
	} else {
		h.UserDataLen = copy(h.UserData[:], c.cfg.UserData)
	}
	return appendHello(c.nextBuf(), t, &h)
}

// handshake sends requests until a challenge arrives, then responses until
// the accept arrives, each every HandshakeResend.
func (c *Client) handshake(ctx context.Context) error {
	limit := time.NewTimer(c.cfg.ConnectTimeout)
	defer limit.Stop()
	resend := time.NewTicker(c.cfg.HandshakeResend)
	defer resend.Stop()
	challenged := false
	send := func() {
		t := ptRequest
		if challenged {
			t = ptResponse
		}
		c.queueRaw(c.hello(t))
		c.flushOut()
	}
	send()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if c.provisional != nil {
					return c.provisional
				}
				return fmt.Errorf("%w: no answer from %v before the context deadline", ErrTimeout, c.server)
			}
			return fmt.Errorf("netcode: dial %v: %w", c.server, ctx.Err())
		case <-limit.C:
			if c.provisional != nil {
				return c.provisional
			}
			return fmt.Errorf("%w: no answer from %v within %v", ErrTimeout, c.server, c.cfg.ConnectTimeout)
		case <-resend.C:
			send()
		case <-c.rx.wake:
			wasChallenged := challenged
			ds := c.rx.take()
			for _, d := range ds {
				if c.connected {
					c.handle(d.buf[:d.n], d.from, d.at)
				} else {
					c.handleHandshake(d.buf[:d.n], d.from, d.at, &challenged)
				}
				if c.denied != nil {
					break
				}
			}
			c.rx.release(ds)
			if c.denied != nil {
				return c.denied
			}
			if c.connected {
				c.log.Info("netcode: connected", "server", c.server.String(), "client", uint64(c.id))
				return nil
			}
			if challenged && !wasChallenged {
				send()
			}
		}
	}
}

func (c *Client) handleHandshake(b []byte, from netip.AddrPort, now time.Time, challenged *bool) {
	if from != c.server || len(b) == 0 {
		c.stats.DropsUnknownAddr++
		return
	}
	switch connPacketType(b[0]) {
	case ptChallenge:
		nonce, ck, tag, sealed, err := decodeChallenge(b)
		if err != nil || nonce != c.nonce || sealed != (c.hsKeys != nil) {
			c.stats.DropsMalformed++
			return
		}
		if sealed {
			if want := c.hsKeys.challengeTag(nonce, ck); !tagEqual(&want, &tag) {
				c.stats.DropsAuth++ // forged
				return
			}
		}
		c.cookie = ck
		*challenged = true
	case ptDenied:
		nonce, r, tag, sealed, err := decodeDenied(b)
		if err != nil || nonce != c.nonce || (sealed && c.hsKeys == nil) {
			c.stats.DropsMalformed++
			return
		}
		switch {
		case sealed:
			if want := c.hsKeys.deniedTag(nonce, r); !tagEqual(&want, &tag) {
				c.stats.DropsAuth++ // forged
				return
			}
			c.denied = &DeniedError{Reason: r, Detail: "by server " + c.server.String()}
		case c.hsKeys != nil:
			c.provisional = &DeniedError{Reason: r,
				Detail: "by server " + c.server.String() + " (unauthenticated: the server could not open the token)"}
		default:
			c.denied = &DeniedError{Reason: r, Detail: "by server " + c.server.String()}
		}
	case ptAccept:
		h, _, err := decodeConnHeader(b)
		if err != nil {
			c.stats.DropsMalformed++
			return
		}
		body, err := c.cipher.openConnPacket(b, h)
		if err != nil {
			c.stats.DropsAuth++
			return
		}
		id, nonce, _, err := decodeAcceptBody(body)
		if err != nil || nonce != c.nonce {
			c.stats.DropsMalformed++
			return
		}
		ep, err := endpoint.NewEndpoint(c.common.endpoint, now)
		if err != nil {
			c.denied = &DeniedError{Reason: DenyProtocolMismatch, Detail: err.Error()}
			return
		}
		if c.cfg.OnMessageAcked != nil {
			ep.SetAckHandler(c.cfg.OnMessageAcked)
		}
		c.ep = ep
		c.sendSeq = c.firstSeq
		c.id, c.connID, c.connected = id, h.ConnID, true
		c.replay.accept(h.Seq)
		c.lastRecv, c.lastSend, c.lastNow = now, now, now
		c.stats.PacketsReceived++
		c.stats.BytesReceived += uint64(len(b))
	case ptPayload, ptDisconnect:
		c.stats.DropsWrongConn++ // sent after an accept that has not arrived
	default:
		c.stats.DropsMalformed++
	}
}

func (c *Client) handle(b []byte, from netip.AddrPort, now time.Time) {
	if from != c.server {
		c.stats.DropsUnknownAddr++
		return
	}
	h, body, drop := openConnected(b, c.connID, &c.replay, c.cipher)
	switch drop {
	case dropMalformed:
		c.stats.DropsMalformed++
		return
	case dropWrongConn:
		c.stats.DropsWrongConn++
		return
	case dropReplayed:
		c.stats.DropsReplayed++
		return
	case dropAuth:
		c.stats.DropsAuth++
		return
	}
	// As on the server (see Server.handleConnected): nothing changes until
	// the packet is fully validated.
	switch h.Type {
	case ptPayload:
		if err := c.ep.Receive(now, body); err != nil {
			c.stats.DropsEndpoint++
			if errors.Is(err, endpoint.ErrMalformedPacket) {
				return
			}
		}
		c.replay.accept(h.Seq)
		c.lastRecv = now
		c.stats.PacketsReceived++
		c.stats.BytesReceived += uint64(len(b))
	case ptDisconnect:
		r, echo, _, err := decodeDisconnectBody(body)
		if err != nil {
			c.stats.DropsMalformed++
			return
		}
		if c.cipher == nil && (!c.replay.within(h.Seq) || !echoProves(echo, c.nonce, c.firstSeq, c.sendSeq)) {
			c.stats.DropsUnproven++
			return
		}
		c.replay.accept(h.Seq)
		c.stats.PacketsReceived++
		c.stats.BytesReceived += uint64(len(b))
		if r == ReasonClosed {
			r = ReasonKicked
		}
		c.fail(r, false)
	}
}

func (c *Client) fail(r DisconnectReason, local bool) {
	if c.err == nil {
		c.err = &DisconnectError{Reason: r, Local: local}
		c.log.Info("netcode: disconnected", "server", c.server.String(), "reason", r.String(), "local", local)
	}
}

// Update processes the datagrams received so far, ends the connection when
// the server went silent for Timeout, sends a keepalive when idle, and
// flushes the endpoint. It returns nil while connected, then a
// *DisconnectError for ever: errors.Is(err, ErrTimeout), ErrDisconnected
// (the server closed or kicked), or ErrClosed.
func (c *Client) Update(now time.Time) error {
	if c.err != nil {
		return c.err
	}
	if now.After(c.lastNow) {
		c.lastNow = now
	}
	ds := c.rx.take()
	for _, d := range ds {
		if c.err != nil {
			break // the rest are dropped with the connection
		}
		c.handle(d.buf[:d.n], d.from, d.at) // the receive stamp: see Server.receive
	}
	c.rx.release(ds)
	if c.err == nil && now.Sub(c.lastRecv) > c.common.timeout {
		c.fail(ReasonTimeout, true)
	}
	if c.err != nil {
		return c.err
	}
	c.Flush(now)
	return nil
}

// Flush sends what the endpoint has to send now, and a keepalive if nothing
// was sent for KeepaliveInterval.
func (c *Client) Flush(now time.Time) {
	if c.err != nil {
		return
	}
	if now.After(c.lastNow) {
		c.lastNow = now
	}
	if now.Sub(c.lastSend) >= c.common.keepalive {
		c.ep.Ping()
	}
	c.ep.Flush(now, c.emit)
	c.flushOut()
}

// Send queues msg (copied) on channel ch; it leaves at the next Flush or
// Update. After the connection ended it returns the *DisconnectError.
func (c *Client) Send(ch int, msg []byte) (MessageID, error) {
	if c.err != nil {
		return 0, c.err
	}
	return c.ep.Send(ch, msg)
}

// ReadMessage returns the next message delivered on channel ch; msg is valid
// until the next call of a method of c.
func (c *Client) ReadMessage(ch int) (msg []byte, ok bool) {
	if c.ep == nil {
		return nil, false
	}
	return c.ep.ReadMessage(ch)
}

// ID returns the id the server gave this client.
func (c *Client) ID() ClientID { return c.id }

// Stats returns the endpoint's statistics: RTT, loss, bandwidth, counters.
func (c *Client) Stats() Stats { return c.ep.Stats() }

// ConnStats returns the connection layer's counters.
func (c *Client) ConnStats() ClientConnStats {
	st := c.stats
	st.DropsQueueFull = c.rx.dropped.Load()
	return st
}

// RemoteAddr returns the server's address. Safe from any goroutine.
func (c *Client) RemoteAddr() netip.AddrPort { return c.server }

// LocalAddr returns the socket's local address. Safe from any goroutine.
func (c *Client) LocalAddr() net.Addr { return c.sock.pc.LocalAddr() }

// Wake returns a channel that receives a value when datagrams were queued
// since the last receive from it. Safe from any goroutine.
func (c *Client) Wake() <-chan struct{} { return c.rx.wake }

// Wait blocks until datagrams are waiting for Update or the deadline (the
// zero time: none) passes, and reports whether any may be. With
// ClientConfig.ReceiveInline it reads the socket itself, so no goroutine
// switch lies between a datagram's arrival and the caller; otherwise it
// waits for Wake. Call it from the goroutine that calls Update.
func (c *Client) Wait(deadline time.Time) bool { return c.rx.wait(deadline) }

// Close tells the server (DisconnectPackets times, unless the connection
// already ended), closes the socket and waits for the reader goroutine to
// exit. Calling it again returns ErrClosed.
func (c *Client) Close() error {
	if c.closed {
		return ErrClosed
	}
	c.closed = true
	if c.err == nil {
		var body [disconnectBodySize]byte
		for range c.common.disconnectPackets {
			c.queueConn(ptDisconnect, appendDisconnectBody(body[:0], ReasonClosed, c.replay.echo(c.nonce)))
		}
		c.flushOut()
		c.fail(ReasonClosed, true)
	}
	if err := c.rx.stop(); err != nil {
		return fmt.Errorf("netcode: close: %w", err)
	}
	return nil
}

func (c *Client) nextBuf() []byte { return c.batch.next() }

func (c *Client) queueRaw(b []byte) {
	if c.batch.add(outDatagram{buf: b, to: c.server, addr: c.serverUDP}) {
		c.flushOut()
	}
}

func (c *Client) queueConn(t connPacketType, body []byte) {
	c.sendSeq++
	b := c.cipher.appendConnPacket(c.nextBuf(), connHeader{Type: t, ConnID: c.connID, Seq: c.sendSeq}, body)
	c.lastSend = c.lastNow
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(b))
	c.queueRaw(b)
}

func (c *Client) flushOut() {
	if len(c.batch.out) == 0 {
		return
	}
	_, _ = c.sock.write(c.batch.out)
	c.batch.reset()
}

// SendValue encodes v as msgpack (the endpoint's Codec) and queues it on
// channel ch.
func (c *Client) SendValue(ch int, v any) (MessageID, error) {
	if c.err != nil {
		return 0, c.err
	}
	return c.ep.SendValue(ch, v)
}

// ReadValue decodes the next message delivered on channel ch into v (a
// pointer). It returns false when there is none.
func (c *Client) ReadValue(ch int, v any) (bool, error) {
	return c.ep.ReadValue(ch, v)
}
