package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserDemo opens the running demo in headless Chromium: the board
// shows the simulated queues, its header links to the fake inboxes, and
// the inbox page fills in live (no reload) until an OpsGenie alert has
// closed and a Slack message has been edited in place.
func TestBrowserDemo(t *testing.T) {
	ctx := browser(t)
	d := startDemo(t, DemoOptions{Queues: 8, Speed: 60, Seed: 1})
	count := func(sel string) int {
		return get(t, ctx, "counting "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	}

	run(t, ctx, 30*time.Second, "the board with the demo's queues",
		chromedp.Navigate(d.info.URL+"/"),
		chromedp.WaitVisible(css(`#board tbody tr[data-queue-id]`)),
		chromedp.WaitVisible(css(`#live[data-state="live"]`)),
	)
	waitFor(t, 30*time.Second, "the board to list the simulated queues", func() bool {
		return count(`#board tbody tr[data-queue-id]`) >= 8
	}, nil)

	run(t, ctx, 20*time.Second, "following the header's link to the fake inboxes",
		chromedp.Click(css(`header nav a[href="/demo/"]`)),
		chromedp.WaitVisible(css(`#live[data-state="live"]`)),
	)
	get(t, ctx, "marking the page", chromedp.Evaluate[int](`window.__sameDocument = 7`))
	run(t, ctx, 60*time.Second, "a closed OpsGenie alert and an edited Slack message",
		chromedp.WaitVisible(css(`#og-rows tr[data-id] .st-ok`)),
		chromedp.WaitVisible(css(`#sl-messages li.msg .edited`)),
	)
	if marker := get(t, ctx, "reading the marker", chromedp.Evaluate[int](`window.__sameDocument || 0`)); marker != 7 {
		t.Fatal("the inbox page was reloaded; it must update in place")
	}
	if n := count(`#og-rows tr[data-id]`); n < 2 {
		t.Errorf("%d OpsGenie alerts shown", n)
	}
	if n := count(`#sl-messages li.msg.firing, #sl-messages li.msg.resolved`); n == 0 {
		t.Error("no Slack message coloured by its state")
	}
	screenshot(t, ctx, "demo-inboxes")
}
