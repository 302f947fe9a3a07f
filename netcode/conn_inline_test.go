package netcode

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReceiveInline: with ReceiveInline the server and (once connected)
// the client read their sockets from the goroutine that calls
// Receive/Update and Wait, with no reader goroutine, in plain and secure
// mode; an echo loop driven by Wait gets every message back, as it does
// with reader goroutines, and Wait returns at its deadline when nothing
// comes.
func TestReceiveInline(t *testing.T) {
	for _, tt := range []struct {
		inline, secure bool
	}{{true, false}, {true, true}, {false, false}} {
		name := map[bool]string{true: "inline", false: "reader goroutine"}[tt.inline] + map[bool]string{true: ", secure", false: ""}[tt.secure]
		inline := tt.inline
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			scfg := ServerConfig{ProtocolID: 9, ReceiveInline: inline, KeepaliveInterval: time.Minute, Timeout: 2 * time.Minute}
			key := [KeySize]byte{7}
			if tt.secure {
				scfg.TokenKey = &key
			}
			pc := listenLoopback(t)
			srv, err := NewServer(pc, scfg)
			require.NoError(t, err)
			ccfg := ClientConfig{ProtocolID: 9, ReceiveInline: inline, KeepaliveInterval: time.Minute, Timeout: 2 * time.Minute}
			if tt.secure {
				tok, err := IssueConnectToken(key, ConnectToken{ProtocolID: 9, ClientID: 1, Expires: time.Now().Add(time.Hour),
					ServerAddrs: []netip.AddrPort{pc.LocalAddr().(*net.UDPAddr).AddrPort()}}, newSeededReader(5))
				require.NoError(t, err)
				ccfg.Token = tok
			}
			assert.Equal(t, inline, srv.rx.inline)
			assert.Equal(t, !inline, srv.rx.running, "a reader goroutine")
			stop, done := make(chan struct{}), make(chan struct{})
			go func() { // the echo server's loop
				defer close(done)
				var ids []ClientID
				for {
					select {
					case <-stop:
						return
					default:
					}
					srv.Wait(time.Now().Add(5 * time.Millisecond))
					now := time.Now()
					srv.Receive(now)
					ids = srv.AppendClients(ids[:0])
					for _, id := range ids {
						for m, ok := srv.ReadMessage(id, 1); ok; m, ok = srv.ReadMessage(id, 1) {
							_, err := srv.Send(id, 1, m)
							assert.NoError(t, err)
						}
					}
					srv.Flush(now)
				}
			}()

			cli, err := dialTest(t, srv.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort(), ccfg)
			require.NoError(t, err)
			assert.Equal(t, inline, cli.rx.inline)
			assert.Equal(t, !inline, cli.rx.running, "a reader goroutine once connected")
			msg := make([]byte, 32)
			for i := range 200 {
				binary.LittleEndian.PutUint64(msg, uint64(i))
				_, err := cli.Send(1, msg) // unreliable: nothing is resent or probed after the last
				require.NoError(t, err)
				require.NoError(t, cli.Update(time.Now()))
				deadline := time.Now().Add(10 * time.Second)
				for {
					require.True(t, time.Now().Before(deadline), "echo %d within 10 s", i)
					cli.Wait(time.Now().Add(100 * time.Millisecond))
					require.NoError(t, cli.Update(time.Now()))
					got, ok := cli.ReadMessage(1)
					if ok {
						require.Equal(t, uint64(i), binary.LittleEndian.Uint64(got))
						break
					}
				}
			}
			assert.GreaterOrEqual(t, cli.Stats().PacketsReceived, uint64(200))
			// Nothing more is coming (keepalives every minute): Wait
			// returns at its deadline.
			// (A reader goroutine's signal may outlive the datagrams it was
			// for: one early return is allowed there.)
			woke := cli.Wait(time.Now().Add(20 * time.Millisecond))
			if woke && !inline {
				woke = cli.Wait(time.Now().Add(20 * time.Millisecond))
			}
			assert.False(t, woke)

			require.NoError(t, cli.Close())
			cli.Wait(time.Now().Add(20 * time.Millisecond)) // a closed client's Wait returns
			close(stop)
			<-done
			require.NoError(t, srv.Close())
		})
	}
}
