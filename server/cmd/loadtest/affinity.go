package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseCPUList parses a CPU list such as "0", "1-3" or "0,2-3" ("" or
// "none" means no pinning: nil) against a machine of n CPUs.
func parseCPUList(s string, n int) ([]int, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	seen := make(map[int]bool)
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("%q: %q is not a CPU number", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("%q: %q is not a CPU number", s, hi)
			}
		}
		if a < 0 || b < a || b >= n {
			return nil, fmt.Errorf("%q: %q is not within 0..%d", s, part, n-1)
		}
		for c := a; c <= b; c++ {
			if !seen[c] {
				seen[c] = true
				cpus = append(cpus, c)
			}
		}
	}
	return cpus, nil
}

// formatCPUList is the inverse of parseCPUList for sorted lists.
func formatCPUList(cpus []int) string {
	if len(cpus) == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(cpus[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// splitCPUs is the default placement: the server on the first half of the
// CPUs this process may use, the clients (which stand in for remote
// machines) on the rest, so neither process's threads preempt the other's.
// Fewer than two: no pinning.
func splitCPUs(allowed []int) (server, clients string) {
	if len(allowed) < 2 {
		return "none", "none"
	}
	n := len(allowed)
	return formatCPUList(allowed[:n/2]), formatCPUList(allowed[n/2:])
}
