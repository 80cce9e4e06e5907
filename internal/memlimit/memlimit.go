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

// For returns the limit for a live heap of live bytes: Floor, or a quarter
// more than what is live once that is larger. A deployment whose live data
// outgrows Floor then collects as with GOGC=25 — more often than the Go
// default, but never in the endless collection a fixed limit just above the
// live heap causes. (At twice the live heap, the Go default's room, the
// 40,000-series burst, about 120 MB live at its peak, would reach 250 MiB.)
func For(live uint64) int64 {
	l := int64(min(live, 1<<60))
	return max(Floor, l+l/4)
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
