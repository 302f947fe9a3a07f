package netsim

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{"10%", 0.10, ""},
		{" 0.5 % ", 0.005, ""},
		{"0%", 0, ""},
		{"100%", 1, ""},
		{"0.25", 0.25, ""},
		{"1", 1, ""},
		{"0", 0, ""},
		{"150%", 0, `netsim: percentage "150%": must be between 0% and 100%`},
		{"-1%", 0, "must be between 0% and 100%"},
		{"10", 0, "a fraction must be between 0 and 1"},
		{"NaN%", 0, "not a number before %"},
		{"inf", 0, "not a number"},
		{"", 0, "not a number"},
		{"%", 0, "not a number before %"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePercent(tt.in)
			if tt.err != "" {
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.in, pe.Value)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-12)
		})
	}
}

func TestParseBandwidth(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"", 0, ""},
		{"unlimited", 0, ""},
		{"50000", 50_000, ""},
		{"100KB/s", 100_000, ""},
		{"100kb", 100_000, ""},
		{"2MiB", 2 << 20, ""},
		{"1mbit", 125_000, ""},
		{"1Mbps", 125_000, ""},
		{"256kbps", 32_000, ""},
		{"8bit/s", 1, ""},
		{"1.5 MB/s", 1_500_000, ""},
		{"1gbit", 125_000_000, ""},
		{"fast", 0, "want a number and a unit"},
		{"10 furlongs", 0, `unknown unit "furlongs"`},
		{"4bit", 0, "at least 1 byte/s"},
		{"2000GB", 0, "at most 1TB/s"},
		{"1.2.3k", 0, "want a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBandwidth(tt.in)
			if tt.err != "" {
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, "bandwidth", pe.Kind)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"80ms", 80 * time.Millisecond, ""},
		{"0", 0, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{"1h", time.Hour, ""},
		{"80", 0, "not a duration"},
		{"-1ms", 0, "must be between 0 and 1h"},
		{"61m", 0, "must be between 0 and 1h"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"10%", "0.5%", "0.1", "1", "0", "100%", "150%", "-1", "NaN", "1e-3", " 7 % "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParsePercent(s)
		if err != nil {
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, s, pe.Value)
			return
		}
		require.True(t, v >= 0 && v <= 1, "ParsePercent(%q) = %v, outside [0, 1]", s, v)
		// A valid result is a valid Config probability.
		require.NoError(t, Config{Loss: v}.Validate())
		// Printing it back as a percentage parses to the same value.
		back, err := ParsePercent(strconv.FormatFloat(v*100, 'g', -1, 64) + "%")
		require.NoError(t, err)
		require.InDelta(t, v, back, 1e-9)
	})
}

func FuzzParseBandwidth(f *testing.F) {
	for _, s := range []string{"0", "50000", "100KB/s", "2MiB", "1mbit", "256kbps", "1.5 MB/s", "fast", "4bit", "unlimited"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseBandwidth(s)
		if err != nil {
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			return
		}
		require.True(t, v >= 0 && v <= maxBandwidth, "ParseBandwidth(%q) = %d", s, v)
		require.NoError(t, Config{Bandwidth: v}.Validate())
		if v > 0 {
			// The result in bytes/s reads back as itself.
			back, err := ParseBandwidth(strconv.FormatInt(v, 10))
			require.NoError(t, err)
			require.Equal(t, v, back)
		}
	})
}
