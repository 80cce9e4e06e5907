package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
	"github.com/queuewatch/queuewatch/internal/store"
)

// t0 is the start of every test episode.
var t0 = time.Date(2026, 9, 1, 14, 3, 0, 0, time.UTC)

// clock is a settable test clock shared by the fake and the notifier.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a fake Slack and a notifier pointed at it.
type env struct {
	fake  *fakeslack.Server
	url   string
	clock *clock
	n     *slack.Notifier
	cfg   slack.Config
}

// newEnv starts a fake Slack without rate limits and a notifier for its
// default channel that does not pace its requests; edit changes the config
// first.
func newEnv(t *testing.T, edit func(*slack.Config)) *env {
	t.Helper()
	e := &env{fake: fakeslack.New(), clock: &clock{t: t0}}
	e.fake.SetClock(e.clock.Now)
	e.fake.SetRateLimits(fakeslack.Rate{}, fakeslack.Rate{})
	e.url = e.fake.Start(t)
	e.cfg = slack.Config{
		Name: "cc-slack", BaseURL: e.url, Token: fakeslack.DefaultToken, Channel: fakeslack.DefaultChannel,
		PublicURL: "https://queuewatch.example.com",
		QueueURL:  func(id string) string { return "https://apps.mypurecloud.com/directory/#/admin/routing/queues/" + id },
		Now:       e.clock.Now,
		PostRate:  -1, UpdateRate: -1,
	}
	if edit != nil {
		edit(&e.cfg)
	}
	e.n = e.renew(t)
	return e
}

// renew returns a fresh notifier with the env's config, as after a restart.
func (e *env) renew(t *testing.T) *slack.Notifier {
	t.Helper()
	n, err := slack.New(e.cfg, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// episode builds the transitions of one queue's breach episode.
type episode struct {
	queue, name string
	start       time.Time
	worst       float64
}

func newEpisode(i int) *episode {
	return &episode{queue: fmt.Sprintf("q%03d", i), name: fmt.Sprintf("Support %03d - Voice", i), start: t0, worst: 100}
}

func (ep *episode) key() string { return alert.Key(ep.queue, "sla_breach", "") }

// delivery returns a delivery of action with value v and priority p.
func (ep *episode) delivery(action alert.Action, v float64, p alert.Priority, at time.Time) store.Delivery {
	ep.worst = min(ep.worst, v)
	e := &alert.Episode{
		ID: "ep-" + ep.queue, Key: ep.key(), Rule: "sla_breach", QueueID: ep.queue, QueueName: ep.name,
		Metric: metric.ServiceLevel, Start: ep.start, Worst: ep.worst, WorstAt: at, Priority: p,
	}
	if action == alert.ActionResolve {
		e.End = at
	}
	tr := alert.Transition{
		Key: ep.key(), Rule: "sla_breach", QueueID: ep.queue, QueueName: ep.name, Metric: metric.ServiceLevel,
		At: at, Action: action, Reason: "service level below 80% for 1m", Value: v, Threshold: 80, Clear: 85,
		Target: 80, Priority: p, Episode: e,
	}
	return store.Delivery{ID: at.UnixNano(), Destination: "cc-slack", Key: ep.key(), EpisodeID: e.ID, Action: action, Transition: tr}
}

// ref wraps a receipt's handle as the store would hand it back.
func ref(r notify.Receipt) *store.Ref {
	if r.Ref == "" {
		return nil
	}
	return &store.Ref{Destination: "cc-slack", Value: r.Ref}
}

// send is Notify that fails the test on error.
func send(t *testing.T, n *slack.Notifier, d store.Delivery, prev *store.Ref) notify.Receipt {
	t.Helper()
	r, err := n.Notify(context.Background(), d, prev)
	if err != nil {
		t.Fatalf("notify %s %s: %v", d.Action, d.Key, err)
	}
	return r
}

// blocksOf decodes a fake message's blocks.
func blocksOf(t *testing.T, m fakeslack.Message) []map[string]any {
	t.Helper()
	if m.Blocks == nil {
		return nil
	}
	var bs []map[string]any
	if err := json.Unmarshal(m.Blocks, &bs); err != nil {
		t.Fatal(err)
	}
	return bs
}

// headerOf returns the text of a message's header block.
func headerOf(t *testing.T, m fakeslack.Message) string {
	t.Helper()
	for _, b := range blocksOf(t, m) {
		if b["type"] == "header" {
			return b["text"].(map[string]any)["text"].(string)
		}
	}
	return ""
}

// sectionsOf joins the texts of a message's section blocks.
func sectionsOf(t *testing.T, m fakeslack.Message) string {
	t.Helper()
	var parts []string
	for _, b := range blocksOf(t, m) {
		if tx, ok := b["text"].(map[string]any); ok && b["type"] == "section" {
			parts = append(parts, tx["text"].(string))
		}
	}
	return strings.Join(parts, "\n")
}

// asError extracts the *notify.Error of err.
func asError(t *testing.T, err error) *notify.Error {
	t.Helper()
	var ne *notify.Error
	if !errorsAs(err, &ne) {
		t.Fatalf("error %v (%T) is not a *notify.Error", err, err)
	}
	return ne
}
