package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inputStep is one action on an InputQueue: offer an input, or take a tick.
type inputStep struct {
	offer   bool
	tick    uint32
	input   string
	verdict InputVerdict // offer
	want    string       // take: the input returned ("" = nil)
	source  InputSource  // take
}

func offer(tick uint32, input string, v InputVerdict) inputStep {
	return inputStep{offer: true, tick: tick, input: input, verdict: v}
}

func take(tick uint32, want string, src InputSource) inputStep {
	return inputStep{tick: tick, want: want, source: src}
}

func TestInputQueueRules(t *testing.T) {
	tests := []struct {
		name  string
		cfg   InputConfig
		first uint32
		steps []inputStep
		stats InputStats
	}{
		{
			name:  "in order",
			first: 10,
			steps: []inputStep{
				offer(10, "a", InputAccepted), offer(11, "b", InputAccepted),
				take(10, "a", InputFresh), take(11, "b", InputFresh),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 2}, Fresh: 2},
		},
		{
			name:  "redundant copies are duplicates, queued or consumed",
			first: 10,
			steps: []inputStep{
				offer(10, "a", InputAccepted), offer(11, "b", InputAccepted),
				offer(10, "A", InputDuplicate), // first copy wins
				take(10, "a", InputFresh),
				offer(10, "a", InputDuplicate), // already consumed
				offer(11, "b", InputDuplicate), offer(12, "c", InputAccepted),
				take(11, "b", InputFresh), take(12, "c", InputFresh),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 3, InputDuplicate: 3}, Fresh: 3},
		},
		{
			name:  "late input is dropped and the previous input repeated",
			first: 10,
			steps: []inputStep{
				offer(10, "a", InputAccepted),
				take(10, "a", InputFresh), take(11, "a", InputRepeated),
				offer(11, "b", InputLate), offer(12, "c", InputAccepted),
				take(12, "c", InputFresh),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 2, InputLate: 1}, Fresh: 2, Missing: 1, Repeated: 1},
		},
		{
			name:  "skip policy applies nothing when missing",
			cfg:   InputConfig{Missing: SkipMissingInput},
			first: 0,
			steps: []inputStep{
				offer(0, "a", InputAccepted),
				take(0, "a", InputFresh), take(1, "", InputMissing),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 1}, Fresh: 1, Missing: 1},
		},
		{
			name:  "nothing before the first input",
			first: 5,
			steps: []inputStep{
				take(5, "", InputNone), take(6, "", InputNone),
				offer(7, "a", InputAccepted), take(7, "a", InputFresh),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 1}, Fresh: 1},
		},
		{
			name:  "far future beyond the window",
			cfg:   InputConfig{Window: 4},
			first: 100,
			steps: []inputStep{
				offer(103, "d", InputAccepted), offer(104, "e", InputFarFuture),
				take(100, "", InputNone), offer(104, "e", InputAccepted),
				take(101, "", InputNone), take(102, "", InputNone),
				take(103, "d", InputFresh), take(104, "e", InputFresh),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 2, InputFarFuture: 1}, Fresh: 2},
		},
		{
			name:  "oversized",
			cfg:   InputConfig{MaxInputSize: 2},
			first: 0,
			steps: []inputStep{
				offer(0, "abc", InputOversized), offer(0, "ab", InputAccepted), take(0, "ab", InputFresh),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 1, InputOversized: 1}, Fresh: 1},
		},
		{
			name:  "take skips ticks as missing",
			first: 0,
			steps: []inputStep{
				offer(0, "a", InputAccepted), offer(1, "b", InputAccepted), take(0, "a", InputFresh),
				take(3, "b", InputRepeated), // 1 consumed fresh, 2 missing, 3 missing
				offer(2, "c", InputLate), offer(1, "b", InputDuplicate),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 2, InputLate: 1, InputDuplicate: 1}, Fresh: 2, Missing: 2, Repeated: 2},
		},
		{
			name:  "very old input is late",
			first: 1000,
			steps: []inputStep{
				offer(1, "a", InputLate), offer(999, "a", InputLate),
			},
			stats: InputStats{Offered: [5]uint64{InputLate: 2}},
		},
		{
			name:  "ring slots are reused across the window",
			cfg:   InputConfig{Window: 2},
			first: 0,
			steps: []inputStep{
				offer(0, "a", InputAccepted), offer(1, "b", InputAccepted), take(0, "a", InputFresh),
				offer(2, "c", InputAccepted), take(1, "b", InputFresh), take(2, "c", InputFresh),
				offer(3, "d", InputAccepted), offer(4, "e", InputAccepted), offer(5, "f", InputFarFuture),
				take(3, "d", InputFresh), take(4, "e", InputFresh),
			},
			stats: InputStats{Offered: [5]uint64{InputAccepted: 5, InputFarFuture: 1}, Fresh: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := NewInputQueue(tt.cfg, tt.first)
			require.NoError(t, err)
			for i, st := range tt.steps {
				if st.offer {
					got := q.Offer(st.tick, []byte(st.input))
					assert.Equal(t, st.verdict, got, "step %d: Offer(%d, %q) = %v, want %v", i, st.tick, st.input, got, st.verdict)
					continue
				}
				in, src := q.Take(st.tick)
				assert.Equal(t, st.want, string(in), "step %d: Take(%d) input", i, st.tick)
				assert.Equal(t, st.source, src, "step %d: Take(%d) source", i, st.tick)
				assert.Equal(t, st.tick+1, q.Next())
			}
			assert.Equal(t, tt.stats, q.Stats())
		})
	}
}

func TestInputQueueNewestIncludesDroppedTicks(t *testing.T) {
	q, err := NewInputQueue(InputConfig{Window: 4, MaxInputSize: 2}, 10)
	require.NoError(t, err)
	_, ok := q.Newest()
	assert.False(t, ok)
	for _, st := range []struct {
		tick   uint32
		input  string
		newest uint32
	}{
		{5, "a", 5},     // late
		{11, "a", 11},   // accepted
		{30, "a", 30},   // far future: the lead must show it
		{40, "abc", 30}, // oversized: ignored
		{12, "a", 30},
	} {
		q.Offer(st.tick, []byte(st.input))
		got, ok := q.Newest()
		assert.True(t, ok)
		assert.Equal(t, st.newest, got, "after Offer(%d)", st.tick)
	}
}

func TestInputQueueCopiesInput(t *testing.T) {
	q, err := NewInputQueue(InputConfig{}, 0)
	require.NoError(t, err)
	buf := []byte("ab")
	q.Offer(0, buf)
	buf[0] = 'x'
	in, _ := q.Take(0)
	assert.Equal(t, "ab", string(in))
}

func TestInputConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  InputConfig
		want string
	}{
		{InputConfig{Window: -1}, "InputConfig.Window is -1"},
		{InputConfig{Window: MaxInputWindow + 1}, "InputConfig.Window"},
		{InputConfig{MaxInputSize: MaxMaxInputSize + 1}, "InputConfig.MaxInputSize"},
		{InputConfig{Missing: 7}, "InputConfig.Missing is MissingInputPolicy(7)"},
	}
	for _, tt := range tests {
		_, err := NewInputQueue(tt.cfg, 0)
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func BenchmarkInputQueue(b *testing.B) {
	q, err := NewInputQueue(InputConfig{}, 0)
	require.NoError(b, err)
	in := []byte{1, 2, 3, 4}
	b.ReportAllocs()
	var tick uint32
	for b.Loop() {
		// Four redundant copies per packet, one packet per tick.
		for k := uint32(0); k < 4 && k <= tick; k++ {
			q.Offer(tick-k+2, in)
		}
		q.Take(tick)
		tick++
	}
}
