package memlimit

import (
	"context"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, Floor},
		{40 << 20, Floor},
		{Floor / 2, Floor},
		{120 << 20, Floor},
		{200 << 20, 250 << 20},
		{1 << 30, 1280 << 20},
		{math.MaxUint64, 1<<60 + 1<<58},
	} {
		if got := For(tc.live); got != tc.want {
			t.Errorf("For(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}

func TestRun(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}

	// GOMEMLIMIT set: the runtime's limit stays as it applied it.
	debug.SetMemoryLimit(1 << 30)
	Run(context.Background(), env("1GiB"), time.Hour, quiet)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("with GOMEMLIMIT the limit became %d", got)
	}

	// Unset: the limit follows the live heap, and Run ends with ctx.
	debug.SetMemoryLimit(math.MaxInt64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Run(ctx, env(""), time.Millisecond, quiet); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) == math.MaxInt64 {
		if time.Now().After(deadline) {
			t.Fatal("Run set no limit")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got < Floor {
		t.Errorf("limit %d is below the floor %d", got, Floor)
	}
}
