package clientui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tickwire/tickwire/server/client"
)

func TestNewHUDRejectsBadInterval(t *testing.T) {
	for _, iv := range []time.Duration{0, -time.Millisecond, 11 * time.Second} {
		_, err := NewHUD(10*time.Second, iv)
		require.Error(t, err, "interval %v", iv)
		assert.Contains(t, err.Error(), "interval = "+iv.String())
	}
}

func TestHUDRecordsAtAFixedInterval(t *testing.T) {
	h, err := NewHUD(DefaultHUDWindow, DefaultHUDInterval)
	require.NoError(t, err)
	// Frames every 16 ms for 1 s: about 10 samples, not 62.
	stored := 0
	for f := 0; f <= 62; f++ {
		if h.Record(at(f*16), Sample{RTT: 40 * time.Millisecond}) {
			stored++
		}
	}
	assert.Equal(t, 10, stored)
	assert.Equal(t, 10, h.Series(MetricRTT).Len())
}

func TestHUDConvertsEveryMetricToItsUnit(t *testing.T) {
	h, err := NewHUD(DefaultHUDWindow, DefaultHUDInterval)
	require.NoError(t, err)
	h.Record(at(0), Sample{
		RTT: 42 * time.Millisecond, Jitter: 1500 * time.Microsecond, Loss: 0.05,
		InKbps: 120, OutKbps: 24, SnapshotRate: 30, InterpDelay: 100 * time.Millisecond,
	})
	want := map[Metric]float64{
		MetricRTT: 42, MetricJitter: 1.5, MetricLoss: 5, MetricInKbps: 120,
		MetricOutKbps: 24, MetricSnapshotRate: 30, MetricInterpDelay: 100,
	}
	require.Len(t, want, int(NumMetrics))
	for m, v := range want {
		got, ok := h.Series(m).Last()
		require.True(t, ok, m.Name())
		assert.InDelta(t, v, got, 1e-9, m.Name())
	}
}

func TestHUDCaptionAndTop(t *testing.T) {
	h, err := NewHUD(DefaultHUDWindow, DefaultHUDInterval)
	require.NoError(t, err)
	assert.Equal(t, "RTT -- ms", h.Caption(MetricRTT, at(0)))
	assert.Equal(t, 50.0, h.Top(MetricRTT, at(0)), "empty graph uses the minimum scale")

	for i, rtt := range []int{40, 44, 120, 60} {
		h.Record(at(i*100), Sample{RTT: time.Duration(rtt) * time.Millisecond, Loss: 0.02})
	}
	now := at(300)
	assert.Equal(t, "RTT 60.0 ms  40/66/120", h.Caption(MetricRTT, now))
	assert.Equal(t, "loss 2.0 %  2.0/2.0/2.0", h.Caption(MetricLoss, now))
	assert.Equal(t, 200.0, h.Top(MetricRTT, now), "max 120 rounds up to 200")
	assert.Equal(t, 5.0, h.Top(MetricLoss, now), "2% stays on the 5% minimum scale")
}

func TestMetricNames(t *testing.T) {
	seen := map[string]bool{}
	for m := range NumMetrics {
		assert.NotEmpty(t, m.Name())
		assert.NotEmpty(t, m.Unit())
		assert.False(t, seen[m.Name()], "duplicate name %q", m.Name())
		seen[m.Name()] = true
	}
	assert.Equal(t, "metric(99)", Metric(99).Name())
}

// TestBudgetText: the status line shows the server's send budget and link
// estimate when the server has a budget, and nothing about it otherwise.
func TestBudgetText(t *testing.T) {
	st := client.Stats{Corrections: 2, Frames: 100, InputLead: 3}
	assert.Empty(t, budgetText(st))
	st.ServerSendBudget, st.ServerEstimatedRate = 16000, 15000
	assert.Equal(t, " | server budget 128 kbit/s, link est. 120 kbit/s", budgetText(st))
}
