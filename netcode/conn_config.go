package netcode

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// Defaults of the connection layer, used for zero config fields.
const (
	DefaultTimeout           = 5 * time.Second
	DefaultKeepaliveInterval = 100 * time.Millisecond
	DefaultMaxClients        = 64
	DefaultChallengeLifetime = 10 * time.Second
	DefaultHandshakeResend   = 100 * time.Millisecond
	DefaultDisconnectPackets = 4
	DefaultServerQueue       = 2048 // received datagrams waiting for Server.Update
	DefaultClientQueue       = 256  // received datagrams waiting for Client.Update
	DefaultHandshakeRate     = 20   // handshake packets a second from one address

	maxClientsLimit    = 1 << 16
	maxReceiveCoalesce = 10 * time.Millisecond
)

// NoCoalesce in ServerConfig.ReceiveCoalesce reads every datagram as it
// arrives (as 0 does).
const NoCoalesce time.Duration = -1

// ServerConfig configures a Server. Zero fields take the defaults noted.
// ProtocolID, Version and the Endpoint channel layout must match the
// clients' ClientConfig.
type ServerConfig struct {
	// ProtocolID identifies the game; clients with another id are denied
	// with ErrProtocolMismatch.
	ProtocolID uint64
	// Version is the game's protocol version; clients with another version
	// are denied with ErrVersionMismatch.
	Version uint16
	// MaxClients bounds connected clients; more are denied with
	// ErrServerFull. Default 64, allowed 1..65536.
	MaxClients int
	// Timeout disconnects a client nothing was received from for this long.
	// Default 5 s.
	Timeout time.Duration
	// KeepaliveInterval: a connection that sent nothing for this long sends a
	// keepalive (an endpoint ping) so the peer does not time out and RTT keeps
	// being measured. Default 100 ms; must be below Timeout.
	KeepaliveInterval time.Duration
	// ChallengeLifetime bounds the time between the server's challenge and
	// the client's response. Default 10 s.
	ChallengeLifetime time.Duration
	// Endpoint configures each connection's reliability endpoint (channel
	// layout, packet size...). A zero MaxPacketSize becomes
	// DefaultMaxPacketSize - ConnOverhead, so that datagrams stay within 1200
	// bytes. MaxPacketSize + ConnOverhead must be at most 1500. A server
	// that streams state to players on links it does not know should set
	// Endpoint.SendRate (a ceiling, e.g. 1 Mbit/s = 125000) and
	// Endpoint.CongestionControl: each connection then sends no more than
	// its link carries, and ClientInfo.Stats.SendRate says how much that
	// is. A zero PacketOverhead becomes ConnOverhead plus 28 (UDP and IPv4
	// headers), so that the budget counts what leaves the socket. With
	// Endpoint.MaxPathMTU (a packet size: a datagram of 1452 bytes is
	// MaxPathMTU 1452 - ConnOverhead, at most 1500 - ConnOverhead) the
	// connection probes for larger packets and its socket refuses IP
	// fragmentation (Linux).
	Endpoint endpoint.Config
	// TokenKey, when set, turns on secure mode: clients must present a
	// connect token sealed with this key (see IssueConnectToken), and every
	// connected packet is sealed with the token's keys.
	TokenKey *[KeySize]byte
	// PublicAddr is the address connect tokens must list for this server.
	// Default: the socket's local address (any address with the same port
	// when the socket is bound to an unspecified address).
	PublicAddr netip.AddrPort
	// ReceiveQueue bounds the datagrams read from the socket and waiting for
	// Update; more are dropped and counted. Their buffers (1500 bytes each)
	// are allocated 64 at a time as traffic needs them, and kept. Default
	// 2048.
	ReceiveQueue int
	// UnverifiedQueue bounds, within ReceiveQueue, the handshake packets
	// from addresses with no connection waiting for Update; more are
	// dropped and counted (DropsHandshakeQueueFull). It is also the most
	// handshakes one Update handles, which bounds what a flood of them
	// costs a tick. When the queue is full, a connected client's datagram
	// takes the place of a queued handshake rather than being dropped.
	// Default ReceiveQueue/8 (256); allowed 1..ReceiveQueue.
	UnverifiedQueue int
	// HandshakeRate is how many handshake packets a second one source
	// address (IP and port) may send, with bursts of as many; more are
	// dropped and counted (DropsRateLimited). A client sends one every
	// HandshakeResend (10 a second by default) while it connects.
	// Default 20; allowed 1..1000000.
	HandshakeRate int
	// DisconnectPackets is how many copies of a disconnect packet are sent
	// so that one survives loss. Default 4.
	DisconnectPackets int
	// OnMessageAcked, if set, is called during Update when a client has
	// acknowledged a message the server sent it (every channel kind). It must
	// not call back into the Server.
	OnMessageAcked func(client ClientID, channel int, id MessageID)
	// DisableBatching turns off recvmmsg/sendmmsg on a *net.UDPConn.
	DisableBatching bool
	// ReceiveCoalesce lets datagrams gather in the socket for up to this
	// long after a read that emptied it, before the reader goroutine reads
	// again. By default the reader wakes at every arrival, which is what
	// gives the lowest latency; a busy server that handles datagrams once
	// a tick anyway then wakes once per interval instead of once per
	// datagram or two, and saves a large share of its CPU at hundreds of
	// clients (see README, "Benchmarks"). The cost: a datagram reaches
	// Update up to this much later, and its receive stamp, from which RTT
	// is measured, is up to this late. An idle socket still wakes the
	// reader at its first arrival. Keep it well under the tick: 1 ms suits
	// a server ticking every 10 ms or more. 0 (the default) or NoCoalesce (any
	// negative value) reads at every arrival; allowed up to 10 ms.
	ReceiveCoalesce time.Duration
	// ReceiveInline makes Receive and Update read the socket from the calling goroutine,
	// with no reader goroutine, and Wait block in the socket itself: a
	// datagram reaches the game with no goroutine switch in between (on a
	// 2-core machine that halves a loopback round trip's p99; see README,
	// "Receiving"). The costs: datagrams wait in the kernel's socket buffer
	// between calls, so the game must call Receive often enough that the buffer never fills (4 MB: a few thousand datagrams; a flood fills it sooner); receive stamps, and so RTT samples, are taken
	// when the game reads; and Wake never fires: wait with Wait. Linux
	// *net.UDPConn sockets only (with batching); elsewhere it is ignored.
	ReceiveInline bool
	// SendInline makes Update, Flush and Close write datagrams from the
	// calling goroutine. By default a writer goroutine writes them, so that
	// the game loop hands a tick's datagrams over instead of waiting for
	// the kernel; DatagramsSent and BytesSent then count datagrams handed
	// over, and SendErrors catches up once the writer has written them.
	SendInline bool
	// Logger receives connect/disconnect/deny logs. Default: discarded.
	Logger *slog.Logger
	// Clock stamps received datagrams (their receive time, for RTT) and
	// checks token expiry. Default time.Now. It must be the clock whose
	// readings the game passes to Update.
	Clock func() time.Time
	// Rand supplies the cookie secret and connection ids. Default
	// crypto/rand.Reader.
	Rand io.Reader
}

// ClientConfig configures a Client. Zero fields take the defaults noted.
type ClientConfig struct {
	ProtocolID uint64
	Version    uint16
	// Token is a connect token from IssueConnectToken; required by servers in
	// secure mode, and turns on packet sealing.
	Token []byte
	// UserData, in plain mode (no Token), is sent in the connection request
	// and shown by the server as ClientInfo.UserData (a room to join, a
	// name): at most MaxTokenUserData bytes, and unauthenticated — any
	// client can claim anything. In secure mode the token carries it.
	UserData []byte
	// Timeout ends the connection when nothing was received for this long.
	// Default 5 s.
	Timeout time.Duration
	// KeepaliveInterval: see ServerConfig. Default 100 ms.
	KeepaliveInterval time.Duration
	// ConnectTimeout bounds Dial when ctx has no earlier deadline. Default 5 s.
	ConnectTimeout time.Duration
	// HandshakeResend is the interval between handshake retries. Default 100 ms.
	HandshakeResend time.Duration
	// Endpoint: see ServerConfig; must have the server's channel layout and
	// MaxPacketSize.
	Endpoint endpoint.Config
	// ReceiveQueue: see ServerConfig. Default 256.
	ReceiveQueue int
	// ReceiveInline makes Update read the socket from the calling goroutine
	// once connected (Dial's handshake still reads with a goroutine, which
	// ends when it returns), and Wait block in the socket itself: see
	// ServerConfig.ReceiveInline. Datagrams wait in the socket between
	// Updates, so call Update at least every few milliseconds or Wait.
	ReceiveInline bool
	// DisconnectPackets: see ServerConfig. Default 4.
	DisconnectPackets int
	// OnMessageAcked, if set, is called during Update when the server has
	// acknowledged a message this client sent.
	OnMessageAcked  func(channel int, id MessageID)
	DisableBatching bool
	Logger          *slog.Logger
	Clock           func() time.Time
	Rand            io.Reader
}

// connCommon holds the validated settings shared by both sides.
type connCommon struct {
	timeout, keepalive time.Duration
	endpoint           endpoint.Config
	queue              int
	disconnectPackets  int
	log                *slog.Logger
	clock              func() time.Time
	rand               io.Reader
	batching           bool
}

func newConnCommon(prefix string, timeout, keepalive time.Duration, ep endpoint.Config, queue, defQueue, disc int,
	log *slog.Logger, clock func() time.Time, rnd io.Reader, disableBatching bool) (connCommon, error) {
	c := connCommon{
		timeout: timeout, keepalive: keepalive, endpoint: ep, queue: queue,
		disconnectPackets: disc, log: log, clock: clock, rand: rnd, batching: !disableBatching,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.keepalive == 0 {
		c.keepalive = min(DefaultKeepaliveInterval, c.timeout/4)
	}
	if c.timeout < 0 {
		return c, configError(prefix+".Timeout", timeout, "> 0 (0 = 5s)")
	}
	if c.keepalive < 0 || c.keepalive >= c.timeout {
		return c, configError(prefix+".KeepaliveInterval", keepalive, "> 0 and < Timeout (0 = 100ms)")
	}
	if c.endpoint.MaxPacketSize == 0 {
		c.endpoint.MaxPacketSize = endpoint.DefaultMaxPacketSize - ConnOverhead
	}
	if c.endpoint.MaxPathMTU+ConnOverhead > maxDatagramSize {
		return c, configError(prefix+".Endpoint.MaxPathMTU", c.endpoint.MaxPathMTU,
			"at most "+strconv.Itoa(maxDatagramSize-ConnOverhead)+" (1500 minus ConnOverhead)")
	}
	if c.endpoint.PacketOverhead == 0 {
		// The send budget counts what leaves the socket: the connection
		// header and AEAD tag, and the UDP and IPv4 headers.
		c.endpoint.PacketOverhead = ConnOverhead + udpIPv4Header
	}
	if c.endpoint.MaxPacketSize+ConnOverhead > maxDatagramSize {
		return c, configError(prefix+".Endpoint.MaxPacketSize", c.endpoint.MaxPacketSize,
			"at most "+strconv.Itoa(maxDatagramSize-ConnOverhead)+" (1500 minus ConnOverhead)")
	}
	if err := c.endpoint.Validate(); err != nil {
		return c, endpointConfigError(prefix, err)
	}
	if c.queue == 0 {
		c.queue = defQueue
	}
	if c.queue < 1 || c.queue > 1<<20 {
		return c, configError(prefix+".ReceiveQueue", queue, "1..1048576 (0 = default)")
	}
	if c.disconnectPackets == 0 {
		c.disconnectPackets = DefaultDisconnectPackets
	}
	if c.disconnectPackets < 1 || c.disconnectPackets > 32 {
		return c, configError(prefix+".DisconnectPackets", disc, "1..32 (0 = 4)")
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	return c, nil
}

// endpointConfigError reports an invalid endpoint.Config under the name it
// has in the connection config, with the netcode prefix once:
// "endpoint: Config.AckDelay = 2s; allowed ..." becomes
// "netcode: invalid connection config: ServerConfig.Endpoint.AckDelay = 2s;
// allowed ...". An error of another shape is wrapped whole.
func endpointConfigError(prefix string, err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), "endpoint: "); ok && strings.Contains(msg, "Config.") {
		return fmt.Errorf("%w: %s", ErrInvalidConnConfig, strings.Replace(msg, "Config.", prefix+".Endpoint.", 1))
	}
	return fmt.Errorf("%w: %s.Endpoint: %w", ErrInvalidConnConfig, prefix, err)
}
