package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pinProcess restricts every thread of this process to cpus (threads
// started later inherit the mask) and sets GOMAXPROCS to match. An empty
// list does nothing.
func pinProcess(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	// Twice: a thread the runtime started during the first pass, from a
	// thread not yet pinned, is caught by the second.
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setaffinity: %w", err)
			}
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// allowedCPUs returns the CPUs this process may run on, in order (all of
// the machine's unless a cpuset or taskset restricts it).
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for c := 0; c < machineCPUs(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// machineCPUs returns how many CPUs the machine has online, whatever this
// process's affinity (a client process inherits the driver's pinning, and
// runtime.NumCPU counts only the CPUs it may run on).
func machineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	cpus, err := parseCPUList(strings.TrimSpace(string(b)), 1<<16)
	if err != nil || len(cpus) == 0 {
		return runtime.NumCPU()
	}
	return cpus[len(cpus)-1] + 1
}
