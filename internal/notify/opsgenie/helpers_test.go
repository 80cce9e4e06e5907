package opsgenie

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	fake "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

var start = time.Date(2026, 3, 30, 5, 36, 0, 0, time.UTC)

// fixture is a fake OpsGenie and a Notifier pointed at it.
type fixture struct {
	fake *fake.Server
	url  string
	n    *Notifier
}

// newFixture starts a fake and a notifier; edit tweaks the config.
func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{fake: fake.New()}
	f.url = f.fake.Start(t)
	cfg := Config{
		Name:         "oncall",
		BaseURL:      f.url,
		APIKey:       fake.DefaultKey,
		Responders:   []Responder{{Type: "team", Name: "Contact Center Ops"}, {Type: "user", Name: "ann@example.com"}},
		Tags:         []string{"contact-center"},
		PublicURL:    "https://qw.example.com/",
		QueueURL:     func(id string) string { return "https://apps.mypurecloud.com/directory/#/admin/routing/queues/" + id },
		PollInterval: time.Millisecond,
		PollMax:      5 * time.Millisecond,
		Now:          func() time.Time { return start.Add(time.Hour) },
	}
	if edit != nil {
		edit(&cfg)
	}
	n, err := New(cfg, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	f.n = n
	return f
}

// transition returns a breach of "Support - Voice" for action.
func transition(action alert.Action) alert.Transition {
	return alert.Transition{
		Key: "3f0c8d1e-0000-4000-8000-000000000001_sla_breach", Rule: "sla_breach",
		QueueID: "3f0c8d1e-0000-4000-8000-000000000001", QueueName: "Support - Voice",
		Metric: metric.ServiceLevel, At: start, From: alert.Pending, To: alert.Firing, Action: action,
		Reason: "breach held for 1m0s", Value: 70, Threshold: 80, Clear: 85, Target: 80, Priority: alert.P2,
		Episode: &alert.Episode{
			ID: "3f0c8d1e-0000-4000-8000-000000000001_sla_breach@1774848960000", Start: start,
			Worst: 70, WorstAt: start, Priority: alert.P2,
		},
	}
}

// resolved returns the resolve of the breach after 12 minutes at 86%.
func resolved() alert.Transition {
	t := transition(alert.ActionResolve)
	t.From, t.To, t.Reason = alert.Resolving, alert.OK, "clear held for 2m0s"
	t.At = start.Add(12 * time.Minute)
	t.Value = 86
	t.Episode.End = t.At
	t.Episode.Worst = 62
	return t
}

func delivery(t alert.Transition) store.Delivery {
	d := store.Delivery{ID: 1, Destination: "oncall", Key: t.Key, Action: t.Action, Transition: t}
	if t.Episode != nil {
		d.EpisodeID = t.Episode.ID
	}
	return d
}

// send delivers t with a deadline.
func (f *fixture) send(t *testing.T, tr alert.Transition) (notify.Receipt, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return f.n.Notify(ctx, delivery(tr), nil)
}

// mustSend delivers t and fails the test on error.
func (f *fixture) mustSend(t *testing.T, tr alert.Transition) notify.Receipt {
	t.Helper()
	r, err := f.send(t, tr)
	if err != nil {
		t.Fatalf("%s: %v", tr.Action, err)
	}
	return r
}

// asNotifyError unwraps err to a *notify.Error or fails.
func asNotifyError(t *testing.T, err error) *notify.Error {
	t.Helper()
	var ne *notify.Error
	if !errors.As(err, &ne) {
		t.Fatalf("want a *notify.Error, got %T %v", err, err)
	}
	return ne
}
