package endpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// pmtuRun streams reliable and unreliable messages over a link that drops
// datagrams above maxDatagram, with MaxPathMTU 1452, and returns the
// sender's stats after dur, checking that every reliable message arrived
// in order.
func pmtuRun(t *testing.T, maxDatagram int, dur time.Duration) (endpoint.Stats, *pair) {
	t.Helper()
	cfg := endpoint.Config{MaxPathMTU: 1452}
	link := netsim.Config{Latency: 20 * time.Millisecond, MaxDatagramSize: maxDatagram}
	p := newPair(t, cfg, link, link, 11)
	sent, got := 0, 0
	for at := time.Duration(0); at < dur; at += 10 * time.Millisecond {
		for range 4 {
			if _, err := p.a.Send(chReliable, numbered(uint32(sent), 200)); err == nil {
				sent++
			}
		}
		p.step(10 * time.Millisecond)
		for m, ok := p.b.ReadMessage(chReliable); ok; m, ok = p.b.ReadMessage(chReliable) {
			require.Equal(t, uint32(got), number(m), "reliable messages arrive in order")
			got++
		}
	}
	// Let the last messages arrive.
	for range 100 {
		p.step(10 * time.Millisecond)
		for m, ok := p.b.ReadMessage(chReliable); ok; m, ok = p.b.ReadMessage(chReliable) {
			require.Equal(t, uint32(got), number(m))
			got++
		}
	}
	assert.Equal(t, sent, got, "no reliable message lost while probing")
	return p.a.Stats(), p
}

func TestPathMTUSettlesBelowLinkLimit(t *testing.T) {
	st, p := pmtuRun(t, 1300, 5*time.Second)
	t.Logf("link 1300: PathMTU %d after %d probes (%d lost), oversize drops %d",
		st.PathMTU, st.MTUProbes, st.MTUProbesLost, p.ab.Stats().DroppedOversize)
	assert.LessOrEqual(t, st.PathMTU, 1300)
	assert.Greater(t, st.PathMTU, 1300-16-1, "within the search step of the link's limit")
	assert.Equal(t, st.MTUProbesLost, p.ab.Stats().DroppedOversize, "every oversize drop was a probe: no data packet was too large")
}

func TestPathMTUSettlesAtMaximum(t *testing.T) {
	st, _ := pmtuRun(t, 1500, 5*time.Second)
	t.Logf("link 1500: PathMTU %d after %d probes (%d lost)", st.PathMTU, st.MTUProbes, st.MTUProbesLost)
	assert.Equal(t, 1452, st.PathMTU)
	assert.Zero(t, st.MTUProbesLost)
}

// TestPathMTUFallsBack: the link's limit drops under the size in use;
// large packets stop arriving, the endpoint falls back to MaxPacketSize
// and, searching again, settles under the new limit. Reliable messages
// lost in the large packets are resent.
func TestPathMTUFallsBack(t *testing.T) {
	cfg := endpoint.Config{MaxPathMTU: 1452}
	link := netsim.Config{Latency: 20 * time.Millisecond}
	p := newPair(t, cfg, link, link, 12)
	sent, got := 0, 0
	run := func(d time.Duration) {
		for at := time.Duration(0); at < d; at += 10 * time.Millisecond {
			for range 8 {
				if _, err := p.a.Send(chReliable, numbered(uint32(sent), 200)); err == nil {
					sent++
				}
			}
			p.step(10 * time.Millisecond)
			for m, ok := p.b.ReadMessage(chReliable); ok; m, ok = p.b.ReadMessage(chReliable) {
				require.Equal(t, uint32(got), number(m))
				got++
			}
		}
	}
	run(3 * time.Second)
	require.Equal(t, 1452, p.a.Stats().PathMTU)
	link.MaxDatagramSize = 1280
	require.NoError(t, p.ab.SetConfig(link))
	run(time.Second)
	assert.Equal(t, endpoint.DefaultMaxPacketSize, p.a.Stats().PathMTU, "fell back")
	run(15 * time.Second)
	st := p.a.Stats()
	t.Logf("after the drop to 1280: PathMTU %d, resent %d", st.PathMTU, st.MessagesResent)
	assert.LessOrEqual(t, st.PathMTU, 1280)
	assert.Greater(t, st.PathMTU, 1280-16-1)
	assert.Greater(t, got, sent-300, "the stream kept flowing")
}
