package cli

import (
	"bytes"
	"flag"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.Int("n", 1, "a `count`")
		fs.Usage = func() { fmt.Fprintln(fs.Output(), "Usage: x [-n count]") }
		return fs
	}
	var out bytes.Buffer
	err := Parse(newFS(), []string{"-nope"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-nope")
	assert.Empty(t, out.String(), "the command prints the one message")

	err = Parse(newFS(), []string{"-h"}, &out)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Equal(t, "Usage: x [-n count]\n", out.String())
}
