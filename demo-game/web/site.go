package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
	"github.com/tickwire/tickwire/netcode/browser"
	"github.com/tickwire/tickwire/server/admin"
)

//go:embed index.html
var indexHTML string

// site is the running command: the demo server over a browser.Conn, the
// WebTransport and WebRTC endpoints and the page's HTTP server (which
// also answers WebRTC offers).
type site struct {
	srv    *demoserver.Server
	conn   *browser.Conn
	wt     *browser.WebTransport
	rtc    *browser.WebRTC
	httpLn net.Listener
	page   []byte // index.html, filled in
	dir    string
	host   string
	wtURL  string
	hash   string // hex SHA-256 of the development certificate; "" with -cert
	log    *slog.Logger
}

// start opens every socket and builds the site; run serves it.
func start(o options, log *slog.Logger) (*site, error) {
	s := &site{dir: o.dir, host: o.host, log: log}
	cert, err := s.certificate(o)
	if err != nil {
		return nil, err
	}
	gcfg := game.DefaultConfig()
	gcfg.NPCs = o.npcs
	scfg := demoserver.ServerConfig{
		Addr: o.addr, AdminAddr: o.admin, MaxPlayers: o.maxPlayers, Logger: log, Link: o.link, LinkSeed: 1,
		Wrap: func(udp net.PacketConn) net.PacketConn {
			s.conn = browser.NewConn(udp, browser.Config{MaxSessions: o.maxPlayers})
			return s.conn
		},
	}
	scfg.Arena.Game = gcfg
	if o.admin != "" {
		scfg.Registry = admin.NewRegistry()
	}
	if s.srv, err = demoserver.Listen(scfg); err != nil {
		return nil, err
	}
	if scfg.Registry != nil {
		if err := registerBrowserMetrics(scfg.Registry, s.conn); err != nil {
			_ = s.srv.Close()
			return nil, fmt.Errorf("web: metrics: %w", err)
		}
	}
	s.httpLn, err = net.Listen("tcp", o.httpAddr)
	if err != nil {
		_ = s.srv.Close()
		return nil, fmt.Errorf("web: -http %q: %w", o.httpAddr, err)
	}
	s.wt, err = browser.ListenWebTransport(s.conn, browser.WebTransportConfig{
		Addr: o.wtAddr, Certificate: cert, CheckOrigin: s.checkOrigin, Logger: log,
	})
	if err != nil {
		_ = s.httpLn.Close()
		_ = s.srv.Close()
		return nil, err
	}
	s.rtc, err = browser.ListenWebRTC(s.conn, browser.WebRTCConfig{Addr: o.rtcAddr, Logger: log})
	if err != nil {
		s.close()
		return nil, err
	}
	s.wtURL = s.wt.URL(o.host)
	var page bytes.Buffer
	t := template.Must(template.New("index").Parse(indexHTML))
	if err := t.Execute(&page, struct{ URL, CertHash string }{s.wtURL, s.hash}); err != nil {
		s.close()
		return nil, fmt.Errorf("web: page: %w", err)
	}
	s.page = page.Bytes()
	return s, nil
}

// certificate loads -cert and -key, or makes a development certificate
// (and its hash for the page).
func (s *site) certificate(o options) (tls.Certificate, error) {
	if o.certFile != "" {
		c, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("web: -cert %q -key %q: %w", o.certFile, o.keyFile, err)
		}
		return c, nil
	}
	hosts := []string{o.host}
	if o.host != "localhost" {
		hosts = append(hosts, "localhost")
	}
	c, hash, err := browser.DevCertificate(time.Now(), hosts, rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	s.hash = hex.EncodeToString(hash[:])
	return c, nil
}

// checkOrigin admits sessions opened by pages of this site: an Origin
// whose host is -host (any port) or localhost.
func (s *site) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser page: the netcode handshake still applies
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == s.host || h == "localhost" || h == "127.0.0.1"
}

// PageURL is the URL to open.
func (s *site) PageURL() string {
	return "http://" + net.JoinHostPort(s.host, portOf(s.httpLn.Addr())) + "/"
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// run serves until ctx is done, then shuts down: the game server tells its
// clients, the sessions close, the page server stops.
func (s *site) run(ctx context.Context) error {
	hs := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(s.httpLn) }()
	err := s.srv.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if herr := <-served; herr != nil && !errors.Is(herr, http.ErrServerClosed) && err == nil {
		err = herr
	}
	_ = s.wt.Close()
	_ = s.rtc.Close()
	return err
}

// close releases what start opened, for a site never run.
func (s *site) close() {
	if s.wt != nil {
		_ = s.wt.Close()
	}
	if s.rtc != nil {
		_ = s.rtc.Close()
	}
	_ = s.httpLn.Close()
	_ = s.srv.Close()
}

// handler serves the page, wasm_exec.js and the client, gzipped when the
// browser accepts it and client.wasm.gz exists.
func (s *site) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(s.page)
	})
	mux.Handle("POST /webrtc", s.rtc)
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, filepath.Join(s.dir, "wasm_exec.js"))
	})
	mux.HandleFunc("GET /client.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		w.Header().Set("Cache-Control", "no-store")
		gz := filepath.Join(s.dir, "client.wasm.gz")
		if _, err := os.Stat(gz); err == nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Vary", "Accept-Encoding")
			http.ServeFile(w, r, gz)
			return
		}
		http.ServeFile(w, r, filepath.Join(s.dir, "client.wasm"))
	})
	return mux
}
