package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/store"
)

// TestNotify sends a clearly marked test alert and then its close to each
// configured destination (or only the one named), directly rather than
// through the outbox, and reports per destination what happened. It returns
// an error when any destination failed.
func TestNotify(ctx context.Context, cfg *config.Config, only string, out io.Writer) error {
	dests, err := buildDestinations(cfg, &http.Client{})
	if err != nil {
		return err
	}
	if only != "" {
		var kept []notify.Destination
		for _, d := range dests.list {
			if d.Name == only {
				kept = append(kept, d)
			}
		}
		if len(kept) == 0 {
			return fmt.Errorf("no destination named %q", only)
		}
		dests.list = kept
	}
	if len(dests.list) == 0 {
		return errors.New("the configuration has no destinations")
	}
	now := time.Now().UTC()
	failed := 0
	for _, d := range dests.list {
		create, resolve := testTransitions(d.Name, now)
		var ref *store.Ref
		for i, t := range []alert.Transition{create, resolve} {
			timeout := d.Timeout
			if timeout <= 0 {
				timeout = notify.DefaultTimeout
			}
			sctx, cancel := context.WithTimeout(ctx, timeout)
			del := store.Delivery{ID: int64(-1 - i), Destination: d.Name, Key: t.Key, EpisodeID: t.Episode.ID, Action: t.Action, Transition: t, Status: store.StatusInflight}
			start := time.Now()
			rc, err := d.Notifier.Notify(sctx, del, ref)
			cancel()
			took := time.Since(start).Round(time.Millisecond)
			if err != nil {
				failed++
				fmt.Fprintf(out, "%-16s %-9s %-8s FAILED after %s: %v\n", d.Name, d.Type, t.Action, took, err)
				break
			}
			if rc.Ref != "" {
				ref = &store.Ref{Destination: d.Name, EpisodeID: t.Episode.ID, Key: t.Key, Value: rc.Ref, UpdatedAt: time.Now()}
			}
			note := ""
			if rc.Note != "" {
				note = " (" + rc.Note + ")"
			}
			fmt.Fprintf(out, "%-16s %-9s %-8s ok in %s, HTTP %d%s\n", d.Name, d.Type, t.Action, took, rc.Code, note)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d destinations failed", failed, len(dests.list))
	}
	return nil
}

// testTransitions returns a create and its resolve for a queue no one has:
// "queuewatch test", so nobody mistakes it for a real breach.
func testTransitions(dest string, now time.Time) (alert.Transition, alert.Transition) {
	const queueID, rule = "queuewatch-test", "test_notify"
	key := alert.Key(queueID, rule, "")
	ep := &alert.Episode{ID: fmt.Sprintf("%s@%d", key, now.UnixMilli()), Key: key, Rule: rule, QueueID: queueID,
		QueueName: "queuewatch test (not a real queue)", Metric: metric.ServiceLevel, Start: now, Worst: 42, WorstAt: now,
		Priority: alert.P5, Notified: true, Destinations: []string{dest}}
	create := alert.Transition{Key: key, Rule: rule, QueueID: queueID, QueueName: ep.QueueName, Metric: metric.ServiceLevel,
		At: now, From: alert.OK, To: alert.Firing, Action: alert.ActionCreate, Reason: "test-notify: this is a test, nothing is wrong",
		Note: "Sent by queuewatch test-notify to check this destination. It closes itself.", Value: 42, Threshold: 80, Clear: 80,
		Priority: alert.P5, Destinations: []string{dest}, Episode: ep}
	resolve := create
	end := *ep
	end.End = now.Add(time.Second)
	resolve.Episode, resolve.At = &end, end.End
	resolve.From, resolve.To, resolve.Action = alert.Firing, alert.OK, alert.ActionResolve
	resolve.Value, resolve.Reason = 99, "test-notify: closing the test alert"
	return create, resolve
}
