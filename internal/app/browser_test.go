package app

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	"github.com/queuewatch/queuewatch/internal/store"
)

// requireBrowserEnv makes the browser tests fail, instead of skip, when no
// Chromium is found (CI sets it).
const requireBrowserEnv = "QUEUEWATCH_REQUIRE_BROWSER"

// screenshotDirEnv, when set, is where the browser tests save screenshots;
// otherwise they go to the test's temporary folder and are logged.
const screenshotDirEnv = "QUEUEWATCH_SCREENSHOTS"

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	if p := os.Getenv("QUEUEWATCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a tab
// context that ends with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		msg := "no chromium found on PATH (Debian: apt-get install chromium); browser tests not run"
		if os.Getenv(requireBrowserEnv) == "1" {
			t.Fatal(msg + ", but " + requireBrowserEnv + "=1")
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a deadline
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// run runs browser steps with a deadline, failing the test with what.
func run(t *testing.T, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(cctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action that returns a value, with a deadline.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(cctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// css is shorthand for a CSS selector.
type css = chromedp.CSS

// screenshot saves a full-page screenshot as name.png and returns its path.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv(screenshotDirEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	get(t, ctx, "scrolling to the top", chromedp.Evaluate[int]("window.scrollTo(0, 0), 0"))
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

// seedBoard sends an hour of numbers for a handful of queues, one value a
// minute, so that the board has sparklines, one queue breaching and the
// others healthy.
func seedBoard(h *harness, queues map[string]string) {
	h.tb.Helper()
	start := time.Now().Add(-59 * time.Minute)
	names := make([]string, 0, len(queues))
	for id := range queues {
		names = append(names, id)
	}
	for m := 0; m < 60; m++ {
		at := start.Add(time.Duration(m) * time.Minute)
		var evs []event
		for i, id := range names {
			x := float64(m) + float64(i)*11
			sl := 90 + 4*math.Sin(x/9) + 1.5*math.Sin(x/3.1)
			wait := 45 + 25*math.Sin(x/8+1) + 8*math.Sin(x/2.3)
			waiting := math.Round(5 + 3*math.Sin(x/7))
			if queues[id] == "Billing Disputes" && m > 40 { // going bad in the last 20 minutes
				k := float64(m - 40)
				sl, wait, waiting = 82-k*1.3, 110+k*15, 9+k/2
			}
			evs = append(evs,
				event{queue: id, name: queues[id], metric: "service_level", value: sl, at: at},
				event{queue: id, name: queues[id], metric: "longest_wait", value: wait, at: at},
				event{queue: id, name: queues[id], metric: "waiting", value: waiting, at: at},
				event{queue: id, name: queues[id], metric: "available_agents", value: math.Round(6 + 2*math.Sin(x/11+2)), at: at},
				event{queue: id, name: queues[id], metric: "abandon_rate", value: 2.5 + 1.2*math.Sin(x/13) + 0.4*math.Sin(x/2.7), at: at},
			)
		}
		h.send(evs...)
	}
}

// browserRules are slaRule and a long-wait rule.
const browserRules = slaRule + `
  - name: long_wait
    metric: longest_wait
    above: 300
    priority: P2
    flap: {transitions: 0}
    notify: [%[1]s]`

// TestBrowserDashboard drives the dashboard in headless Chromium against the
// real service fed through its signed webhook: the board renders queues, a
// breach appears without a reload, a silence made in the page stops a page,
// and the Retry button of a dead letter re-sends it.
func TestBrowserDashboard(t *testing.T) {
	ctx := browser(t)
	h := startE2EWith(t, rules(browserRules, "oncall"), e2eOpts{dests: []string{"oncall"}, top: "api_token: " + apiTestToken})
	base := "http://" + h.svc.Addr()
	queues := map[string]string{
		queueID(1): "Sales EMEA", queueID(2): "Support - Voice", queueID(3): "Billing Disputes",
		queueID(4): "Retention", queueID(5): "VIP Concierge", queueID(6): "Technical Support L2",
	}
	seedBoard(h, queues)
	row := func(id string) string { return fmt.Sprintf(`#board tr[data-queue-id="%s"]`, id) }
	count := func(sel string) int {
		return get(t, ctx, "counting "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	}

	t.Run("board renders queues", func(t *testing.T) {
		run(t, ctx, 30*time.Second, "loading the board",
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(css(row(queueID(6)))),
			chromedp.WaitVisible(css(`#live[data-state="live"]`)),
		)
		if n := count("#board tbody tr[data-queue-id]"); n != len(queues) {
			t.Errorf("board shows %d queues, want %d", n, len(queues))
		}
		names := get(t, ctx, "reading the board", chromedp.Text(css("#board tbody")))
		for _, name := range queues {
			if !strings.Contains(names, name) {
				t.Errorf("board does not show %q", name)
			}
		}
		if st := get(t, ctx, "Billing's state", chromedp.AttributeValue(css(row(queueID(3))), "data-state")); st.Value != "firing" {
			t.Errorf("Billing Disputes is %q, want firing", st.Value)
		}
		if n := count("#board svg.spark path.line"); n != len(queues)*5 {
			t.Errorf("%d sparklines drawn, want %d", n, len(queues)*5)
		}
	})

	t.Run("breach appears live without reload", func(t *testing.T) {
		get(t, ctx, "marking the page", chromedp.Evaluate[int](`window.__sameDocument = 42`))
		h.send(event{queue: queueID(4), name: "Retention", metric: "service_level", value: 61, at: time.Now()})
		run(t, ctx, 15*time.Second, "Retention turning red on the board",
			chromedp.WaitVisible(css(row(queueID(4))+`[data-state="firing"]`)),
			chromedp.WaitVisible(css(fmt.Sprintf(`#alerts tr[data-alert="%s_sla_breach"]`, queueID(4)))),
		)
		if marker := get(t, ctx, "reading the marker", chromedp.Evaluate[int](`window.__sameDocument || 0`)); marker != 42 {
			t.Fatal("the page was reloaded: the breach must arrive through the event stream")
		}
		if said := get(t, ctx, "reading the live region", chromedp.TextContent(css("#announce"))); !strings.Contains(said, "firing") {
			t.Errorf("aria-live region says %q, want the change announced", said)
		}
		waitFor(t, 10*time.Second, "OpsGenie creates of Billing and Retention", func() bool {
			c := strings.Join(ogCreates(h.og), ",")
			return strings.Contains(c, queueID(3)+"_sla_breach") && strings.Contains(c, queueID(4)+"_sla_breach")
		}, func() string { return strings.Join(ogCreates(h.og), ",") })
		run(t, ctx, 15*time.Second, "the delivered-to chips",
			chromedp.WaitVisible(css(fmt.Sprintf(`#alerts tr[data-alert="%s_sla_breach"] .chip .st-ok`, queueID(4)))))
		p := screenshot(t, ctx, "dashboard")
		if os.Getenv("QUEUEWATCH_UPDATE_DOCS_SCREENSHOT") == "1" {
			b, _ := os.ReadFile(p)
			if err := os.WriteFile("../../docs/img/dashboard.png", b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("queue page draws thresholds and episodes", func(t *testing.T) {
		run(t, ctx, 20*time.Second, "opening Billing's page",
			chromedp.Click(css(row(queueID(3))+` .qname a`)),
			chromedp.WaitVisible(css(`figure[data-metric="service_level"] line.thr[data-threshold="80"]`)),
			chromedp.WaitVisible(css(`#episodes article.episode`)),
		)
		if n := count("#episodes tr[data-delivery]"); n == 0 {
			t.Error("Billing's episode lists no deliveries")
		}
		screenshot(t, ctx, "queue")
	})

	t.Run("silence made in the page stops a page", func(t *testing.T) {
		run(t, ctx, 20*time.Second, "creating a silence",
			chromedp.Navigate(base+"/#/silences"),
			chromedp.WaitVisible(css(`#silence-form`)),
			chromedp.Click(css(`#token-btn`)),
			chromedp.WaitVisible(css(`#token-input`)),
			chromedp.SendKeys(css(`#token-input`), apiTestToken),
			chromedp.Click(css(`#token-save`)),
			chromedp.WaitNotVisible(css(`#token-dialog`)),
			chromedp.SendKeys(css(`#sil-queues`), "VIP*"),
			chromedp.SendKeys(css(`#sil-comment`), "Concierge team offsite, covered by phone"),
			chromedp.Click(css(`#sil-create`)),
			chromedp.WaitVisible(css(`#silences tr[data-state="active"]`)),
		)
		screenshot(t, ctx, "silences")
		sils, err := h.svc.store.Silences(context.Background())
		if err != nil || len(sils) != 1 || len(sils[0].Queues) != 1 || sils[0].Queues[0] != "VIP*" || sils[0].CreatedBy != "dashboard" {
			t.Fatalf("stored silences = %+v %v", sils, err)
		}
		now := time.Now()
		h.send(event{queue: queueID(5), name: "VIP Concierge", metric: "service_level", value: 40, at: now})
		h.send(event{queue: queueID(2), name: "Support - Voice", metric: "service_level", value: 55, at: now})
		waitFor(t, 10*time.Second, "Support's create at OpsGenie", func() bool {
			return strings.Contains(strings.Join(ogCreates(h.og), ","), queueID(2)+"_sla_breach")
		}, func() string { return strings.Join(ogCreates(h.og), ",") })
		if c := strings.Join(ogCreates(h.og), ","); strings.Contains(c, queueID(5)) {
			t.Fatalf("the silenced VIP queue paged: %s", c)
		}
		if ds := h.deliveriesOf(store.DeliveryFilter{Key: queueID(5) + "_sla_breach"}); len(ds) != 0 {
			t.Fatalf("the silenced breach owes %d deliveries", len(ds))
		}
		run(t, ctx, 15*time.Second, "the silenced badge on the board",
			chromedp.Navigate(base+"/#/"),
			chromedp.WaitVisible(css(row(queueID(5))+`[data-state="firing"] .silenced`)),
		)
	})

	t.Run("phone layout", func(t *testing.T) {
		run(t, ctx, 20*time.Second, "the board on a phone",
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(base+"/#/"),
			chromedp.WaitVisible(css(row(queueID(6)))),
		)
		if fits := get(t, ctx, "page width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth + 1`)); !fits {
			t.Error("the board scrolls sideways on a 390-pixel-wide phone")
		}
		if cards := get(t, ctx, "board layout", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#board thead")).display`)); cards != "none" {
			t.Errorf("board header display %q on a phone, want the rows as cards (none)", cards)
		}
		screenshot(t, ctx, "phone")
		run(t, ctx, 10*time.Second, "back to the laptop size", chromedp.ResetViewport())
	})

	t.Run("dead letter retry re-sends", func(t *testing.T) {
		h.og.Faults.Add(faults.Fault{Status: 422, Method: "POST", Path: "/v2/alerts",
			Body: `{"message":"Request body is not processable. Please check the errors.","errors":{"responders":"Team 'Contact Center Ops' does not exist"},"took":0.002,"requestId":"f1a8c0de-0000-4000-8000-000000000001"}`})
		h.send(event{queue: queueID(1), name: "Sales EMEA", metric: "service_level", value: 58, at: time.Now()})
		key := queueID(1) + "_sla_breach"
		var dead store.Delivery
		waitFor(t, 10*time.Second, "the refused create to be dead-lettered", func() bool {
			ds := h.deliveriesOf(store.DeliveryFilter{Key: key, Status: store.StatusDead})
			if len(ds) == 1 {
				dead = ds[0]
			}
			return len(ds) == 1
		}, h.outboxSummary)
		btn := css(fmt.Sprintf(`button[data-retry="%d"]`, dead.ID))
		run(t, ctx, 20*time.Second, "the dead letter on the deliveries page",
			chromedp.Navigate(base+"/#/deliveries"),
			chromedp.WaitVisible(btn),
		)
		if reason := get(t, ctx, "the dead letter's reason", chromedp.Text(css(fmt.Sprintf(`tr[data-delivery="%d"] td.err`, dead.ID)))); !strings.Contains(reason, "does not exist") {
			t.Errorf("dead letter shows %q, want OpsGenie's reason", reason)
		}
		screenshot(t, ctx, "deliveries")
		run(t, ctx, 10*time.Second, "clicking Retry", chromedp.Click(btn))
		waitFor(t, 10*time.Second, "the retried create accepted by OpsGenie", func() bool {
			return strings.Contains(strings.Join(ogCreates(h.og), ","), key)
		}, h.outboxSummary)
		run(t, ctx, 15*time.Second, "the dead letter leaving the list", chromedp.WaitNotPresent(btn))
	})
}
