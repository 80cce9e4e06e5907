package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/store"
)

// httpNotifier posts each delivery as JSON and classifies the answer the
// way vendor packages do, taking the reason from an OpsGenie-style body.
type httpNotifier struct {
	url    string
	client *http.Client
}

func (n *httpNotifier) Notify(ctx context.Context, d store.Delivery, _ *store.Ref) (Receipt, error) {
	body, _ := json.Marshal(map[string]any{"alias": d.Key, "action": d.Action})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return Receipt{}, &Error{Reason: "bad request", Err: err}
	}
	resp, err := n.client.Do(req)
	if e := Classify(resp, err); e != nil {
		if resp != nil {
			b, _ := ReadErrorBody(resp.Body, 0)
			var v struct{ Message string }
			if json.Unmarshal(b, &v) == nil && v.Message != "" {
				e.Reason = v.Message
			}
		}
		return Receipt{}, e
	}
	DrainBody(resp.Body)
	return Receipt{Code: resp.StatusCode}, nil
}

// answers serves the given answers in turn, then 202s, counting requests.
type answers struct {
	hits atomic.Int32
	list []func(w http.ResponseWriter)
}

func (a *answers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(a.hits.Add(1))
	if n <= len(a.list) {
		a.list[n-1](w)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func TestSendStoresRefAndPassesIt(t *testing.T) {
	st, c, obs := openStore(t), newFakeClock(base), &fakeObserver{}
	n := &fakeNotifier{clock: c, fn: func(_ context.Context, d store.Delivery, prev *store.Ref) (Receipt, error) {
		if prev == nil {
			return Receipt{Code: 200, Ref: "C1/1700000000.000100"}, nil
		}
		return Receipt{Code: 200}, nil
	}}
	at := base.Add(-30 * time.Second)
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, at, "slack"), tr("q1_sla", "e1", alert.ActionUpdate, at, "slack"))
	d := NewDispatcher(st, []Destination{{Name: "slack", Type: "slack", Notifier: n}},
		Options{Clock: c, Tick: time.Hour, Logger: quietLogger(), Observer: obs})
	start(t, d)
	waitFor(t, "both sent", func() bool { return countStatus(t, st, "slack", store.StatusSent) == 2 })

	got := n.Sent()
	if len(got) != 2 || got[0].Action != alert.ActionCreate || got[0].Prev != "" ||
		got[1].Action != alert.ActionUpdate || got[1].Prev != "C1/1700000000.000100" {
		t.Errorf("sends = %+v, want the create without a ref, then the update with the create's ref", got)
	}
	ref, err := st.GetRef(t.Context(), "slack", "e1")
	if err != nil || ref.Value != "C1/1700000000.000100" || ref.Key != "q1_sla" {
		t.Errorf("stored ref = %+v, %v", ref, err)
	}
	for _, e := range obs.Events() {
		if e.Kind != "sent" || e.Dest != "slack" || e.Latency != 30*time.Second {
			t.Errorf("observer event %+v, want sent with the 30s since the transition", e)
		}
	}
	if len(obs.Events()) != 2 {
		t.Errorf("observer saw %d events, want 2", len(obs.Events()))
	}
}

func TestWakeSendsPromptly(t *testing.T) {
	st, c := openStore(t), newFakeClock(base)
	n := &fakeNotifier{clock: c}
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n}},
		Options{Clock: c, Tick: time.Hour, Logger: quietLogger()})
	start(t, d)
	// Asleep with nothing owed: its only timer is the hour-long tick.
	waitFor(t, "the dispatcher to sleep", func() bool {
		p := c.Pending()
		return len(p) == 1 && p[0] == time.Hour
	})
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"))
	d.Wake()
	// No time passes: only Wake can have started the send.
	waitFor(t, "the woken send", func() bool { return len(n.Sent()) == 1 })
	if !c.Now().Equal(base) {
		t.Errorf("fake time moved to %v", c.Now())
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name    string
		header  func() string
		backoff Backoff
		min     time.Duration
		max     time.Duration
	}{
		{"seconds", func() string { return "120" }, Backoff{}, 120 * time.Second, 120 * time.Second},
		{"capped", func() string { return "3600" }, Backoff{MaxRetryAfter: 10 * time.Minute},
			10 * time.Minute, 10 * time.Minute},
		{"http date", func() string { return time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat) },
			Backoff{}, 88 * time.Second, 90 * time.Second},
		{"backoff longer", func() string { return "1" },
			Backoff{Initial: time.Minute, Rand: func() float64 { return 0.5 }}, 30 * time.Second, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &answers{list: []func(http.ResponseWriter){func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", tc.header())
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"message":"TooManyRequests"}`))
			}}}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			st, c, obs := openStore(t), newFakeClock(base), &fakeObserver{}
			if tc.backoff.Rand == nil {
				tc.backoff.Rand = func() float64 { return 0 }
			}
			d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: &httpNotifier{hs.URL, hs.Client()},
				Backoff: tc.backoff}}, Options{Clock: c, Tick: time.Hour, Logger: quietLogger(), Observer: obs})
			commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"))
			start(t, d)
			waitFor(t, "the 429 recorded", func() bool { return deliveries(t, st, "oncall")[0].Attempts == 1 })
			dl := deliveries(t, st, "oncall")[0]
			a := attempts(t, st, dl.ID)[0]
			wait := dl.NextAttemptAt.Sub(a.At)
			if dl.Status != store.StatusPending || a.Code != 429 || wait < tc.min || wait > tc.max {
				t.Fatalf("after a 429: status %s code %d, next attempt in %v; want pending, 429, in [%v, %v]",
					dl.Status, a.Code, wait, tc.min, tc.max)
			}
			if !strings.Contains(a.Error, "TooManyRequests") {
				t.Errorf("attempt error %q, want the vendor's reason", a.Error)
			}
			// The dispatcher sleeps exactly until the next attempt is due.
			waitNextTimer(t, c, "the retry timer", wait)
			if srv.hits.Load() != 1 {
				t.Fatalf("%d requests before the retry time, want 1", srv.hits.Load())
			}
			c.Advance(wait)
			waitFor(t, "the resend", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == 1 })
			if ev := obs.Events(); len(ev) != 2 || ev[0].Reason != "rate_limited" || !ev[0].Retryable {
				t.Errorf("observer events %+v, want rate_limited then sent", ev)
			}
		})
	}
}

func TestPermanentErrorThenRetryDead(t *testing.T) {
	srv := &answers{list: []func(http.ResponseWriter){func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write([]byte(`{"message":"Request body is not processable. Please check the errors.","took":0.08}`))
	}}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	st, c, obs := openStore(t), newFakeClock(base), &fakeObserver{}
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: &httpNotifier{hs.URL, hs.Client()}}},
		Options{Clock: c, Tick: time.Hour, Logger: quietLogger(), Observer: obs})
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"))
	start(t, d)
	waitFor(t, "the dead letter", func() bool { return countStatus(t, st, "oncall", store.StatusDead) == 1 })
	dl := deliveries(t, st, "oncall")[0]
	if !strings.Contains(dl.LastError, "Request body is not processable") {
		t.Errorf("LastError = %q, want the vendor's message", dl.LastError)
	}
	if a := attempts(t, st, dl.ID); len(a) != 1 || a[0].Code != 422 || a[0].Status != store.StatusDead {
		t.Errorf("attempts = %+v, want one dead 422", a)
	}
	want := []event{
		{Kind: "failed", Dest: "oncall", Action: "create", Reason: "client_error"},
		{Kind: "dead", Dest: "oncall", Action: "create", Reason: "client_error"},
	}
	if got := obs.Events(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("observer events %+v, want %+v", got, want)
	}

	if err := d.RetryDead(t.Context(), dl.ID); err != nil {
		t.Fatalf("RetryDead: %v", err)
	}
	waitFor(t, "the retried send", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == 1 })
	if a := attempts(t, st, dl.ID); len(a) != 2 || a[1].Status != store.StatusSent || a[1].Code != 202 {
		t.Errorf("attempts = %+v, want dead then sent", a)
	}
	if err := d.RetryDead(t.Context(), dl.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RetryDead of a sent delivery = %v, want ErrConflict", err)
	}
	if err := d.RetryDead(t.Context(), 4242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RetryDead of an unknown delivery = %v, want ErrNotFound", err)
	}
}

func TestRetryDeadRefusesToReorder(t *testing.T) {
	st, c := openStore(t), newFakeClock(base)
	n := &fakeNotifier{clock: c, fn: func(_ context.Context, d store.Delivery, _ *store.Ref) (Receipt, error) {
		if d.Action == alert.ActionCreate {
			return Receipt{}, &Error{Reason: "Key is invalid", Code: 401}
		}
		return Receipt{Code: 202}, nil
	}}
	d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n}},
		Options{Clock: c, Tick: time.Hour, Logger: quietLogger()})
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"), tr("q1_sla", "e1", alert.ActionResolve, base, "oncall"))
	start(t, d)
	waitFor(t, "create dead, resolve sent", func() bool {
		ds := deliveries(t, st, "oncall")
		return ds[0].Status == store.StatusDead && ds[1].Status == store.StatusSent
	})
	create := deliveries(t, st, "oncall")[0]
	if err := d.RetryDead(t.Context(), create.ID); !errors.Is(err, store.ErrConflict) ||
		!strings.Contains(err.Error(), "reorder") {
		t.Errorf("RetryDead of a create whose resolve was sent = %v, want ErrConflict", err)
	}
	if got := deliveries(t, st, "oncall")[0].Status; got != store.StatusDead {
		t.Errorf("status after the refused retry = %s", got)
	}
}

func TestHangingNotifierTimesOut(t *testing.T) {
	tests := []struct {
		name     string
		obeysCtx bool
	}{{"honours its context", true}, {"ignores its context", false}}
	abandonGrace = 50 * time.Millisecond
	t.Cleanup(func() { abandonGrace = 2 * time.Second })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, c := openStore(t), newFakeClock(base)
			stuck := make(chan struct{})
			defer close(stuck)
			var calls atomic.Int32
			n := &fakeNotifier{clock: c, fn: func(ctx context.Context, _ store.Delivery, _ *store.Ref) (Receipt, error) {
				if calls.Add(1) > 1 {
					return Receipt{Code: 202}, nil
				}
				if tc.obeysCtx {
					<-ctx.Done()
					return Receipt{}, ctx.Err()
				}
				<-stuck
				return Receipt{Code: 202}, nil
			}}
			d := NewDispatcher(st, []Destination{{Name: "oncall", Notifier: n, Timeout: 50 * time.Millisecond,
				Backoff: Backoff{Rand: func() float64 { return 0 }}}},
				Options{Clock: c, Tick: time.Hour, Logger: quietLogger()})
			commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "oncall"))
			start(t, d)
			waitFor(t, "the send after the timeout", func() bool { return countStatus(t, st, "oncall", store.StatusSent) == 1 })
			a := attempts(t, st, deliveries(t, st, "oncall")[0].ID)
			if len(a) != 2 || a[0].Status != store.StatusPending || !strings.Contains(a[0].Error, "timeout") ||
				a[1].Status != store.StatusSent {
				t.Errorf("attempts = %+v, want a pending timeout, then sent", a)
			}
		})
	}
}
