package netsim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults used when the matching Config field is left at zero.
const (
	// DefaultQueuePackets bounds how many datagrams one [Link] holds at once.
	DefaultQueuePackets = 4096
	// DefaultQueueBytes bounds how many payload bytes one [Link] holds at once.
	DefaultQueueBytes = 4 << 20
	// DefaultMaxDatagramSize is the largest datagram a [Link] carries when
	// Config.MaxDatagramSize is zero: the largest UDP payload over IPv4.
	DefaultMaxDatagramSize = 65507
	// DefaultReorderDelay is the extra delay given to a reordered datagram
	// when Config.ReorderDelay is zero.
	DefaultReorderDelay = 10 * time.Millisecond
)

// ErrInvalidConfig is wrapped by every error [Config.Validate] returns.
var ErrInvalidConfig = errors.New("netsim: invalid config")

// Config describes the conditions of one direction of a simulated link.
// The zero value is a perfect link: no loss, no delay, no duplication, no
// bandwidth cap, and the default queue and datagram bounds.
//
// A datagram handed to a [Link] goes through these steps, in order:
//
//  1. larger than MaxDatagramSize: dropped, counted as DroppedOversize;
//  2. lost by the Gilbert–Elliott model (when Burst is enabled) or by the
//     independent uniform Loss: dropped, counted as DroppedLoss;
//  3. would push the link past QueuePackets or QueueBytes: dropped (tail
//     drop), counted as DroppedQueueFull;
//  4. waits behind earlier datagrams for the Bandwidth cap (serialisation);
//  5. then takes Latency ± Jitter (kept in order if PreserveOrder), plus
//     ReorderDelay with probability Reorder, to arrive; with probability
//     Duplicate a second copy with its own delay is delivered too.
type Config struct {
	// Loss is the probability, in [0, 1], that a datagram is lost,
	// independently of every other datagram.
	Loss float64
	// Burst adds bursty loss from a two-state Gilbert–Elliott model; see
	// [GilbertElliott]. It applies on top of Loss. Disabled when
	// Burst.GoodToBad is zero.
	Burst GilbertElliott

	// Latency is the base one-way delay.
	Latency time.Duration
	// Jitter spreads the delay uniformly over [Latency-Jitter,
	// Latency+Jitter] (never below zero). Jitter alone reorders datagrams
	// sent closer together than the spread (as Linux netem does) unless
	// PreserveOrder is set.
	Jitter time.Duration
	// PreserveOrder keeps jitter from reordering: a datagram that would
	// arrive before one sent earlier waits for it instead, so jitter makes
	// clumps rather than reordering. Datagrams held back by Reorder (and
	// duplicate copies) are exempt.
	PreserveOrder bool

	// Duplicate is the probability, in [0, 1], that a datagram is
	// delivered twice (the copy draws its own delay).
	Duplicate float64
	// Reorder is the probability, in [0, 1], that a datagram is held back
	// by ReorderDelay, letting later datagrams overtake it.
	Reorder float64
	// ReorderDelay is the extra delay of a reordered datagram;
	// zero means DefaultReorderDelay.
	ReorderDelay time.Duration

	// Bandwidth caps the link in payload bytes per second; zero means
	// unlimited. Datagrams queue behind each other at this rate.
	Bandwidth int64

	// QueuePackets and QueueBytes bound everything the link holds at once
	// (waiting for bandwidth, in flight, or due but not yet read); zero
	// means DefaultQueuePackets and DefaultQueueBytes.
	QueuePackets int
	QueueBytes   int

	// MaxDatagramSize drops datagrams longer than this many bytes (an MTU);
	// zero means DefaultMaxDatagramSize.
	MaxDatagramSize int
}

// GilbertElliott is a two-state Markov model of bursty loss. Before each
// datagram the state may change: from good to bad with probability
// GoodToBad, from bad to good with probability BadToGood. The datagram is
// then lost with probability LossGood in the good state and LossBad in the
// bad state.
//
// In the long run the share of datagrams sent in the bad state is
// GoodToBad/(GoodToBad+BadToGood), a stay in the bad state lasts 1/BadToGood
// datagrams on average, and the loss rate is the mix of LossGood and LossBad
// by those shares. With LossGood=0 and LossBad=1 (see [BurstLoss]) every
// stay in the bad state is one burst of consecutive losses.
type GilbertElliott struct {
	GoodToBad float64 // p: probability of entering the bad state; 0 disables the model
	BadToGood float64 // r: probability of leaving the bad state
	LossGood  float64 // 1-k: loss probability in the good state
	LossBad   float64 // 1-h: loss probability in the bad state
}

// Enabled reports whether the model takes part in loss decisions.
func (g GilbertElliott) Enabled() bool { return g.GoodToBad > 0 }

// LossRate is the long-run share of datagrams the model loses.
func (g GilbertElliott) LossRate() float64 {
	if !g.Enabled() {
		return 0
	}
	bad := g.GoodToBad / (g.GoodToBad + g.BadToGood)
	return bad*g.LossBad + (1-bad)*g.LossGood
}

// BurstLoss returns a Gilbert–Elliott model that loses a share rate of
// datagrams in bursts of meanBurst consecutive datagrams on average
// (LossGood=0, LossBad=1). It needs 0 ≤ rate < 1 and meanBurst ≥ 1, and
// bursts that long cannot exceed a rate of meanBurst/(meanBurst+1) (every
// burst is followed by at least one delivered datagram): a higher rate is
// lowered to that. Rate 0, or arguments out of range, return the disabled
// model.
func BurstLoss(rate, meanBurst float64) GilbertElliott {
	if !(rate > 0 && rate < 1 && meanBurst >= 1) {
		return GilbertElliott{}
	}
	r := 1 / meanBurst
	return GilbertElliott{GoodToBad: min(1, r*rate/(1-rate)), BadToGood: r, LossBad: 1}
}

// MaxBurstLossRate is the highest loss rate [BurstLoss] can give with
// bursts of meanBurst datagrams on average.
func MaxBurstLossRate(meanBurst float64) float64 { return meanBurst / (meanBurst + 1) }

// Validate reports the first field that is out of range, naming the field,
// the value and what is allowed. The error wraps [ErrInvalidConfig].
func (c Config) Validate() error {
	probs := []struct {
		name string
		v    float64
	}{
		{"Loss", c.Loss},
		{"Burst.GoodToBad", c.Burst.GoodToBad},
		{"Burst.BadToGood", c.Burst.BadToGood},
		{"Burst.LossGood", c.Burst.LossGood},
		{"Burst.LossBad", c.Burst.LossBad},
		{"Duplicate", c.Duplicate},
		{"Reorder", c.Reorder},
	}
	for _, p := range probs {
		if !(p.v >= 0 && p.v <= 1) { // also rejects NaN
			return fmt.Errorf("%w: %s = %v: must be a probability between 0 and 1", ErrInvalidConfig, p.name, p.v)
		}
	}
	if c.Burst.Enabled() && c.Burst.BadToGood == 0 {
		return fmt.Errorf("%w: Burst.BadToGood = 0: must be above 0 when Burst.GoodToBad is set (else the link never leaves the bad state)", ErrInvalidConfig)
	}
	durs := []struct {
		name string
		v    time.Duration
	}{
		{"Latency", c.Latency},
		{"Jitter", c.Jitter},
		{"ReorderDelay", c.ReorderDelay},
	}
	for _, d := range durs {
		if d.v < 0 {
			return fmt.Errorf("%w: %s = %v: must not be negative", ErrInvalidConfig, d.name, d.v)
		}
		if d.v > time.Hour {
			return fmt.Errorf("%w: %s = %v: must be at most 1h", ErrInvalidConfig, d.name, d.v)
		}
	}
	if c.Bandwidth < 0 {
		return fmt.Errorf("%w: Bandwidth = %d: must be 0 (unlimited) or a positive number of bytes per second", ErrInvalidConfig, c.Bandwidth)
	}
	if c.QueuePackets < 0 {
		return fmt.Errorf("%w: QueuePackets = %d: must be 0 (default %d) or positive", ErrInvalidConfig, c.QueuePackets, DefaultQueuePackets)
	}
	if c.QueueBytes < 0 {
		return fmt.Errorf("%w: QueueBytes = %d: must be 0 (default %d) or positive", ErrInvalidConfig, c.QueueBytes, DefaultQueueBytes)
	}
	if c.MaxDatagramSize < 0 || c.MaxDatagramSize > math.MaxInt32 {
		return fmt.Errorf("%w: MaxDatagramSize = %d: must be 0 (default %d) or positive", ErrInvalidConfig, c.MaxDatagramSize, DefaultMaxDatagramSize)
	}
	return nil
}

// withDefaults fills the zero bounds with their defaults.
func (c Config) withDefaults() Config {
	if c.QueuePackets == 0 {
		c.QueuePackets = DefaultQueuePackets
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.MaxDatagramSize == 0 {
		c.MaxDatagramSize = DefaultMaxDatagramSize
	}
	if c.ReorderDelay == 0 {
		c.ReorderDelay = DefaultReorderDelay
	}
	return c
}
