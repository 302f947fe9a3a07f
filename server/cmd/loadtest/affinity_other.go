//go:build !linux

package main

import (
	"errors"
	"runtime"
)

// pinProcess is only implemented on Linux.
func pinProcess(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	return errors.New("pinning to CPUs is only implemented on Linux; use -server-cpus=none -client-cpus=none")
}

// allowedCPUs returns nil: no pinning by default.
func allowedCPUs() []int { return nil }

// machineCPUs returns runtime.NumCPU().
func machineCPUs() int { return runtime.NumCPU() }
