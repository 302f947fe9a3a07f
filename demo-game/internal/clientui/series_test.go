package clientui

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestNewSeriesRejectsBadArguments(t *testing.T) {
	tests := []struct {
		capacity int
		window   time.Duration
		want     string
	}{
		{1, time.Second, "capacity = 1"},
		{0, time.Second, "capacity = 0"},
		{10, 0, "window = 0s"},
		{10, -time.Second, "window = -1s"},
	}
	for _, tt := range tests {
		_, err := NewSeries(tt.capacity, tt.window)
		require.Error(t, err, "capacity %d window %v", tt.capacity, tt.window)
		assert.Contains(t, err.Error(), tt.want)
		assert.Contains(t, err.Error(), "clientui: ")
	}
}

func TestSeriesRingKeepsNewestSamplesOldestFirst(t *testing.T) {
	s, err := NewSeries(4, time.Hour)
	require.NoError(t, err)
	for i := 1; i <= 6; i++ {
		s.Add(at(i), float64(i))
	}
	require.Equal(t, 4, s.Len())
	var got []float64
	for i := 0; i < s.Len(); i++ {
		ts, v := s.At(i)
		assert.Equal(t, at(int(v)), ts, "timestamp stays with its value")
		got = append(got, v)
	}
	assert.Equal(t, []float64{3, 4, 5, 6}, got)
	last, ok := s.Last()
	assert.True(t, ok)
	assert.Equal(t, 6.0, last)

	s.Reset()
	assert.Equal(t, 0, s.Len())
	_, ok = s.Last()
	assert.False(t, ok)
}

func TestSeriesSummaryCountsOnlyTheWindow(t *testing.T) {
	s, err := NewSeries(100, 10*time.Second)
	require.NoError(t, err)
	// One sample per second at t = 0..14 s with value = 100 - t.
	for sec := 0; sec <= 14; sec++ {
		s.Add(at(sec*1000), float64(100-sec))
	}
	tests := []struct {
		name string
		now  time.Time
		want Summary
	}{
		// Window (4 s, 14 s]: samples 5..14 → values 95..86.
		{"at newest", at(14000), Summary{N: 10, Min: 86, Max: 95, Avg: 90.5, Last: 86}},
		// Window (0 s, 10 s]: samples 1..10; later samples are in the future.
		{"in the past", at(10000), Summary{N: 10, Min: 90, Max: 99, Avg: 94.5, Last: 90}},
		// Window (20 s, 30 s]: nothing.
		{"stale", at(30000), Summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, s.Summary(tt.now))
		})
	}
}

func TestSeriesStoresNonFiniteAsZero(t *testing.T) {
	s, err := NewSeries(4, time.Second)
	require.NoError(t, err)
	s.Add(at(1), math.NaN())
	s.Add(at(2), math.Inf(1))
	s.Add(at(3), 5)
	assert.Equal(t, Summary{N: 3, Min: 0, Max: 5, Avg: 5.0 / 3, Last: 5}, s.Summary(at(3)))
}

func TestSeriesAddDoesNotAllocate(t *testing.T) {
	s, err := NewSeries(64, time.Second)
	require.NoError(t, err)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add(at(i), float64(i))
		i++
	})
	assert.Zero(t, allocs)
}

func BenchmarkSeriesSummary(b *testing.B) {
	s, err := NewSeries(102, 10*time.Second)
	require.NoError(b, err)
	for i := range 102 {
		s.Add(at(i*100), float64(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Summary(at(10100))
	}
}

func ExampleSeries() {
	s, _ := NewSeries(8, 10*time.Second)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, rtt := range []float64{40, 42, 55, 41} {
		s.Add(start.Add(time.Duration(i)*time.Second), rtt)
	}
	sum := s.Summary(start.Add(3 * time.Second))
	fmt.Printf("n=%d min=%.0f max=%.0f avg=%.1f last=%.0f\n", sum.N, sum.Min, sum.Max, sum.Avg, sum.Last)
	// Output: n=4 min=40 max=55 avg=44.5 last=41
}
