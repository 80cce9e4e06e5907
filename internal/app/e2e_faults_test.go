package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/fake/faults"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// levelsRule is a two-level rule, so an episode is a create, one priority
// update and a resolve. Flap detection is off: the tests flip queues faster
// than any real queue would.
const levelsRule = `
  - name: long_wait
    metric: longest_wait
    levels:
      - {above: 120, priority: P3}
      - {above: 300, priority: P1}
    flap: {transitions: 0}
    notify: [%s]`

// waitRule is a one-level rule: an episode is a create and a resolve.
const waitRule = `
  - name: long_wait
    metric: longest_wait
    above: 120
    priority: P2
    flap: {transitions: 0}
    notify: [%s]`

func rules(tmpl string, dests ...string) string {
	return fmt.Sprintf(tmpl, strings.Join(dests, ", "))
}

// episode sends a breach, a worse level and the recovery of queue q.
func (h *harness) episode(q string) {
	h.tb.Helper()
	at := time.Now().Add(-time.Minute)
	h.send(event{queue: q, name: "Support - Voice", metric: "longest_wait", value: 150, at: at})
	h.send(event{queue: q, name: "Support - Voice", metric: "longest_wait", value: 350, at: at.Add(time.Second)})
	h.send(event{queue: q, name: "Support - Voice", metric: "longest_wait", value: 30, at: at.Add(2 * time.Second)})
}

// checkEpisodeDelivered asserts that every destination received the episode
// of alias exactly once and in order: create, update, resolve.
func checkEpisodeDelivered(t *testing.T, h *harness, alias string) {
	t.Helper()
	// OpsGenie: every alert-changing request, failed attempts included, is
	// in episode order (a retry repeats its step, never a later one), and
	// the accepted ones are exactly create, priority, note, close.
	ops := ogOps(h.og.Requests())
	for i := 1; i < len(ops); i++ {
		if phase[ops[i].Op] < phase[ops[i-1].Op] {
			t.Errorf("OpsGenie request %d (%s) came after %s: out of order", i, ops[i], ops[i-1])
		}
	}
	for _, o := range ops {
		if o.Alias != alias {
			t.Errorf("OpsGenie request for unexpected alias: %s", o)
		}
	}
	if got := opNames(accepted(ops)); got != "create,priority,note,close" {
		t.Errorf("accepted OpsGenie requests %q, want create,priority,note,close (all: %v)", got, ops)
	}
	if a := h.og.Alerts(); len(a) != 1 || a[0].Status != "closed" || a[0].Count != 1 || a[0].Priority != "P1" {
		t.Errorf("OpsGenie alerts: %+v", a)
	}

	// Slack: one post, two edits, one thread reply, nothing refused. Reads
	// of the channel's history (after an attempt that may have posted) are
	// counted by the callers that expect them.
	var calls []string
	for _, c := range h.slack.Calls() {
		if strings.HasPrefix(c.Method, "conversations.") {
			continue
		}
		name := c.Method
		if c.Args["thread_ts"] != nil {
			name += "(thread)"
		}
		if !c.OK {
			name += "!" + c.Error
		}
		calls = append(calls, name)
	}
	if got := strings.Join(calls, ","); got != "chat.postMessage,chat.update,chat.update,chat.postMessage(thread)" {
		t.Errorf("Slack calls %s", got)
	}
	if msgs := h.slack.Messages(fakeslack.DefaultChannel); len(msgs) != 1 || msgs[0].Edits != 2 || len(msgs[0].Replies) != 1 {
		t.Errorf("Slack messages: %+v", msgs)
	}

	// PagerDuty: one incident, triggered, re-triggered, resolved.
	inc := h.pd.Incidents()
	if len(inc) != 1 || inc[0].Status != "resolved" || inc[0].DedupKey != alias || h.pd.Dropped() != 0 {
		t.Errorf("PagerDuty incidents %+v, dropped %d", inc, h.pd.Dropped())
	} else {
		var acts []string
		for _, ev := range inc[0].Events {
			acts = append(acts, ev.Action)
		}
		if got := strings.Join(acts, ","); got != "trigger,trigger,resolve" {
			t.Errorf("PagerDuty events %s", got)
		}
	}

	// Webhook: create, update, resolve, each delivered once.
	var acts []string
	for _, d := range h.recv.Received() {
		acts = append(acts, fmt.Sprintf("%s×%d", d.Message.Action, d.Count))
	}
	if got := strings.Join(acts, ","); got != "create×1,update×1,resolve×1" {
		t.Errorf("webhook deliveries %s", got)
	}

	// Outbox: every delivery sent, none dead or owed.
	ds := h.deliveriesOf(store.DeliveryFilter{})
	if len(ds) != 12 {
		t.Errorf("%d deliveries, want 12 (4 destinations × 3 transitions):\n%s", len(ds), h.outboxSummary())
	}
	for _, d := range ds {
		if d.Status != store.StatusSent {
			t.Errorf("delivery %d %s %s is %s: %s", d.ID, d.Destination, d.Action, d.Status, d.LastError)
		}
	}
}

// TestE2EDestinationOutageLosesNothingAndKeepsOrder: one destination is down
// (error status, dropped connections or hung requests) while an episode is
// committed, then comes back. Every destination ends with the whole episode,
// exactly once and in order, and the destination that was down retried the
// create until it was accepted before sending anything later.
func TestE2EDestinationOutageLosesNothingAndKeepsOrder(t *testing.T) {
	const down = 3 // requests refused while the destination is down
	cases := []struct {
		name  string
		dest  string
		fault faults.Fault
		extra string
		// quickConfirm makes the fake OpsGenie process requests at their
		// first status check.
		quickConfirm bool
	}{
		{name: "opsgenie answers 503", dest: "oncall", fault: faults.Fault{Status: 503, Times: down}},
		{name: "opsgenie drops connections", dest: "oncall", fault: faults.Fault{Drop: true, Times: down}},
		// The timeout must leave ample room for an update: two requests,
		// each confirmed by status checks. With the fake's default of one
		// "not processed yet" answer per request that is about 1.2 s,
		// which a loaded machine can stretch past a short timeout (see
		// TestE2EOpsGenieUpdateRetryDuplicatesNotes), so here the fake
		// processes at the first status check (about 0.45 s in all).
		{name: "opsgenie hangs past the send timeout", dest: "oncall", extra: "timeout: 3s", quickConfirm: true,
			fault: faults.Fault{Hang: time.Minute, Method: "POST", Times: 2}},
		{name: "slack answers 503", dest: "cc-slack", fault: faults.Fault{Status: 503, Times: down}},
		{name: "slack drops connections", dest: "cc-slack", fault: faults.Fault{Drop: true, Times: down}},
		{name: "pagerduty answers 502", dest: "pd", fault: faults.Fault{Status: 502, Times: down}},
		{name: "pagerduty drops connections", dest: "pd", fault: faults.Fault{Drop: true, Times: down}},
		{name: "webhook answers 503", dest: "tooling", fault: faults.Fault{Status: 503, Times: down}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := startE2EWith(t, rules(levelsRule, allDests...), e2eOpts{
				extra: map[string]string{"*": fastRetry, tc.dest: tc.extra},
			})
			inj := map[string]*faults.Injector{
				"oncall": &h.og.Faults, "cc-slack": &h.slack.Faults, "pd": &h.pd.Faults, "tooling": &h.recv.Faults,
			}[tc.dest]
			if tc.quickConfirm {
				h.og.SetNotProcessedPolls(0)
			}
			inj.Add(tc.fault)

			q := queueID(1)
			h.episode(q)
			waitFor(t, 30*time.Second, "every delivery to be sent", func() bool {
				return h.owed() == 0 && len(h.recv.Received()) == 3
			}, h.outboxSummary)

			if got := inj.Hits(); got != tc.fault.Times {
				t.Errorf("the outage hit %d requests, want %d", got, tc.fault.Times)
			}
			checkEpisodeDelivered(t, h, q+"_long_wait")
			// The create was retried through the outage: one attempt per
			// refused request, then the accepted one.
			creates := h.deliveriesOf(store.DeliveryFilter{Destination: tc.dest, Key: q + "_long_wait"})
			first := creates[len(creates)-1]
			if first.Attempts != tc.fault.Times+1 {
				t.Errorf("create to %s took %d attempts, want %d", tc.dest, first.Attempts, tc.fault.Times+1)
			}
			if tc.dest == "cc-slack" {
				// The first post failed without a word from Slack, so it
				// may have posted: the attempt that gets through reads
				// the channel first (the outage refused the earlier reads).
				lookups := 0
				for _, c := range h.slack.Calls() {
					if c.Method == "conversations.history" && c.OK {
						lookups++
					}
				}
				if lookups != 1 {
					t.Errorf("%d conversations.history reads, want 1", lookups)
				}
			}
		})
	}
}

// TestE2ERetryAfterIsHonoured: OpsGenie answers the create 429 with
// Retry-After: 3. Nothing more reaches OpsGenie until 3 s after the 429
// (measured on the fake's own request times), then the create succeeds. The
// retry timing of the destination is 10 ms, so only Retry-After can explain
// the wait.
func TestE2ERetryAfterIsHonoured(t *testing.T) {
	h := startE2EWith(t, rules(waitRule, "oncall"), e2eOpts{
		dests: []string{"oncall"}, extra: map[string]string{"*": fastRetry},
	})
	h.og.Faults.Add(faults.Fault{
		Status: http.StatusTooManyRequests, RetryAfter: "3", Method: "POST", Path: "/v2/alerts",
		Body: `{"message":"You are making too many requests! To avoid errors, we recommend you limit requests.","took":0.001,"requestId":"3f2b1c9a-1d2e-4f5a-8b6c-7d8e9f0a1b2c"}`,
	})
	q := queueID(1)
	h.send(event{queue: q, metric: "longest_wait", value: 200, at: time.Now().Add(-time.Second)})
	waitFor(t, 15*time.Second, "the alert", func() bool { return len(h.og.Alerts()) == 1 }, h.outboxSummary)

	reqs := h.og.Requests()
	if reqs[0].Method != "POST" || reqs[0].Status != http.StatusTooManyRequests {
		t.Fatalf("first request %s %s answered %d, want the throttled create", reqs[0].Method, reqs[0].Path, reqs[0].Status)
	}
	throttled := reqs[0].At
	for _, r := range reqs[1:] {
		if wait := r.At.Sub(throttled); wait < 3*time.Second {
			t.Errorf("%s %s only %v after the 429 with Retry-After: 3", r.Method, r.Path, wait)
		}
	}
	if r := reqs[1]; r.Method != "POST" || r.Path != "/v2/alerts" || r.Status != http.StatusAccepted {
		t.Errorf("second request %s %s answered %d, want the accepted create", r.Method, r.Path, r.Status)
	}
	ds := h.deliveriesOf(store.DeliveryFilter{Destination: "oncall"})
	waitFor(t, 10*time.Second, "the create to be recorded", func() bool {
		ds = h.deliveriesOf(store.DeliveryFilter{Destination: "oncall"})
		return len(ds) == 1 && ds[0].Status == store.StatusSent
	}, h.outboxSummary)
	log, err := h.svc.store.Attempts(context.Background(), ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Code != 429 || log[0].Status != store.StatusPending || log[1].Status != store.StatusSent ||
		!strings.Contains(log[0].Error, "too many requests") {
		t.Errorf("attempts %+v, want a retried 429 then sent", log)
	}
}

// flakyOpsGenie is a proxy in front of the fake OpsGenie that answers 500 to
// a random half of the API requests, either instead of passing them on
// (the fake never sees them) or after the fake processed them (the answer
// is lost). It logs every alert-changing request with the answer given.
//
// One request (method and path) is never refused more than 3 times in a
// row, so that a request-status check cannot keep failing until the send's
// 10 s timeout: the notifier would then rightly resend a create it could not
// confirm (a deduplicated create), which is not what this test is about.
type flakyOpsGenie struct {
	next  http.Handler
	after bool

	mu      sync.Mutex
	rng     *rand.Rand
	streak  map[string]int
	ops     []ogOp
	refused int
	total   int
}

func (p *flakyOpsGenie) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		p.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	id := r.Method + " " + r.URL.EscapedPath()
	p.mu.Lock()
	fail := p.streak[id] < 3 && p.rng.IntN(2) == 0
	if fail {
		p.streak[id]++
		p.refused++
	} else {
		delete(p.streak, id)
	}
	p.total++
	p.mu.Unlock()

	status := http.StatusInternalServerError
	switch {
	case !fail:
		rec := httptest.NewRecorder()
		p.next.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		status = rec.Code
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	case p.after:
		p.next.ServeHTTP(httptest.NewRecorder(), r)
		fallthrough
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"message":"Internal Server Error","took":0.0,"requestId":"00000000-0000-4000-8000-000000000000"}`)
	}
	if r.Method != http.MethodGet {
		p.mu.Lock()
		p.ops = append(p.ops, classifyOG(r.Method, r.URL.EscapedPath(), string(body), status, time.Now()))
		p.mu.Unlock()
	}
}

func (p *flakyOpsGenie) log() []ogOp {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ogOp(nil), p.ops...)
}

// TestE2EOpsGenie5xxStorm: many queues breach and recover while OpsGenie
// answers 500 to a random half of all requests (alert changes and status
// checks alike). In the end every alias has exactly one alert, created
// before it was closed; when the 500s come before OpsGenie processed the
// request, exactly one create and one close per alias were accepted.
func TestE2EOpsGenie5xxStorm(t *testing.T) {
	const queues = 50
	for _, after := range []bool{false, true} {
		name := "500 instead of processing"
		if after {
			name = "500 after processing"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.og.SetNotProcessedPolls(0)
			proxy := &flakyOpsGenie{next: h.og, after: after, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)),
				streak: map[string]int{}}
			srv := httptest.NewServer(proxy)
			t.Cleanup(srv.Close)
			h.start(rules(waitRule, "oncall"), e2eOpts{
				// More workers than the default 8, so the many retries
				// and status checks do not make the test slow.
				dispatcher: &notify.Options{Workers: 32},
				dests:      []string{"oncall"}, ogURL: srv.URL,
				extra: map[string]string{"*": fastRetry + "\nrate: 1000\nburst: 100"},
			})

			at := time.Now().Add(-time.Minute)
			var breach, recover []event
			for i := range queues {
				breach = append(breach, event{queue: queueID(i), metric: "longest_wait", value: 200, at: at})
				recover = append(recover, event{queue: queueID(i), metric: "longest_wait", value: 10, at: at.Add(time.Second)})
			}
			h.send(breach...)
			h.send(recover...)
			waitFor(t, 60*time.Second, "every delivery to be sent", func() bool { return h.owed() == 0 }, h.outboxSummary)

			proxy.mu.Lock()
			refused, total := proxy.refused, proxy.total
			proxy.mu.Unlock()
			if refused < total/4 {
				t.Errorf("only %d of %d requests refused; the storm did not happen", refused, total)
			}
			t.Logf("%d of %d OpsGenie requests answered 500", refused, total)

			alerts := map[string]int{}
			for _, a := range h.og.Alerts() {
				alerts[a.Alias]++
				if a.Status != "closed" {
					t.Errorf("alert %s is %s", a.Alias, a.Status)
				}
				if !after && a.Count != 1 {
					t.Errorf("alert %s count %d: a create was processed twice", a.Alias, a.Count)
				}
			}
			ops := byAlias(proxy.log())
			for i := range queues {
				alias := queueID(i) + "_long_wait"
				if alerts[alias] != 1 {
					t.Errorf("%s has %d alerts, want 1", alias, alerts[alias])
				}
				seq := ops[alias]
				// Every create attempt comes before every close attempt,
				// and a create was accepted before the first close.
				firstClose := len(seq)
				for j, o := range seq {
					if o.Op == "close" && firstClose == len(seq) {
						firstClose = j
					}
					if o.Op != "create" && o.Op != "close" {
						t.Errorf("%s: unexpected %s", alias, o)
					}
					if j > 0 && phase[o.Op] < phase[seq[j-1].Op] {
						t.Errorf("%s: %s after %s", alias, o, seq[j-1])
					}
				}
				if !after && opNames(accepted(seq)) != "create,close" {
					t.Errorf("%s: accepted %q, want create,close (all %v)", alias, opNames(accepted(seq)), seq)
				}
				if after {
					// Accepted or not, the create reached OpsGenie before
					// the first close was sent.
					if firstClose == 0 || firstClose == len(seq) {
						t.Errorf("%s: requests %v", alias, seq)
					}
				}
			}
			if dead := h.deliveriesOf(store.DeliveryFilter{Status: store.StatusDead}); len(dead) > 0 {
				t.Errorf("%d dead deliveries: %s", len(dead), dead[0].LastError)
			}
		})
	}
}

// TestE2EPermanentRefusalIsDeadLetteredAndRetried: a destination refuses a
// create for good (OpsGenie 422, Slack invalid_auth or token_revoked,
// PagerDuty's invalid routing key). The delivery is dead-lettered after one
// attempt with the vendor's reason in last_error; once the cause is fixed,
// RetryDead sends it, and the episode then closes normally.
func TestE2EPermanentRefusalIsDeadLetteredAndRetried(t *testing.T) {
	const otherPDKey = "fedcba9876543210fedcba9876543210"
	cases := []struct {
		name   string
		dest   string
		opts   e2eOpts
		break_ func(h *harness)
		fix    func(h *harness)
		code   int      // HTTP status of the refusal in the attempt log
		reason []string // texts last_error must contain
		check  func(t *testing.T, h *harness)
	}{
		{
			name: "opsgenie 422", dest: "oncall",
			break_: func(h *harness) {
				h.og.Faults.Add(faults.Fault{Status: http.StatusUnprocessableEntity, Method: "POST", Path: "/v2/alerts", Times: -1,
					Body: `{"message":"Request body is not processable","errors":{"message":"Message can not be empty."},"took":0.002,"requestId":"c1d2e3f4-0000-4000-8000-000000000001"}`})
			},
			fix:    func(h *harness) { h.og.Faults.Clear() },
			code:   422,
			reason: []string{"Request body is not processable", "message: Message can not be empty."},
			check: func(t *testing.T, h *harness) {
				if a := h.og.Alerts(); len(a) != 1 || a[0].Status != "closed" || a[0].Count != 1 {
					t.Errorf("alerts %+v", a)
				}
			},
		},
		{
			name: "slack invalid_auth", dest: "cc-slack", opts: e2eOpts{slackToken: "xoxb-not-a-valid-token"},
			break_: func(h *harness) {},
			fix:    func(h *harness) { h.slack.AddToken("xoxb-not-a-valid-token") },
			code:   200,
			reason: []string{"invalid_auth", "the bot token is missing or wrong"},
			check:  checkOneSlackEpisode,
		},
		{
			name: "slack token_revoked", dest: "cc-slack",
			break_: func(h *harness) { h.slack.RevokeToken(fakeslack.DefaultToken) },
			fix:    func(h *harness) { h.slack.AddToken(fakeslack.DefaultToken) },
			code:   200,
			reason: []string{"token_revoked", "reinstall the Slack app"},
			check:  checkOneSlackEpisode,
		},
		{
			name: "pagerduty invalid routing key", dest: "pd", opts: e2eOpts{pdKey: otherPDKey},
			break_: func(h *harness) {},
			fix:    func(h *harness) { h.pd.AddRoutingKey(otherPDKey) },
			code:   400,
			reason: []string{"Invalid routing key"},
			check: func(t *testing.T, h *harness) {
				if inc := h.pd.Incidents(); len(inc) != 1 || inc[0].Status != "resolved" || len(inc[0].Events) != 2 {
					t.Errorf("incidents %+v", inc)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.opts
			o.dests = []string{tc.dest}
			o.extra = map[string]string{"*": fastRetry}
			h := startE2EWith(t, rules(waitRule, tc.dest), o)
			tc.break_(h)
			q := queueID(7)
			at := time.Now().Add(-time.Minute)
			h.send(event{queue: q, metric: "longest_wait", value: 200, at: at})

			var dead []store.Delivery
			waitFor(t, 15*time.Second, "the create to be dead-lettered", func() bool {
				dead = h.deliveriesOf(store.DeliveryFilter{Status: store.StatusDead})
				return len(dead) == 1
			}, h.outboxSummary)
			d := dead[0]
			if d.Destination != tc.dest || d.Action != "create" || d.Attempts != 1 {
				t.Errorf("dead delivery %s %s after %d attempts, want the create after 1", d.Destination, d.Action, d.Attempts)
			}
			for _, want := range tc.reason {
				if !strings.Contains(d.LastError, want) {
					t.Errorf("last_error %q does not contain %q", d.LastError, want)
				}
			}

			// Retrying without the fix dead-letters it again.
			if err := h.svc.dispatcher.RetryDead(context.Background(), d.ID); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 15*time.Second, "the unfixed retry to be dead again", func() bool {
				ds := h.deliveriesOf(store.DeliveryFilter{Status: store.StatusDead})
				return len(ds) == 1 && ds[0].Attempts == 2
			}, h.outboxSummary)

			tc.fix(h)
			if err := h.svc.dispatcher.RetryDead(context.Background(), d.ID); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 15*time.Second, "the retried create to be sent", func() bool {
				ds := h.deliveriesOf(store.DeliveryFilter{})
				return len(ds) == 1 && ds[0].Status == store.StatusSent
			}, h.outboxSummary)
			// A delivery that is not dead cannot be retried.
			if err := h.svc.dispatcher.RetryDead(context.Background(), d.ID); !errors.Is(err, store.ErrConflict) {
				t.Errorf("RetryDead of a sent delivery: %v, want ErrConflict", err)
			}

			h.send(event{queue: q, metric: "longest_wait", value: 10, at: at.Add(time.Second)})
			waitFor(t, 15*time.Second, "the resolve", func() bool {
				return h.owed() == 0 && len(h.deliveriesOf(store.DeliveryFilter{})) == 2
			}, h.outboxSummary)
			tc.check(t, h)
			log, err := h.svc.store.Attempts(context.Background(), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 3 || log[0].Status != store.StatusDead || log[1].Status != store.StatusDead || log[2].Status != store.StatusSent ||
				log[0].Code != tc.code || log[0].Error != d.LastError {
				t.Errorf("attempts of the create: %+v, want dead (HTTP %d), dead, sent", log, tc.code)
			}
		})
	}
}

// checkOneSlackEpisode asserts one message, resolved in place with a reply.
func checkOneSlackEpisode(t *testing.T, h *harness) {
	t.Helper()
	if msgs := h.slack.Messages(fakeslack.DefaultChannel); len(msgs) != 1 || msgs[0].Edits != 1 || len(msgs[0].Replies) != 1 {
		t.Errorf("slack messages %+v", msgs)
	}
}

// TestE2EOpsGenieSlowUpdateAddsNoteOnce: an OpsGenie update is two
// requests (priority, note), confirmed through status checks (after 200 ms,
// then 400 ms later), with a timeout of 500 ms. The fake answers the first
// status check of each request "not processed yet", as OpsGenie may, so the
// first attempt ends unconfirmed. The retry confirms the requests OpsGenie
// already accepted instead of making them again: the update is sent, and
// the alert gets one note. (A retry that made the requests again would meet
// "not processed yet" each time, and add a note per attempt.)
func TestE2EOpsGenieSlowUpdateAddsNoteOnce(t *testing.T) {
	h := startE2EWith(t, rules(levelsRule, "oncall"), e2eOpts{
		dests: []string{"oncall"}, extra: map[string]string{"*": fastRetry + "\ntimeout: 500ms"},
	})
	q := queueID(3)
	alias := q + "_long_wait"
	at := time.Now().Add(-time.Minute)
	h.send(event{queue: q, metric: "longest_wait", value: 150, at: at})
	waitFor(t, 10*time.Second, "the create", func() bool { return h.owed() == 0 }, h.outboxSummary)
	h.send(event{queue: q, metric: "longest_wait", value: 350, at: at.Add(time.Second)})

	var update store.Delivery
	waitFor(t, 15*time.Second, "the update to be sent or tried three times", func() bool {
		for _, d := range h.deliveriesOf(store.DeliveryFilter{Key: alias}) {
			if d.Action == "update" {
				update = d
				return d.Status == store.StatusSent || d.Attempts >= 3
			}
		}
		return false
	}, h.outboxSummary)
	notes := 0
	for _, o := range accepted(ogOps(h.og.Requests())) {
		if o.Op == "note" {
			notes++
		}
	}
	if update.Status != store.StatusSent || notes != 1 {
		t.Errorf("after %d attempts the update is %s (%s); OpsGenie accepted %d notes for one priority change",
			update.Attempts, update.Status, update.LastError, notes)
	}
	if update.Attempts < 2 {
		t.Errorf("the update was sent at attempt %d; the test needs a first attempt that ends unconfirmed", update.Attempts)
	}
}
