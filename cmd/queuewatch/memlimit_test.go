package main

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestApplyMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name      string
		env       string
		before    int64 // what the runtime took from GOMEMLIMIT at start
		wantLimit int64
	}{
		{"unset: the default", "", math.MaxInt64, defaultMemoryLimit},
		{"set: left as the runtime applied it", "1GiB", 1 << 30, 1 << 30},
		{"off: no limit", "off", math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(tt.before)
			got := applyMemoryLimit(func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.env
				}
				return ""
			}, quiet)
			if got != tt.wantLimit {
				t.Errorf("applyMemoryLimit returned %d, want %d", got, tt.wantLimit)
			}
			if now := debug.SetMemoryLimit(-1); now != tt.wantLimit {
				t.Errorf("runtime limit is %d, want %d", now, tt.wantLimit)
			}
		})
	}
}
