package browser

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// TestWebRTCEndToEnd: a WebRTC peer (pion as the browser would be) posts
// its offer, opens an unordered data channel without retransmits, and a
// netcode client connects over it to a netcode server on the Conn;
// closing the peer disconnects it at once.
func TestWebRTCEndToEnd(t *testing.T) {
	pipe, _ := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	conn := NewConn(pipe, Config{})
	srv, err := netcode.NewServer(conn, netcode.ServerConfig{ProtocolID: 9})
	require.NoError(t, err)
	rtc, err := ListenWebRTC(conn, WebRTCConfig{})
	require.NoError(t, err)
	defer func() { assert.NoError(t, rtc.Close()) }()
	hs := httptest.NewServer(rtc)
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := make(chan netcode.Event, 8)
	loopDone := make(chan struct{})
	go func() { // the game loop owns srv
		defer close(loopDone)
		defer srv.Close()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			srv.Update(time.Now())
			for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
				events <- ev
			}
		}
	}()
	defer func() { cancel(); <-loopDone }()

	peer, dc := dialRTC(t, ctx, hs.URL)
	pc := &channelPC{dc: dc, in: make(chan []byte, 64), done: make(chan struct{})}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case pc.in <- m.Data:
		default:
		}
	})
	cl, err := netcode.DialConn(ctx, pc, clientServerAddr.AddrPort(), netcode.ClientConfig{ProtocolID: 9})
	require.NoError(t, err, "netcode handshake over a WebRTC data channel")
	defer cl.Close()
	ev := <-events
	require.Equal(t, netcode.EventConnect, ev.Kind)
	assert.True(t, IsSessionAddr(ev.Addr), "the peer's address %v is its session's", ev.Addr)

	began := time.Now()
	require.NoError(t, peer.Close()) // the tab closed
	select {
	case ev = <-events:
	case <-ctx.Done():
		t.Fatal("no disconnect after the peer closed")
	}
	assert.Equal(t, netcode.EventDisconnect, ev.Kind)
	assert.Equal(t, netcode.ReasonClosed, ev.Reason, "a closed peer is a disconnect, not a timeout")
	assert.Less(t, time.Since(began), time.Second)
}

func TestWebRTCRefusesBadOffers(t *testing.T) {
	pipe, _ := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	conn := NewConn(pipe, Config{MaxSessions: 1})
	defer conn.Close()
	rtc, err := ListenWebRTC(conn, WebRTCConfig{})
	require.NoError(t, err)
	defer rtc.Close()
	hs := httptest.NewServer(rtc)
	defer hs.Close()
	for _, tc := range []struct {
		method string
		body   []byte
		want   int
	}{
		{http.MethodGet, nil, http.StatusMethodNotAllowed},
		{http.MethodPost, nil, http.StatusBadRequest},
		{http.MethodPost, []byte("not sdp"), http.StatusBadRequest},
		{http.MethodPost, bytes.Repeat([]byte("v"), maxOfferSize+1), http.StatusBadRequest},
	} {
		req, err := http.NewRequest(tc.method, hs.URL, bytes.NewReader(tc.body))
		require.NoError(t, err)
		rsp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = rsp.Body.Close()
		assert.Equal(t, tc.want, rsp.StatusCode, "%s of %d bytes", tc.method, len(tc.body))
	}
	assert.Zero(t, rtc.pending.Load(), "no offer left pending")
	assert.Zero(t, conn.Stats().Open)
}

// dialRTC is the browser's side: an offer with an unordered data channel
// without retransmits, posted to url, and the answer; it returns once the
// channel is open.
func dialRTC(t *testing.T, ctx context.Context, url string) (*webrtc.PeerConnection, *webrtc.DataChannel) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	peer, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = peer.Close() })
	ordered, retransmits := false, uint16(0)
	dc, err := peer.CreateDataChannel("tickwire", &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: &retransmits})
	require.NoError(t, err)
	open := make(chan struct{})
	dc.OnOpen(func() { close(open) })
	offer, err := peer.CreateOffer(nil)
	require.NoError(t, err)
	gathered := webrtc.GatheringCompletePromise(peer)
	require.NoError(t, peer.SetLocalDescription(offer))
	<-gathered
	rsp, err := http.Post(url, "text/plain", bytes.NewReader([]byte(peer.LocalDescription().SDP)))
	require.NoError(t, err)
	answer, err := io.ReadAll(rsp.Body)
	_ = rsp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rsp.StatusCode, "answer: %s", answer)
	require.NoError(t, peer.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}))
	select {
	case <-open:
	case <-ctx.Done():
		t.Fatal("the data channel never opened")
	}
	return peer, dc
}

// channelPC is a client's data channel as a net.PacketConn.
type channelPC struct {
	dc   *webrtc.DataChannel
	in   chan []byte
	done chan struct{}
}

func (p *channelPC) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-p.in:
		return copy(b, d), clientServerAddr, nil
	case <-p.done:
		return 0, nil, net.ErrClosed
	}
}

func (p *channelPC) WriteTo(b []byte, _ net.Addr) (int, error) {
	if err := p.dc.Send(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *channelPC) Close() error {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	return nil
}
func (p *channelPC) LocalAddr() net.Addr              { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (p *channelPC) SetDeadline(time.Time) error      { return nil }
func (p *channelPC) SetReadDeadline(time.Time) error  { return nil }
func (p *channelPC) SetWriteDeadline(time.Time) error { return nil }
