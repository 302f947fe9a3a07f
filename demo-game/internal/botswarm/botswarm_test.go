package botswarm

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/netsim"
)

func TestScriptDeterministicAndValid(t *testing.T) {
	a, b, c := NewScript(5), NewScript(5), NewScript(6)
	const ticks = 60 * 60
	var fire, moving, dash, differ int
	for range ticks {
		ia, ib, ic := a.Next(), b.Next(), c.Next()
		require.Equal(t, ia, ib, "equal seeds give equal inputs")
		if ia != ic {
			differ++
		}
		buf, _ := ia.AppendBinary(nil)
		got, _, err := game.DecodeInput(buf)
		require.NoError(t, err, "every input is valid")
		require.Equal(t, ia, got)
		require.True(t, ia.AimX != 0 || ia.AimY != 0, "always aiming somewhere")
		if ia.Has(game.ButtonFire) {
			fire++
		}
		if ia.Buttons&(game.ButtonUp|game.ButtonDown|game.ButtonLeft|game.ButtonRight) != 0 {
			moving++
		}
		if ia.Has(game.ButtonDash) {
			dash++
		}
	}
	assert.Greater(t, differ, ticks/2, "other seeds play otherwise")
	assert.InDelta(t, 0.25, float64(fire)/ticks, 0.15, "fires in bursts about a quarter of the time")
	assert.Greater(t, moving, ticks/2, "mostly moving")
	assert.Positive(t, dash)
	assert.Less(t, dash, ticks/60, "dashes now and then")
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Addr: "127.0.0.1:7777", Bots: 1}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"no addr", func(c *Config) { c.Addr = "" }, `Addr = ""`},
		{"no port", func(c *Config) { c.Addr = "127.0.0.1:0" }, "non-zero port"},
		{"zero bots", func(c *Config) { c.Bots = 0 }, "Bots = 0, want 1..1000"},
		{"many bots", func(c *Config) { c.Bots = 1001 }, "Bots = 1001"},
		{"frame rate", func(c *Config) { c.FrameRate = 500 }, "FrameRate = 500, want 0 (default 60) or 1..240"},
		{"drivers", func(c *Config) { c.Drivers = -1 }, "Drivers = -1"},
		{"dial timeout", func(c *Config) { c.DialTimeout = -time.Second }, "DialTimeout = -1s"},
		{"dial parallel", func(c *Config) { c.DialParallel = -1 }, "DialParallel = -1"},
		{"link", func(c *Config) { c.Link = netsim.Config{Loss: 2} }, "Link: netsim: invalid config: Loss = 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7777": true, "127.3.2.1:1": true, "[::1]:7777": true, "localhost:7777": true,
		"10.0.0.1:7777": false, "192.168.1.2:80": false, "nonsense": false,
	} {
		assert.Equal(t, want, IsLoopback(addr), addr)
	}
}

const metricsText = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 12
go_memstats_heap_alloc_bytes 1.2345e+07
go_memstats_heap_inuse_bytes 1.5e+07
go_gc_duration_seconds{quantile="0.5"} 3e-05
tickwire_server_clients 20
tickwire_server_ticks_total 6000
tickwire_server_tick_overruns_total 3
tickwire_server_ticks_skipped_total 0
tickwire_server_disconnects_total 1
tickwire_server_drops_total{reason="input_late"} 7
tickwire_server_client_send_budget_bytes_per_second{quantile="0.5"} 16000
`

func TestParseMetrics(t *testing.T) {
	s, err := ParseMetrics(strings.NewReader(metricsText))
	require.NoError(t, err)
	assert.Equal(t, ServerSample{HeapAlloc: 12345000, HeapInuse: 15000000, Goroutines: 12, Clients: 20,
		Ticks: 6000, Overruns: 3, Disconnects: 1, SendBudget: 16000}, s)

	_, err = ParseMetrics(strings.NewReader(strings.ReplaceAll(metricsText, "tickwire_server_clients 20\n", "")))
	assert.ErrorContains(t, err, "metric tickwire_server_clients missing")
	_, err = ParseMetrics(strings.NewReader(strings.ReplaceAll(metricsText, "go_goroutines 12", "go_goroutines many")))
	assert.ErrorContains(t, err, "metric go_goroutines")
}

func FuzzParseMetrics(f *testing.F) {
	f.Add(metricsText)
	f.Add("go_goroutines\n")
	f.Add("go_goroutines 1 2 3\n#\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseMetrics(strings.NewReader(text))
		if err == nil && !strings.Contains(text, "tickwire_server_ticks_total") {
			t.Fatalf("parsed %+v without every metric", s)
		}
	})
}

// samples returns n samples one second apart, with heap and goroutines from
// the functions of the sample's index.
func samples(n int, heap func(i int) uint64, gor func(i int) int, overruns func(i int) uint64) []ServerSample {
	ss := make([]ServerSample, n)
	for i := range ss {
		ss[i] = ServerSample{At: time.Duration(i) * time.Second, HeapInuse: heap(i), Goroutines: gor(i),
			Ticks: uint64(i) * 60, Overruns: overruns(i), Clients: 10}
	}
	return ss
}

func TestCheck(t *testing.T) {
	bots := Stats{Bots: 10, Connected: 10, Welcomed: 10, Snapshots: 3000, Frames: 6000, Stalls: 6}
	flatHeap := func(i int) uint64 { return 100 << 20 }
	flatGor := func(int) int { return 10 }
	noOverruns := func(int) uint64 { return 0 }
	warmupOverruns := func(i int) uint64 { return uint64(min(i, 3)) * 5 } // only while connecting
	tests := []struct {
		name   string
		rep    SoakReport
		failed []string
	}{
		{"flat", SoakReport{Bots: bots, Samples: samples(50, flatHeap, flatGor, warmupOverruns)}, nil},
		{"heap grows", SoakReport{Bots: bots, Samples: samples(50, func(i int) uint64 { return uint64(100+2*i) << 20 }, flatGor, noOverruns)},
			[]string{"server heap flat"}},
		{"goroutines leak", SoakReport{Bots: bots, Samples: samples(50, flatHeap, func(i int) int { return 10 + i/5 }, noOverruns)},
			[]string{"server goroutines flat"}},
		{"overruns", SoakReport{Bots: bots, Samples: samples(50, flatHeap, flatGor, func(i int) uint64 { return uint64(i) })},
			[]string{"tick overruns within bound"}},
		{"skipped ticks", SoakReport{Bots: bots, Samples: func() []ServerSample {
			ss := samples(50, flatHeap, flatGor, noOverruns)
			for i := range ss {
				ss[i].Skipped = uint64(i) // one tick skipped each second: 1.7%
			}
			return ss
		}()}, []string{"tick overruns within bound"}},
		{"a bot missing", SoakReport{Bots: Stats{Bots: 10, Connected: 9, Welcomed: 8, Ended: 1, Snapshots: 1, Frames: 100, Stalls: 2},
			Samples: samples(50, flatHeap, flatGor, noOverruns)},
			[]string{"every bot connected", "no reliable message lost (every welcome arrived)", "no connection ended", "interpolation stalls within bound", "server counts every bot"}},
		{"too few samples", SoakReport{Bots: bots, Samples: samples(3, flatHeap, flatGor, noOverruns)}, []string{"server samples"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var failed []string
			for _, c := range check(tt.rep, SoakLimits{RequireSamples: true}.withDefaults()) {
				if !c.OK {
					failed = append(failed, c.Name)
				}
			}
			assert.Equal(t, tt.failed, failed)
		})
	}
	t.Run("samples optional", func(t *testing.T) {
		cs := check(SoakReport{Bots: bots}, SoakLimits{}.withDefaults())
		for _, c := range cs {
			assert.True(t, c.OK, c.Name)
		}
	})
}

func TestStatsSubAndRates(t *testing.T) {
	a := Stats{Elapsed: 2 * time.Second, Connected: 4, Corrections: 8, Frames: 400, Stalls: 2, Snapshots: 240}
	b := Stats{Elapsed: 10 * time.Second, Connected: 4, Corrections: 16, Frames: 2400, Stalls: 2, Snapshots: 1200}
	d := b.Sub(a)
	assert.Equal(t, 8*time.Second, d.Elapsed)
	assert.InDelta(t, 0.25, d.CorrectionsPerBotSecond(), 1e-9)
	assert.InDelta(t, 30, d.SnapshotsPerBotSecond(), 1e-9)
	assert.Zero(t, d.StallRatio())
	assert.InDelta(t, 0.005, a.StallRatio(), 1e-9)
	assert.Zero(t, Stats{}.StallRatio())
	assert.Zero(t, Stats{}.CorrectionsPerBotSecond())

	var sb strings.Builder
	b.WriteLine(&sb, "t=10s")
	assert.Contains(t, sb.String(), "corrections 0.40/s/bot")
	assert.Contains(t, sb.String(), "stalls 0.083% (2 of 2400 frames)")
}

func TestSummarize(t *testing.T) {
	s := summarize(4, 1, time.Second, []BotStats{
		{Connected: true, Welcomed: true, RTT: 100 * time.Millisecond, Loss: 0.04},
		{Connected: true, Welcomed: true, RTT: 120 * time.Millisecond, Loss: 0.06},
		{Connected: true, Ended: "timeout", RTT: 300 * time.Millisecond, Loss: 0.2},
	})
	assert.Equal(t, 3, s.Connected)
	assert.Equal(t, 2, s.Welcomed)
	assert.Equal(t, 1, s.Ended)
	assert.Equal(t, 1, s.DialFailed)
	assert.Equal(t, 120*time.Millisecond, s.RTTMedian)
	assert.Equal(t, 300*time.Millisecond, s.RTTMax)
	assert.InDelta(t, 0.1, s.LossMean, 1e-9)
}

func TestWriteEvents(t *testing.T) {
	var out bytes.Buffer
	base := Stats{Bots: 3, Connected: 3}
	got := writeEvents(&out, base, base, time.Second)
	assert.Equal(t, base, got)
	assert.Empty(t, out.String(), "no event, no line")

	lost := base
	lost.Lost, lost.Ended, lost.EndReason = 3, 3, "disconnected: netcode: connection timed out; reconnecting in 400ms"
	writeEvents(&out, base, lost, 5200*time.Millisecond)
	assert.Equal(t, "t=5.2s  3 connection(s) lost: disconnected: netcode: connection timed out; reconnecting in 400ms\n", out.String())

	out.Reset()
	back := lost
	back.Reconnects, back.Ended, back.EndReason = 2, 1, "connecting"
	writeEvents(&out, lost, back, 7*time.Second)
	assert.Equal(t, "t=7s    2 bot(s) reconnected; 2 of 3 connected now\n", out.String())
}

func TestServerSampleLineShowsSendBudget(t *testing.T) {
	var with, without strings.Builder
	ServerSample{Clients: 3, SendBudget: 16000}.writeLine(&with)
	ServerSample{Clients: 3}.writeLine(&without)
	assert.Contains(t, with.String(), "send budget median 128 kbit/s")
	assert.NotContains(t, without.String(), "send budget", "a server without budgets shows none")
}
