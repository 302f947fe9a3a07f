package main

import (
	"slices"
	"time"
)

// sample is a set of latencies from one run of a workload.
type sample struct {
	lat      []time.Duration
	expected int // messages the run sent; lat holds those that arrived
}

// quantile returns the q-quantile (0 < q ≤ 1) of the sample, 0 when empty.
func (s *sample) quantile(q float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	slices.Sort(s.lat)
	i := int(q*float64(len(s.lat))+0.5) - 1
	return s.lat[min(max(i, 0), len(s.lat)-1)]
}

// complete is the share of the sent messages that arrived.
func (s *sample) complete() float64 {
	if s.expected == 0 {
		return 0
	}
	return float64(len(s.lat)) / float64(s.expected)
}

// figure is one reported number: the median of several runs and their spread.
type figure struct {
	median, lo, hi float64
}

// summarize returns the median, smallest and largest of vs.
func summarize(vs []float64) figure {
	if len(vs) == 0 {
		return figure{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return figure{median: med, lo: s[0], hi: s[len(s)-1]}
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// us converts a duration to float microseconds.
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
