package pagerduty_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	fakepd "github.com/queuewatch/queuewatch/internal/fake/pagerduty"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/pagerduty"
	"github.com/queuewatch/queuewatch/internal/store"
)

// routingKey is a well-formed integration key; tests look for it in errors.
const routingKey = "R0UT1NGKEYsecret0123456789abcdef"

var (
	start = time.Date(2026, 8, 25, 9, 14, 3, 0, time.UTC)
	clock = func() time.Time { return start.Add(time.Hour) }
)

// setup starts a fake PagerDuty and a notifier pointed at it.
func setup(t *testing.T, mod func(*pagerduty.Config)) (*fakepd.Server, *pagerduty.Notifier) {
	t.Helper()
	fake := fakepd.New()
	cfg := pagerduty.Config{
		Name:       "pd",
		BaseURL:    fake.Start(t),
		RoutingKey: config.Secret(routingKey),
		PublicURL:  "https://queuewatch.example.com",
		QueueURL: func(id string) string {
			return "https://apps.mypurecloud.com/directory/#/admin/admin/organization/_queuesV2/" + id
		},
		Now: clock,
	}
	if mod != nil {
		mod(&cfg)
	}
	n, err := pagerduty.New(cfg, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return fake, n
}

// delivery returns a delivery of the alert key "q1_sla_breach".
func delivery(id int64, a alert.Action, p alert.Priority) store.Delivery {
	ep := &alert.Episode{
		ID: "q1_sla_breach@1", Key: "q1_sla_breach", Rule: "sla_breach", QueueID: "q1",
		QueueName: "Billing DE", Metric: "service_level", Start: start, Worst: 62.5, WorstAt: start, Priority: p,
	}
	return store.Delivery{
		ID: id, Destination: "pd", Key: "q1_sla_breach", EpisodeID: ep.ID, Action: a,
		Transition: alert.Transition{
			Key: "q1_sla_breach", Rule: "sla_breach", QueueID: "q1", QueueName: "Billing DE",
			Metric: "service_level", At: start, From: alert.Pending, To: alert.Firing, Action: a,
			Reason: "service_level below 80% for 1m", Value: 62.5, Threshold: 80, Clear: 85,
			Priority: p, Episode: ep,
		},
	}
}

// send notifies with a short deadline.
func send(t *testing.T, n *pagerduty.Notifier, d store.Delivery) (notify.Receipt, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return n.Notify(ctx, d, nil)
}

// mustSend fails the test unless the delivery is accepted.
func mustSend(t *testing.T, n *pagerduty.Notifier, d store.Delivery) notify.Receipt {
	t.Helper()
	r, err := send(t, n, d)
	if err != nil {
		t.Fatalf("%s: %v", d.Action, err)
	}
	return r
}

// asError returns err as a *notify.Error or fails the test.
func asError(t *testing.T, err error) *notify.Error {
	t.Helper()
	var ne *notify.Error
	if !errors.As(err, &ne) {
		t.Fatalf("error %v (%T) is not a *notify.Error", err, err)
	}
	return ne
}
