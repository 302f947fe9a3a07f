package endpoint_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// streamConfig is the endpoint configuration of the lossy-stream
// measurement: the default channels with queues long enough that neither
// side's bound ever refuses or drops a message of the stream, so the figures
// measure recovery from loss and nothing else.
func streamConfig() endpoint.Config {
	cfg := endpoint.DefaultConfig()
	cfg.Channels = slices.Clone(cfg.Channels)
	cfg.Channels[chReliable].MaxQueuedMessages = 4096
	cfg.Channels[chReliable].MaxReceivedMessages = 4096
	return cfg
}

// streamLatency sends n 32-byte reliable-ordered messages, one per
// millisecond, over links that lose loss of the packets each way
// (independently) and delay them 50 ± 10 ms (jitter reorders, as the
// netsim proxy does). Both endpoints flush every millisecond. It returns
// each message's delivery latency, from Send to ReadMessage, sorted; time
// is simulated, so the result depends only on the code and the seed.
func streamLatency(t testing.TB, cfg endpoint.Config, loss float64, seed uint64, n int) []time.Duration {
	t.Helper()
	link := netsim.Config{Loss: loss, Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond}
	p := newPair(t, cfg, link, link, seed)
	sentAt := make([]time.Time, n)
	lat := make([]time.Duration, 0, n)
	next := 0
	for tick := 0; len(lat) < n; tick++ {
		require.Less(t, tick, 60*n, "stream stalled: %d of %d delivered", len(lat), n)
		p.deliver(time.Millisecond)
		for msg, ok := p.b.ReadMessage(chReliable); ok; msg, ok = p.b.ReadMessage(chReliable) {
			i := number(msg)
			require.Equal(t, uint32(len(lat)), i, "delivered out of order")
			lat = append(lat, p.now.Sub(sentAt[i]))
		}
		if next < n {
			_, err := p.a.Send(chReliable, numbered(uint32(next), 32))
			require.NoError(t, err)
			sentAt[next] = p.now
			next++
		}
		p.flush()
	}
	slices.Sort(lat)
	return lat
}

// percentile returns the q-quantile (0 < q ≤ 1) of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// TestStreamLatencyUnderLoss measures the lossy stream (10,000 messages at
// 1000/s, 50 ± 10 ms one way) at 5% and 20% loss, and checks that loss
// detection from acks and redundant copies at least halve the median and
// the 99th percentile of what the endpoint did before them. The before
// figures come from this same function run against the package at commit
// fc4d8ba (git worktree add /tmp/old fc4d8ba; copy this file there; go
// test -run TestStreamLatencyUnderLoss -v ./netcode/endpoint/): time is
// simulated, so they are exact and do not depend on the machine.
func TestStreamLatencyUnderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 10 s of traffic per case")
	}
	tests := []struct {
		loss                 float64
		beforeP50, beforeP99 time.Duration
	}{
		{0.05, 153 * time.Millisecond, 272 * time.Millisecond},
		{0.20, 321 * time.Millisecond, 853 * time.Millisecond},
	}
	for _, tt := range tests {
		lat := streamLatency(t, streamConfig(), tt.loss, 7, 10_000)
		p50, p99 := percentile(lat, 0.5), percentile(lat, 0.99)
		t.Logf("loss %2.0f%%: p50 %v p99 %v max %v (before: p50 %v p99 %v)",
			tt.loss*100, p50, p99, lat[len(lat)-1], tt.beforeP50, tt.beforeP99)
		assert.Less(t, p50, tt.beforeP50/2, "loss %v: p50", tt.loss)
		assert.Less(t, p99, tt.beforeP99/2, "loss %v: p99", tt.loss)
	}
}
