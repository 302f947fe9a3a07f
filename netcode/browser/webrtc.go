package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// DefaultOpenTimeout is how long a WebRTC peer may take from its offer to
// an open data channel before it is dropped, when WebRTCConfig.OpenTimeout
// is 0.
const DefaultOpenTimeout = 10 * time.Second

// maxOfferSize bounds the SDP offer a page posts.
const maxOfferSize = 16 << 10

// WebRTCConfig configures ListenWebRTC. The zero value is valid.
type WebRTCConfig struct {
	// Addr is the UDP address every peer's ICE traffic shares, e.g.
	// "0.0.0.0:4434"; "" means "127.0.0.1:0". Loopback candidates are
	// offered, so a browser on the same machine connects.
	Addr string
	// PublicIPs, when set, are the addresses offered as candidates
	// instead of the interfaces' (a server behind a 1:1 NAT).
	PublicIPs []string
	// OpenTimeout: see DefaultOpenTimeout.
	OpenTimeout time.Duration
	// Logger receives session events; nil discards them.
	Logger *slog.Logger
}

// WebRTC serves WebRTC data channels (unordered, no retransmits: datagrams)
// and adds each to a Conn: the fallback for browsers without WebTransport.
// Signalling is one HTTP exchange: the page POSTs its offer (SDP, with its
// ICE candidates) to the handler, which answers with the server's SDP.
// Create it with ListenWebRTC; its methods are safe from any goroutine.
type WebRTC struct {
	conn    *Conn
	api     *webrtc.API
	mux     ice.UDPMux
	udp     net.PacketConn
	timeout time.Duration
	log     *slog.Logger
	pending atomic.Int64 // offers answered whose channel has not opened yet
	mu      sync.Mutex
	peers   map[*webrtc.PeerConnection]struct{}
	closed  bool
}

// ListenWebRTC listens on cfg.Addr for the ICE traffic of every peer.
// Serve its handler (ServeHTTP) at a path of the page's origin.
func ListenWebRTC(c *Conn, cfg WebRTCConfig) (*WebRTC, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.OpenTimeout <= 0 {
		cfg.OpenTimeout = DefaultOpenTimeout
	}
	log := loggerOr(cfg.Logger)
	udp, err := listenUDP("WebRTC", "udp4", cfg.Addr)
	if err != nil {
		return nil, err
	}
	mux := webrtc.NewICEUDPMux(nil, udp)
	var se webrtc.SettingEngine
	se.SetICEUDPMux(mux)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	return &WebRTC{
		conn: c, api: webrtc.NewAPI(webrtc.WithSettingEngine(se)), mux: mux, udp: udp,
		timeout: cfg.OpenTimeout, log: log, peers: map[*webrtc.PeerConnection]struct{}{},
	}, nil
}

// Addr returns the UDP address of the ICE traffic.
func (w *WebRTC) Addr() net.Addr { return w.udp.LocalAddr() }

// ServeHTTP answers a POSTed SDP offer with the server's SDP answer (both
// as text/plain), once the server's ICE candidates are gathered. The data
// channel the page opened becomes a session of the Conn when it opens.
// Requests over the Conn's MaxSessions (open and pending) get 503.
func (w *WebRTC) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(rw, "POST an SDP offer", http.StatusMethodNotAllowed)
		return
	}
	if int(w.pending.Load())+w.conn.Stats().Open >= w.conn.cfg.MaxSessions {
		w.conn.refused.Add(1)
		http.Error(rw, "server full", http.StatusServiceUnavailable)
		return
	}
	offer, err := io.ReadAll(io.LimitReader(r.Body, maxOfferSize+1))
	if err != nil || len(offer) == 0 || len(offer) > maxOfferSize {
		http.Error(rw, fmt.Sprintf("want an SDP offer of 1..%d bytes", maxOfferSize), http.StatusBadRequest)
		return
	}
	answer, err := w.answer(string(offer), r.RemoteAddr)
	if err != nil {
		w.log.Info("browser: WebRTC offer refused", "remote", r.RemoteAddr, "err", err)
		http.Error(rw, "bad offer", http.StatusBadRequest)
		return
	}
	rw.Header().Set("Content-Type", "text/plain")
	rw.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(rw, answer)
}

// answer makes the peer connection of one offer and returns its answer.
func (w *WebRTC) answer(offer, remote string) (string, error) {
	pc, err := w.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", err
	}
	if !w.track(pc) {
		_ = pc.Close()
		return "", net.ErrClosed
	}
	w.pending.Add(1)
	var opened atomic.Bool
	settle := sync.OnceFunc(func() { w.pending.Add(-1) })
	timer := time.AfterFunc(w.timeout, func() {
		if !opened.Load() {
			settle()
			w.drop(pc)
		}
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			settle()
			timer.Stop()
			w.drop(pc)
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() {
			if !opened.CompareAndSwap(false, true) {
				_ = dc.Close() // one channel per peer
				return
			}
			settle()
			timer.Stop()
			s := newRTCSession(pc, dc, func() { w.drop(pc) })
			addr, err := w.conn.AddSession(s, remote)
			if err != nil {
				w.log.Info("browser: WebRTC session refused", "remote", remote, "err", err)
				w.drop(pc)
				return
			}
			w.log.Info("browser: WebRTC session", "remote", remote, "addr", addr.String())
		})
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		settle()
		timer.Stop()
		w.drop(pc)
		return "", err
	}
	ans, err := pc.CreateAnswer(nil)
	if err == nil {
		gathered := webrtc.GatheringCompletePromise(pc)
		if err = pc.SetLocalDescription(ans); err == nil {
			<-gathered
		}
	}
	if err != nil {
		settle()
		timer.Stop()
		w.drop(pc)
		return "", err
	}
	return pc.LocalDescription().SDP, nil
}

func (w *WebRTC) track(pc *webrtc.PeerConnection) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.peers[pc] = struct{}{}
	return true
}

// drop closes pc (once tracked) on a goroutine of its own: pion's
// callbacks must not wait for Close.
func (w *WebRTC) drop(pc *webrtc.PeerConnection) {
	w.mu.Lock()
	_, ok := w.peers[pc]
	delete(w.peers, pc)
	w.mu.Unlock()
	if ok {
		go func() { _ = pc.Close() }()
	}
}

// Close closes every peer connection and the UDP socket.
func (w *WebRTC) Close() error {
	w.mu.Lock()
	w.closed = true
	peers := w.peers
	w.peers = map[*webrtc.PeerConnection]struct{}{}
	w.mu.Unlock()
	var errs []error
	for pc := range peers {
		errs = append(errs, pc.Close())
	}
	errs = append(errs, w.mux.Close())
	if err := w.udp.Close(); !errors.Is(err, net.ErrClosed) { // the mux closes it
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// rtcSession is a data channel as a Session.
type rtcSession struct {
	dc    *webrtc.DataChannel
	in    chan []byte
	done  chan struct{}
	end   func()
	once  sync.Once
	drops atomic.Uint64
}

func newRTCSession(pc *webrtc.PeerConnection, dc *webrtc.DataChannel, closePeer func()) *rtcSession {
	s := &rtcSession{dc: dc, in: make(chan []byte, DefaultSessionQueue), done: make(chan struct{})}
	s.end = func() {
		s.once.Do(func() {
			close(s.done)
			closePeer()
		})
	}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case s.in <- m.Data:
		default:
			s.drops.Add(1) // the Conn's per-session queue is full too
		}
	})
	dc.OnClose(s.end)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateDisconnected:
			s.end()
		}
	})
	return s
}

func (s *rtcSession) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	select {
	case b := <-s.in:
		return b, nil
	case <-s.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *rtcSession) SendDatagram(b []byte) error { return s.dc.Send(b) }

func (s *rtcSession) Close() error {
	s.end()
	return nil
}
