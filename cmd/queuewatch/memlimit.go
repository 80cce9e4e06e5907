package main

import (
	"log/slog"
	"runtime/debug"
)

// defaultMemoryLimit is the Go runtime's soft memory limit that serve sets
// when GOMEMLIMIT is not in its environment. With the Go default (no limit,
// GOGC=100) the heap may grow to twice what is live, and a burst of 40,000
// breaches leaves about 80 MB live, so the heap alone reached 210 MiB; with
// this limit the collector works harder near it instead, and the whole
// process stays under 200 MiB (docs/benchmarks.md, "Memory of the scale
// burst"). It is a soft limit: a process whose live data needs more gets
// more, at the price of collecting more often, so larger deployments set
// GOMEMLIMIT themselves (GOMEMLIMIT=off restores the Go default).
const defaultMemoryLimit = 150 << 20

// applyMemoryLimit sets defaultMemoryLimit unless the environment sets
// GOMEMLIMIT (which the runtime has already applied), and returns the limit
// in force.
func applyMemoryLimit(getenv func(string) string, log *slog.Logger) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	log.Debug("Go soft memory limit set; GOMEMLIMIT overrides it", "bytes", int64(defaultMemoryLimit))
	return defaultMemoryLimit
}
