package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/fake/webhookrecv"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/webhook"
	"github.com/queuewatch/queuewatch/internal/store"
)

const secret = "whsec-TOPSECRET-4f1c9a"

var (
	start = time.Date(2026, 8, 25, 9, 14, 3, 0, time.UTC)
	clock = func() time.Time { return start.Add(time.Minute) }
)

// setup starts a receiver verifying with recvSecret and a notifier signing
// with secret and posting to path on it.
func setup(t *testing.T, recvSecret, path string, mod func(*webhook.Config)) (*webhookrecv.Server, *webhook.Notifier) {
	t.Helper()
	recv := webhookrecv.New(recvSecret)
	cfg := webhook.Config{
		Name: "tooling", URL: recv.Start(t) + path, Secret: config.Secret(secret),
		PublicURL: "https://queuewatch.example.com", Now: clock,
	}
	if mod != nil {
		mod(&cfg)
	}
	n, err := webhook.New(cfg, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return recv, n
}

func delivery(id int64, a alert.Action) store.Delivery {
	ep := &alert.Episode{
		ID: "q1_sla_breach@1", Key: "q1_sla_breach", Rule: "sla_breach", QueueID: "q1",
		QueueName: "Billing DE", Metric: "service_level", Start: start, Worst: 62.5, WorstAt: start, Priority: alert.P1,
	}
	return store.Delivery{
		ID: id, Destination: "tooling", Key: "q1_sla_breach", EpisodeID: ep.ID, Action: a,
		Transition: alert.Transition{
			Key: "q1_sla_breach", Rule: "sla_breach", QueueID: "q1", QueueName: "Billing DE", MediaType: "voice",
			Metric: "service_level", At: start, From: alert.Pending, To: alert.Firing, Action: a,
			Reason: "service_level below 80% for 1m", Value: 62.5, Threshold: 80, Clear: 85,
			Priority: alert.P1, Episode: ep,
		},
	}
}

func send(t *testing.T, n *webhook.Notifier, d store.Delivery, timeout time.Duration) (notify.Receipt, error) {
	t.Helper()
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return n.Notify(ctx, d, nil)
}

func asError(t *testing.T, err error) *notify.Error {
	t.Helper()
	var ne *notify.Error
	if !errors.As(err, &ne) {
		t.Fatalf("error %v (%T) is not a *notify.Error", err, err)
	}
	return ne
}
