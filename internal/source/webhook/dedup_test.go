package webhook

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// accept reserves and commits keys, returning which were duplicates.
func accept(t *testing.T, d *dedup, now time.Time, keys ...string) []bool {
	t.Helper()
	dup, res, err := d.reserve(context.Background(), now, keys)
	if err != nil {
		t.Fatal(err)
	}
	d.commit(res, now)
	return dup
}

func TestDedupIsBounded(t *testing.T) {
	d := newDedup(time.Hour, 3)
	for i := range 5 {
		accept(t, d, t0, fmt.Sprint("k", i))
	}
	if d.len() != 3 || len(d.seen) != 3 {
		t.Fatalf("%d keys remembered, want 3", d.len())
	}
	got := accept(t, d, t0, "k0", "k1", "k4")
	if got[0] || got[1] || !got[2] {
		t.Fatalf("duplicates %v: the oldest keys should be forgotten first", got)
	}
	if d.len() != 3 {
		t.Fatalf("%d keys remembered, want 3", d.len())
	}
}

func TestDedupWindow(t *testing.T) {
	d := newDedup(10*time.Minute, 100)
	accept(t, d, t0, "a")
	accept(t, d, t0.Add(5*time.Minute), "b")
	tests := []struct {
		at   time.Duration
		key  string
		want bool
	}{
		{9 * time.Minute, "a", true},
		{10 * time.Minute, "b", true},
		{10 * time.Minute, "a", false}, // a expired (and is remembered again from here)
		{16 * time.Minute, "b", false},
	}
	for _, tt := range tests {
		dup, res, err := d.reserve(context.Background(), t0.Add(tt.at), []string{tt.key})
		if err != nil {
			t.Fatal(err)
		}
		d.commit(res, t0.Add(tt.at))
		if dup[0] != tt.want {
			t.Errorf("%s at +%v: duplicate %v, want %v", tt.key, tt.at, dup[0], tt.want)
		}
	}
}

func TestDedupEmptyAndRepeatedKeys(t *testing.T) {
	d := newDedup(time.Hour, 10)
	got := accept(t, d, t0, "", "x", "", "x")
	if want := []bool{false, false, false, true}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("duplicates %v, want %v", got, want)
	}
	if d.len() != 1 {
		t.Fatalf("%d keys remembered, want 1", d.len())
	}
}

func TestDedupReleaseForgets(t *testing.T) {
	d := newDedup(time.Hour, 10)
	_, res, err := d.reserve(context.Background(), t0, []string{"r"})
	if err != nil {
		t.Fatal(err)
	}
	d.release(res)
	if got := accept(t, d, t0, "r"); got[0] {
		t.Fatal("a released key counted as a duplicate")
	}
}

func TestDedupWaitEndsWithContext(t *testing.T) {
	d := newDedup(time.Hour, 10)
	_, res, err := d.reserve(context.Background(), t0, []string{"p"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.onWait = cancel
	if _, _, err := d.reserve(ctx, t0, []string{"q", "p"}); err == nil || !strings.Contains(err.Error(), "earlier delivery") {
		t.Fatalf("error %v", err)
	}
	d.release(res)
	if _, ok := d.pending["q"]; ok {
		t.Fatal("a waiting reservation held a key")
	}
}

func TestDedupLongKeysAreHashed(t *testing.T) {
	d := newDedup(time.Hour, 10)
	long := strings.Repeat("k", 10_000)
	accept(t, d, t0, long)
	for k := range d.seen {
		if len(k) > maxKey {
			t.Fatalf("stored a %d-byte key", len(k))
		}
	}
	if got := accept(t, d, t0, long, long[:9_999]); !got[0] || got[1] {
		t.Fatalf("duplicates %v", got)
	}
}
