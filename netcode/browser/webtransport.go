package browser

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
)

// DefaultWebTransportPath is the URL path WebTransport sessions open when
// WebTransportConfig.Path is empty.
const DefaultWebTransportPath = "/tickwire"

// DefaultIdleTimeout is the QUIC idle timeout of WebTransport connections
// when WebTransportConfig.IdleTimeout is 0: a browser that vanished
// without closing its session, or a connection that opened none, ends
// after this long (the game's own keepalives keep a live one busy).
const DefaultIdleTimeout = 5 * time.Second

// WebTransportConfig configures ListenWebTransport. Certificate is
// required; the other zero fields take the defaults noted.
type WebTransportConfig struct {
	// Addr is the UDP address QUIC listens on, e.g. "127.0.0.1:4433";
	// "" means "127.0.0.1:0".
	Addr string
	// Path is the URL path of the session endpoint; "" means
	// DefaultWebTransportPath.
	Path string
	// Certificate is the TLS certificate: DevCertificate's for
	// development, a certificate authority's in production.
	Certificate tls.Certificate
	// CheckOrigin says whether a page of the request's Origin may open a
	// session; nil means webtransport-go's default (the Origin's host must
	// be the request's Host).
	CheckOrigin func(r *http.Request) bool
	// IdleTimeout: see DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Logger receives session events; nil discards them.
	Logger *slog.Logger
}

// WebTransport serves WebTransport sessions and adds each to a Conn.
// Create it with ListenWebTransport; its methods are safe from any
// goroutine.
type WebTransport struct {
	conn    *Conn
	wt      *webtransport.Server
	udp     *net.UDPConn
	path    string
	log     *slog.Logger
	done    chan struct{}
	err     error // what stopped the server before Close
	once    sync.Once
	closing atomic.Bool
}

// ListenWebTransport listens for WebTransport sessions on cfg.Addr and
// adds each to c, until Close. A session request over c's MaxSessions is
// refused with 503.
func ListenWebTransport(c *Conn, cfg WebTransportConfig) (*WebTransport, error) {
	if len(cfg.Certificate.Certificate) == 0 {
		return nil, errors.New("browser: WebTransportConfig.Certificate is empty: want a certificate (DevCertificate for development)")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Path == "" {
		cfg.Path = DefaultWebTransportPath
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	log := loggerOr(cfg.Logger)
	udp, err := listenUDP("WebTransport", "udp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	h3 := &http3.Server{
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cfg.Certificate}, MinVersion: tls.VersionTLS13}),
		QUICConfig: &quic.Config{
			EnableDatagrams: true,
			// No keepalive of our own: a game's keepalives keep a live
			// session busy, and a connection without one should end.
			MaxIdleTimeout: cfg.IdleTimeout,
		},
		Handler: mux,
	}
	webtransport.ConfigureHTTP3Server(h3)
	w := &WebTransport{
		conn: c, udp: udp, path: cfg.Path, log: log, done: make(chan struct{}),
		wt: &webtransport.Server{H3: h3, CheckOrigin: cfg.CheckOrigin},
	}
	mux.HandleFunc(cfg.Path, w.serveSession)
	go func() {
		defer close(w.done)
		if err := w.wt.Serve(udp); err != nil && !w.closing.Load() {
			w.err = fmt.Errorf("browser: WebTransport server: %w", err)
		}
	}()
	return w, nil
}

func (w *WebTransport) serveSession(rw http.ResponseWriter, r *http.Request) {
	if st := w.conn.Stats(); st.Open >= w.conn.cfg.MaxSessions {
		w.conn.refused.Add(1)
		http.Error(rw, "server full", http.StatusServiceUnavailable)
		return
	}
	s, err := w.wt.Upgrade(rw, r)
	if err != nil {
		w.log.Info("browser: WebTransport upgrade failed", "remote", r.RemoteAddr, "err", err)
		rw.WriteHeader(http.StatusBadRequest)
		return
	}
	addr, err := w.conn.AddSession(wtSession{s}, r.RemoteAddr)
	if err != nil {
		_ = s.CloseWithError(1, "server full")
		w.log.Info("browser: WebTransport session refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	w.log.Info("browser: WebTransport session", "remote", r.RemoteAddr, "addr", addr.String())
}

// wtSession adapts a *webtransport.Session to Session.
type wtSession struct{ *webtransport.Session }

func (s wtSession) Close() error { return s.CloseWithError(0, "") }

// Addr returns the UDP address QUIC listens on.
func (w *WebTransport) Addr() net.Addr { return w.udp.LocalAddr() }

// URL returns the URL a page opens with new WebTransport(url, ...), with
// host as its host name (the certificate's: "127.0.0.1" for a
// DevCertificate made for it).
func (w *WebTransport) URL(host string) string {
	port := w.udp.LocalAddr().(*net.UDPAddr).Port
	return fmt.Sprintf("https://%s%s", net.JoinHostPort(host, fmt.Sprint(port)), w.path)
}

// Close stops accepting sessions, closes those open (through the Conn's
// Close, or at once here) and the QUIC socket, and waits for the server.
func (w *WebTransport) Close() error {
	w.once.Do(func() {
		w.closing.Store(true)
		_ = w.wt.Close()
		_ = w.udp.Close()
		<-w.done
	})
	return w.err
}

// loggerOr returns log, or a logger that discards when it is nil.
func loggerOr(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// listenUDP opens the UDP socket of an endpoint (what names it in errors)
// on addr.
func listenUDP(what, network, addr string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("browser: %s address %q: %w", what, addr, err)
	}
	udp, err := net.ListenUDP(network, ua)
	if err != nil {
		return nil, fmt.Errorf("browser: %s listen %q: %w", what, addr, err)
	}
	return udp, nil
}
