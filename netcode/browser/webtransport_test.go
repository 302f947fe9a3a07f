package browser

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

func TestDevCertificate(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cert, hash, err := DevCertificate(now, []string{"127.0.0.1", "localhost"}, rand.Reader)
	require.NoError(t, err)
	leaf := cert.Leaf
	require.NotNil(t, leaf)
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "key type %T, want ECDSA", leaf.PublicKey)
	assert.Equal(t, elliptic.P256(), pub.Curve)
	validity := leaf.NotAfter.Sub(leaf.NotBefore)
	assert.LessOrEqual(t, validity, 14*24*time.Hour, "browsers accept a hashed certificate valid for 14 days at most")
	assert.True(t, leaf.NotBefore.Before(now) && leaf.NotAfter.After(now), "valid now")
	assert.Equal(t, sha256.Sum256(cert.Certificate[0]), hash, "the hash is of the DER certificate")
	require.NoError(t, leaf.VerifyHostname("127.0.0.1"))
	require.NoError(t, leaf.VerifyHostname("localhost"))

	again, hash2, err := DevCertificate(now, []string{"127.0.0.1"}, rand.Reader)
	require.NoError(t, err)
	assert.NotEqual(t, hash, hash2, "a new certificate (and key) every time")
	assert.NotEqual(t, cert.Leaf.SerialNumber, again.Leaf.SerialNumber)
}

// TestWebTransportEndToEnd: a WebTransport client (webtransport-go's, the
// same protocol as a browser's) opens a session to ListenWebTransport, and
// a netcode client connects over its datagrams to a netcode server on the
// Conn; closing the session disconnects it at once.
func TestWebTransportEndToEnd(t *testing.T) {
	cert, _, err := DevCertificate(time.Now(), []string{"127.0.0.1"}, rand.Reader)
	require.NoError(t, err)
	pipe, _ := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	conn := NewConn(pipe, Config{})
	srv, err := netcode.NewServer(conn, netcode.ServerConfig{ProtocolID: 9})
	require.NoError(t, err)
	wt, err := ListenWebTransport(conn, WebTransportConfig{Certificate: cert})
	require.NoError(t, err)
	defer func() { require.NoError(t, wt.Close()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	loopDone := make(chan struct{})
	events := make(chan netcode.Event, 8)
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

	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	d := &webtransport.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{http3.NextProtoH3}},
		QUICConfig:      &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true},
	}
	defer d.Close()
	rsp, sess, err := d.Dial(ctx, wt.URL("127.0.0.1"), http.Header{})
	require.NoError(t, err, "open a session to %s", wt.URL("127.0.0.1"))
	require.Equal(t, http.StatusOK, rsp.StatusCode)

	cl, err := netcode.DialConn(ctx, &sessionPC{s: sess}, clientServerAddr.AddrPort(), netcode.ClientConfig{ProtocolID: 9})
	require.NoError(t, err, "netcode handshake over WebTransport datagrams")
	defer cl.Close()
	ev := <-events
	require.Equal(t, netcode.EventConnect, ev.Kind)
	assert.True(t, IsSessionAddr(ev.Addr), "the browser client's address %v is its session's", ev.Addr)

	began := time.Now()
	require.NoError(t, sess.CloseWithError(0, "tab closed"))
	select {
	case ev = <-events:
	case <-ctx.Done():
		t.Fatal("no disconnect after the session closed")
	}
	assert.Equal(t, netcode.EventDisconnect, ev.Kind)
	assert.Equal(t, netcode.ReasonClosed, ev.Reason, "a closed session is a disconnect, not a timeout")
	assert.Less(t, time.Since(began), time.Second)
}

// sessionPC is a client's WebTransport session as a net.PacketConn (what
// browserconn does in the browser).
type sessionPC struct{ s *webtransport.Session }

func (p *sessionPC) ReadFrom(b []byte) (int, net.Addr, error) {
	d, err := p.s.ReceiveDatagram(context.Background())
	if err != nil {
		return 0, nil, net.ErrClosed
	}
	return copy(b, d), clientServerAddr, nil
}

func (p *sessionPC) WriteTo(b []byte, _ net.Addr) (int, error) {
	if err := p.s.SendDatagram(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *sessionPC) Close() error                     { return p.s.CloseWithError(0, "") }
func (p *sessionPC) LocalAddr() net.Addr              { return p.s.LocalAddr() }
func (p *sessionPC) SetDeadline(time.Time) error      { return nil }
func (p *sessionPC) SetReadDeadline(time.Time) error  { return nil }
func (p *sessionPC) SetWriteDeadline(time.Time) error { return nil }
