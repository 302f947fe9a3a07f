package main

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	s := sample{expected: 10}
	for i := 10; i >= 1; i-- {
		s.lat = append(s.lat, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 10 * time.Millisecond}, {1, 10 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := s.quantile(tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := s.complete(); got != 1 {
		t.Errorf("complete() = %v, want 1", got)
	}
	s.expected = 20
	if got := s.complete(); got != 0.5 {
		t.Errorf("complete() = %v, want 0.5 (10 of 20 arrived)", got)
	}
	if got := (&sample{}).quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
}

func TestSummarize(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want figure
	}{
		{[]float64{3, 1, 2}, figure{median: 2, lo: 1, hi: 3}},
		{[]float64{4, 1, 3, 2}, figure{median: 2.5, lo: 1, hi: 4}},
		{[]float64{7}, figure{median: 7, lo: 7, hi: 7}},
		{nil, figure{}},
	} {
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestHistQuantile(t *testing.T) {
	// 90 deliveries in bucket 3 (0.3–0.4 ms), 9 in bucket 40, 1 in 500.
	h := [][2]int{{3, 90}, {40, 9}, {500, 1}}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 400 * time.Microsecond}, {0.9, 400 * time.Microsecond}, {0.95, 4100 * time.Microsecond}, {0.99, 4100 * time.Microsecond}, {1, 50100 * time.Microsecond}} {
		if got := histQuantile(h, tt.q); got != tt.want {
			t.Errorf("histQuantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := histQuantile(nil, 0.5); got != 0 {
		t.Errorf("empty histogram: %v, want 0", got)
	}
}

// TestConcurrently: the runs overlap (each waits until all have started,
// which would never happen one at a time), their results come back in run
// order, and a run's error reaches fail.
func TestConcurrently(t *testing.T) {
	const n = 3
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	got := concurrently(n, func(r int) (int, error) {
		started.Done()
		select {
		case <-all:
			return 10 * r, nil
		case <-time.After(10 * time.Second):
			return 0, fmt.Errorf("run %d: the other runs did not start while it ran", r)
		}
	}, func(err error) { t.Error(err) })
	if want := []int{0, 10, 20}; !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}

	boom := errors.New("boom")
	var failed error
	concurrently(n, func(r int) (int, error) {
		if r == 1 {
			return 0, boom
		}
		return r, nil
	}, func(err error) { failed = err })
	if failed != boom {
		t.Errorf("fail got %v, want %v", failed, boom)
	}
}
