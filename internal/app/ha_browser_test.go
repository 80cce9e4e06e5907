package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/queuewatch/queuewatch/internal/store/postgres/pgtest"
)

// TestBrowserFollowerBanner opens a follower's dashboard in headless
// Chromium: while the leader has no advertise_url the page shows the
// banner with the reason, and once the leader publishes its URL the same
// page shows the leader's queue without the banner.
func TestBrowserFollowerBanner(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := browser(t)
	h := newHarness(t)
	a, _ := startReplicaTop(t, h, dsn, "a", false, "leader_lease: 30s")
	waitFor(t, 20*time.Second, "a to lead", func() bool { return a.ha.role() == "leader" }, nil)
	b, _ := startReplicaTop(t, h, dsn, "b", false, "leader_lease: 30s")
	if err := postEvents(http.DefaultClient, b.Addr(), event{queue: queueID(1), name: "Sales EMEA", metric: "service_level", value: 50, at: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "a to evaluate the sample", func() bool {
		_, qs, err := a.engine.Snapshot(t.Context())
		return err == nil && len(qs) == 1
	}, nil)

	base := "http://" + b.Addr()
	run(t, ctx, 30*time.Second, "loading the follower's board",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css("#replica-notice")),
	)
	notice := get(t, ctx, "reading the banner", chromedp.Text(css("#replica-notice")))
	want := "this replica is a follower; live data is on the leader, which it cannot reach: the leader (" + a.ha.elector.Holder() + ") has no advertise_url configured"
	if notice != want {
		t.Errorf("banner %q, want %q", notice, want)
	}
	if n := get(t, ctx, "counting rows", chromedp.Evaluate[int](`document.querySelectorAll("#board tr[data-queue-id]").length`)); n != 0 {
		t.Errorf("the follower's own board shows %d queues, want none", n)
	}
	screenshot(t, ctx, "follower-banner")

	// The leader publishes its URL (as it does at the start of its term
	// with advertise_url set); the page's next load shows its queue.
	ok, err := a.ha.st.Advertise(t.Context(), a.ha.elector.Name(), a.ha.elector.Holder(), a.ha.elector.Epoch(), "http://"+a.Addr())
	if err != nil || !ok {
		t.Fatalf("Advertise: %v, %v", ok, err)
	}
	waitEvery(t, 20*time.Second, 50*time.Millisecond, "b to pass live reads to a", func() bool {
		by, _, _ := servedBy(t, b, "/api/v1/queues")
		return by == "leader"
	}, nil)
	row := fmt.Sprintf(`#board tr[data-queue-id="%s"]`, queueID(1))
	run(t, ctx, 30*time.Second, "reloading the follower's board",
		chromedp.Reload(),
		chromedp.WaitVisible(css(row)),
		chromedp.WaitNotVisible(css("#replica-notice")),
	)
	if st := get(t, ctx, "the queue's state", chromedp.AttributeValue(css(row), "data-state")); st.Value != "firing" {
		t.Errorf("Sales EMEA is %q on the follower's board, want firing", st.Value)
	}
	if txt := get(t, ctx, "reading the banner", chromedp.Text(css("#replica-notice"))); strings.TrimSpace(txt) != "" {
		t.Errorf("hidden banner still says %q", txt)
	}
}
