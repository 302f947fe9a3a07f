package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind (the
// proxy's, the stats printer's).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
