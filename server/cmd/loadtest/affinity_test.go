package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		n       int
		want    []int
		wantErr string
	}{
		{"", 2, nil, ""},
		{"none", 2, nil, ""},
		{"0", 2, []int{0}, ""},
		{"1", 2, []int{1}, ""},
		{"0-3", 8, []int{0, 1, 2, 3}, ""},
		{"0,2-3,2", 4, []int{0, 2, 3}, ""},
		{"2", 2, nil, `"2": "2" is not within 0..1`},
		{"3-1", 4, nil, `"3-1": "3-1" is not within 0..3`},
		{"x", 2, nil, `"x": "x" is not a CPU number`},
		{"0-y", 2, nil, `"0-y": "y" is not a CPU number`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseCPUList(tt.in, tt.n)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			if got != nil {
				back, err := parseCPUList(formatCPUList(got), tt.n)
				require.NoError(t, err)
				assert.Equal(t, got, back, "format then parse")
			}
		})
	}
}

func TestSplitCPUs(t *testing.T) {
	for _, tt := range []struct {
		allowed         []int
		server, clients string
	}{
		{nil, "none", "none"},
		{[]int{3}, "none", "none"},
		{[]int{0, 1}, "0", "1"},
		{[]int{0, 1, 2}, "0", "1-2"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7}, "0-3", "4-7"},
		{[]int{2, 3, 6, 7}, "2-3", "6-7"},
	} {
		s, c := splitCPUs(tt.allowed)
		assert.Equal(t, tt.server, s, "allowed %v", tt.allowed)
		assert.Equal(t, tt.clients, c, "allowed %v", tt.allowed)
	}
}
