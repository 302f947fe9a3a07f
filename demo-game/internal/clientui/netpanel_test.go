package clientui

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
)

func TestNewNetPanelValidates(t *testing.T) {
	_, err := NewNetPanel(netsim.Config{Loss: 2})
	require.Error(t, err)
	assert.ErrorIs(t, err, netsim.ErrInvalidConfig)
}

func TestNetPanelStepsAlongLadders(t *testing.T) {
	p, err := NewNetPanel(netsim.Config{Latency: 35 * time.Millisecond, Loss: 0.5})
	require.NoError(t, err)
	steps := []struct {
		a       Action
		changed bool
		want    netsim.Config
	}{
		{ActionLatencyUp, true, netsim.Config{Latency: 50 * time.Millisecond, Loss: 0.5}}, // joins the ladder
		{ActionLatencyDown, true, netsim.Config{Latency: 30 * time.Millisecond, Loss: 0.5}},
		{ActionLossUp, false, netsim.Config{Latency: 30 * time.Millisecond, Loss: 0.5}}, // top of the ladder
		{ActionLossDown, true, netsim.Config{Latency: 30 * time.Millisecond, Loss: 0.3}},
		{ActionJitterUp, true, netsim.Config{Latency: 30 * time.Millisecond, Loss: 0.3, Jitter: 2 * time.Millisecond}},
		{ActionDuplicateUp, true, netsim.Config{Latency: 30 * time.Millisecond, Loss: 0.3, Jitter: 2 * time.Millisecond, Duplicate: 0.01}},
		{ActionTogglePrediction, false, netsim.Config{Latency: 30 * time.Millisecond, Loss: 0.3, Jitter: 2 * time.Millisecond, Duplicate: 0.01}},
		{ActionLinkReset, true, netsim.Config{}},
		{ActionLinkReset, false, netsim.Config{}},
		{ActionLatencyDown, false, netsim.Config{}}, // bottom of the ladder
	}
	for i, s := range steps {
		got, changed := p.Apply(s.a)
		assert.Equal(t, s.changed, changed, "step %d", i)
		assert.Equal(t, s.want, got, "step %d", i)
		assert.Equal(t, s.want, p.Config(), "step %d", i)
		assert.NoError(t, got.Validate(), "step %d", i)
	}
}

func TestNetPanelLadderEndsStayValid(t *testing.T) {
	p, err := NewNetPanel(netsim.Config{})
	require.NoError(t, err)
	for range 50 {
		for _, a := range []Action{ActionLossUp, ActionLatencyUp, ActionJitterUp, ActionDuplicateUp} {
			c, _ := p.Apply(a)
			require.NoError(t, c.Validate())
		}
	}
	c := p.Config()
	assert.Equal(t, netsim.Config{Loss: 0.5, Latency: 500 * time.Millisecond, Jitter: 100 * time.Millisecond, Duplicate: 0.2}, c)
}

func TestNetPanelLines(t *testing.T) {
	p, err := NewNetPanel(netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Duplicate: 0.01})
	require.NoError(t, err)
	lines := p.Lines()
	require.Len(t, lines, 6)
	assert.Equal(t, "loss        5.0 %   [ ]", lines[1])
	assert.Equal(t, "latency      50 ms  - =", lines[2])
	assert.Equal(t, "jitter       10 ms  ; '", lines[3])
	assert.Equal(t, "duplicate   1.0 %   , .", lines[4])

	p.SetStatus("offline: no socket")
	assert.Equal(t, "offline: no socket", p.Lines()[6])
	p.SetResult(errors.New("netsim: boom"))
	assert.Equal(t, "error: netsim: boom", p.Lines()[6], "an error wins over the status")
	p.SetResult(nil)
	assert.Equal(t, "offline: no socket", p.Lines()[6])
}
