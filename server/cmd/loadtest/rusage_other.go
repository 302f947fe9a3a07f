//go:build !unix

package main

import "time"

// cpuTime is not measured on this platform.
func cpuTime() (user, sys time.Duration) { return 0, 0 }

// runQueueWait is not measured on this platform.
func runQueueWait() time.Duration { return 0 }

// residentBytes is not measured on this platform.
func residentBytes() uint64 { return 0 }
