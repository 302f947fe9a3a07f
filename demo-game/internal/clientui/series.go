package clientui

import (
	"fmt"
	"math"
	"time"
)

// Series is a fixed-size ring of timestamped samples: the newest Cap samples,
// of which those younger than the window count for Summary and for graphs.
// Adding never allocates; once the ring is full the oldest sample is
// overwritten.
type Series struct {
	window time.Duration
	times  []time.Time
	vals   []float64
	head   int // index of the oldest sample
	n      int // number of samples held
}

// NewSeries returns an empty series holding up to capacity samples, of which
// those no older than window count. capacity must be at least 2 and window
// positive.
func NewSeries(capacity int, window time.Duration) (*Series, error) {
	if capacity < 2 {
		return nil, fmt.Errorf("clientui: series capacity = %d: must be at least 2", capacity)
	}
	if window <= 0 {
		return nil, fmt.Errorf("clientui: series window = %v: must be positive", window)
	}
	return &Series{
		window: window,
		times:  make([]time.Time, capacity),
		vals:   make([]float64, capacity),
	}, nil
}

// Window returns the time span the series covers.
func (s *Series) Window() time.Duration { return s.window }

// Cap returns how many samples the ring holds at most.
func (s *Series) Cap() int { return len(s.vals) }

// Len returns how many samples the ring holds now (some may be older than
// the window).
func (s *Series) Len() int { return s.n }

// Add appends the sample v taken at now, overwriting the oldest sample when
// the ring is full. NaN and infinite values are stored as 0 so that one bad
// reading cannot poison the summary.
func (s *Series) Add(now time.Time, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	i := (s.head + s.n) % len(s.vals)
	if s.n == len(s.vals) {
		s.head = (s.head + 1) % len(s.vals)
	} else {
		s.n++
	}
	s.times[i] = now
	s.vals[i] = v
}

// At returns the i-th sample held, oldest first (0 ≤ i < Len).
func (s *Series) At(i int) (time.Time, float64) {
	j := (s.head + i) % len(s.vals)
	return s.times[j], s.vals[j]
}

// Last returns the newest sample's value and whether there is one.
func (s *Series) Last() (float64, bool) {
	if s.n == 0 {
		return 0, false
	}
	_, v := s.At(s.n - 1)
	return v, true
}

// Reset drops every sample.
func (s *Series) Reset() { s.head, s.n = 0, 0 }

// Summary describes the samples of a series that fall in its window.
type Summary struct {
	N             int     // number of samples in the window
	Min, Max, Avg float64 // zero when N == 0
	Last          float64 // newest sample in the window
}

// Summary returns the minimum, maximum, mean and newest value of the samples
// taken in (now-window, now].
func (s *Series) Summary(now time.Time) Summary {
	var sum Summary
	from := now.Add(-s.window)
	total := 0.0
	for i := 0; i < s.n; i++ {
		t, v := s.At(i)
		if !t.After(from) || t.After(now) {
			continue
		}
		if sum.N == 0 || v < sum.Min {
			sum.Min = v
		}
		if sum.N == 0 || v > sum.Max {
			sum.Max = v
		}
		total += v
		sum.Last = v
		sum.N++
	}
	if sum.N > 0 {
		sum.Avg = total / float64(sum.N)
	}
	return sum
}
