package server

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// TestNetcodeTransport drives the adapter directly over loopback UDP: a
// connect event, a message each way, the ack handler, stats, counters, and
// Poll sending nothing: the tick's one datagram leaves at Flush.
func TestNetcodeTransport(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tr, err := ListenNetcode("127.0.0.1:0", netcode.ServerConfig{ProtocolID: 9})
	require.NoError(t, err)
	defer tr.Close()
	type ack struct {
		c  ClientID
		ch int
		id uint16
	}
	var acks []ack
	tr.SetAckHandler(func(c ClientID, ch int, id uint16) { acks = append(acks, ack{c, ch, id}) })

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	dialed := make(chan *netcode.Client, 1)
	go func() {
		c, err := netcode.Dial(ctx, tr.Addr().String(), netcode.ClientConfig{ProtocolID: 9})
		assert.NoError(t, err)
		dialed <- c
	}()
	var client ClientID
	var events []Event
	var c *netcode.Client
	for c == nil {
		tr.Poll(time.Now(), func(ev Event) { events = append(events, ev) })
		tr.Flush(time.Now())
		select {
		case c = <-dialed:
		case <-time.After(5 * time.Millisecond):
		}
	}
	require.NotNil(t, c)
	defer c.Close()
	pollUntil := func(cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); {
			require.True(t, time.Now().Before(deadline), "condition not reached")
			_ = c.Update(time.Now())
			tr.Poll(time.Now(), func(ev Event) { events = append(events, ev) })
			tr.Flush(time.Now())
			select { // wait for a datagram on either side (or a timer)
			case <-c.Wake():
			case <-tr.NetcodeServer().Wake():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	pollUntil(func() bool { return len(events) > 0 })
	require.Equal(t, ClientConnected, events[0].Kind)
	client = events[0].Client
	local := c.LocalAddr().(*net.UDPAddr).AddrPort()
	assert.Equal(t, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), local.Port()), events[0].Addr)
	assert.Nil(t, events[0].UserData, "plain mode: no connect token")

	// Client → server.
	_, err = c.Send(DefaultInputChannel, []byte("in"))
	require.NoError(t, err)
	c.Flush(time.Now())
	var got []byte
	pollUntil(func() bool {
		if m, ok := tr.ReadMessage(client, DefaultInputChannel); ok {
			got = append([]byte(nil), m...)
		}
		return got != nil
	})
	assert.Equal(t, "in", string(got))

	// Server → client: Poll sends nothing, Flush sends one datagram with
	// the message and the acks.
	before := tr.Counters().PacketsOut
	id, err := tr.Send(client, DefaultSnapshotChannel, []byte("snap"))
	require.NoError(t, err)
	tr.Poll(time.Now(), func(ev Event) { events = append(events, ev) })
	assert.Equal(t, before, tr.Counters().PacketsOut, "Poll sent a datagram")
	tr.Flush(time.Now())
	assert.Equal(t, before+1, tr.Counters().PacketsOut, "Flush: one datagram")
	var recv []byte
	pollUntil(func() bool {
		if m, ok := c.ReadMessage(DefaultSnapshotChannel); ok {
			recv = append([]byte(nil), m...)
		}
		return recv != nil
	})
	assert.Equal(t, "snap", string(recv))
	// The client's next packet acks the snapshot.
	_, _ = c.Send(DefaultInputChannel, []byte("x"))
	c.Flush(time.Now())
	pollUntil(func() bool { return len(acks) > 0 })
	assert.Contains(t, acks, ack{client, DefaultSnapshotChannel, id})

	st, ok := tr.Stats(client)
	require.True(t, ok)
	assert.Positive(t, st.RTT)
	_, ok = tr.Stats(client + 1000)
	assert.False(t, ok)
	ctr := tr.Counters()
	assert.Positive(t, ctr.PacketsIn)
	assert.Greater(t, ctr.PacketsOut, before)
	assert.Positive(t, ctr.BytesIn)
	assert.Positive(t, ctr.BytesOut)
	assert.Contains(t, ctr.Drops, "malformed")

	tr.Disconnect(client)
	pollUntil(func() bool { return c.Update(time.Now()) != nil })
	assert.ErrorIs(t, c.Update(time.Now()), netcode.ErrDisconnected)
}

// TestNetcodeTransportCountersComplete: the adapter reports every drop
// reason and every refusal reason of the connection layer from the start,
// at 0, so that each is exported before it first happens; a refused
// connection (a full server) is counted under its reason.
func TestNetcodeTransportCountersComplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hub := netsim.NewHub()
		defer hub.Close()
		tr, err := NewNetcodeTransport(hub, netcode.ServerConfig{ProtocolID: 9, MaxClients: 1})
		require.NoError(t, err)
		defer tr.Close()

		c := tr.Counters()
		st := tr.NetcodeServer().Stats()
		for name := range st.Drops() {
			assert.Contains(t, c.Drops, name)
			assert.Zero(t, c.Drops[name], name)
		}
		assert.Contains(t, c.Drops, "send_error")
		for reason := range st.Refusals() {
			assert.Contains(t, c.Refused, reason.String())
			assert.Zero(t, c.Refused[reason.String()], reason.String())
		}

		// One client fills the server; a second is refused.
		stop := make(chan struct{})
		served := make(chan struct{})
		go func() {
			defer close(served)
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
					tr.Poll(time.Now(), func(Event) {})
					tr.Flush(time.Now())
				}
			}
		}()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		first, err := netcode.DialConn(ctx, hub.Dial(netsim.Config{}, netsim.Config{}, 1), netsim.ServerAddr, netcode.ClientConfig{ProtocolID: 9})
		require.NoError(t, err)
		defer first.Close()
		_, err = netcode.DialConn(ctx, hub.Dial(netsim.Config{}, netsim.Config{}, 2), netsim.ServerAddr, netcode.ClientConfig{ProtocolID: 9})
		require.ErrorIs(t, err, netcode.ErrServerFull)
		close(stop)
		<-served
		assert.EqualValues(t, 1, tr.Counters().Refused["server_full"])
	})
}

// TestNetcodeTransportLinkBudgets: the transport tells the server whether
// its links can have a send budget: only with Endpoint.SendRate.
func TestNetcodeTransportLinkBudgets(t *testing.T) {
	for _, rate := range []int{0, 125000} {
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		require.NoError(t, err)
		cfg := netcode.ServerConfig{ProtocolID: 9}
		cfg.Endpoint.SendRate = rate
		tr, err := NewNetcodeTransport(pc, cfg)
		require.NoError(t, err)
		assert.Equal(t, rate > 0, tr.linkBudgets(), "SendRate %d", rate)
		require.NoError(t, tr.Close())
	}
}
