package simclock

import (
	"context"
	"testing"
	"time"

	fakegenesys "github.com/queuewatch/queuewatch/internal/fake/genesys"
)

func TestNowRunsFastUntilItReachesTheWall(t *testing.T) {
	wallStart := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	w := fakegenesys.NewManualClock(wallStart)
	c := newClock(wallStart.Add(-time.Hour), 60, w.Now)
	for _, step := range []struct {
		wall     time.Duration // wall time since creation
		want     time.Time
		caughtUp bool
	}{
		{0, wallStart.Add(-time.Hour), false},
		{time.Second, wallStart.Add(-time.Hour + time.Minute), false},
		{30 * time.Second, wallStart.Add(-30 * time.Minute), false},
		// It gains 59 seconds a second, so it reaches the wall after 3600/59 ≈ 61.02s.
		{61 * time.Second, wallStart.Add(-time.Hour + 61*time.Minute), false},
		{62 * time.Second, wallStart.Add(62 * time.Second), true},
		{10 * time.Minute, wallStart.Add(10 * time.Minute), true},
	} {
		w.Set(wallStart.Add(step.wall))
		if got := c.Now(); !got.Equal(step.want) {
			t.Errorf("after %s of wall time: Now = %s, want %s", step.wall, got, step.want)
		}
		if got := c.CaughtUp(); got != step.caughtUp {
			t.Errorf("after %s of wall time: CaughtUp = %v, want %v", step.wall, got, step.caughtUp)
		}
	}
}

func TestStartInTheFutureIsTheWallClock(t *testing.T) {
	wallStart := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	w := fakegenesys.NewManualClock(wallStart)
	c := newClock(wallStart.Add(time.Hour), 10, w.Now)
	w.Advance(time.Second)
	if got := c.Now(); !got.Equal(wallStart.Add(time.Second)) {
		t.Fatalf("Now = %s, want the wall clock %s", got, wallStart.Add(time.Second))
	}
}

func TestRealFor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		d, gap time.Duration
		speed  float64
		want   time.Duration
	}{
		{"far behind: speed applies", time.Minute, time.Hour, 60, time.Second},
		{"level with the wall: real time", time.Minute, 0, 60, time.Minute},
		// 10s behind at 11×: caught up after 1 wall second (11 simulated),
		// then 9 more simulated seconds take 9 wall seconds.
		{"catches up on the way", 20 * time.Second, 10 * time.Second, 11, 10 * time.Second},
		{"speed 1", time.Minute, time.Hour, 1, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := realFor(tc.d, tc.gap, tc.speed); got != tc.want {
				t.Fatalf("realFor(%s, %s, %g) = %s, want %s", tc.d, tc.gap, tc.speed, got, tc.want)
			}
		})
	}
}

func TestSleepReturnsOnlyOnceSimulatedTimeHasPassed(t *testing.T) {
	c := New(time.Now().Add(-time.Hour), 3600)
	before := c.Now()
	if err := c.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(before); got < 2*time.Second {
		t.Fatalf("Sleep(2s) returned after %s of simulated time", got)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	c := New(time.Now(), 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
}
