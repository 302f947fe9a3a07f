// Package clitest checks, in the commands' tests, what a Tickwire command
// prints for a bad command line. It is for tests only.
package clitest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// UsageError checks a command's answer to a bad command line: exit status
// 2, nothing on stdout, and on stderr one line that starts with want and
// names the command's prefix (e.g. "bots:") once.
func UsageError(t *testing.T, prefix, want string, code int, stdout, stderr string) {
	t.Helper()
	assert.Equal(t, 2, code)
	assert.True(t, strings.HasPrefix(stderr, want), "stderr: %q", stderr)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.Equal(t, 1, strings.Count(stderr, prefix), "the prefix once: %q", stderr)
	assert.Empty(t, stdout)
}
