// Package memlimit keeps the Go runtime's soft memory limit close to what
// queuewatch needs: low for a small deployment, so that bursts do not double
// the heap, and never so close to the live heap that the collector runs
// without pause in a large one.
package memlimit

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Floor is the smallest limit Run sets. With the Go default (no limit,
// GOGC=100) the heap may grow to twice what is live, and a burst of 40,000
// breaches leaves about 80 MB live, so the heap alone reached 210 MiB; at this
// floor the collector works harder near it instead, and the process stays
// under 200 MiB (docs/benchmarks.md, "Memory of the scale burst").
const Floor = 150 << 20

// Headroom is how many times the live heap the limit allows at least, the
// same room the Go default (GOGC=100) gives, so a deployment whose live data
// outgrows Floor collects no more often than without a limit.
const Headroom = 2

// For returns the limit for a live heap of live bytes.
func For(live uint64) int64 {
	return max(Floor, int64(min(live, 1<<60))*Headroom)
}

// Run sets the limit now and then every interval from the live heap the
// runtime last measured, until ctx ends. It does nothing and returns at once
// when the environment set GOMEMLIMIT (getenv returns it non-empty), which
// the runtime has applied already.
func Run(ctx context.Context, getenv func(string) string, every time.Duration, log *slog.Logger) {
	if getenv("GOMEMLIMIT") != "" {
		log.Debug("Go soft memory limit from GOMEMLIMIT", "bytes", debug.SetMemoryLimit(-1))
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := func() {
		metrics.Read(sample)
		var live uint64
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = sample[0].Value.Uint64()
		}
		if limit := For(live); debug.SetMemoryLimit(limit) != limit {
			log.Debug("Go soft memory limit set; GOMEMLIMIT overrides it", "bytes", limit, "live_heap", live)
		}
	}
	set()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			set()
		}
	}
}
