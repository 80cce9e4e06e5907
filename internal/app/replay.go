package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/rule"
)

// ReplayOptions configures Replay.
type ReplayOptions struct {
	// Format is "text" (default) or "json" (one JSON object per line).
	Format string
	// Name names the input in error messages.
	Name string
	// Until, when set, advances the clock to this time after the last sample.
	Until time.Time
}

// recordedSample is one line of a replay file.
type recordedSample struct {
	At        *time.Time `json:"at"`
	QueueID   string     `json:"queue_id"`
	QueueName string     `json:"queue_name"`
	MediaType string     `json:"media_type"`
	Metric    string     `json:"metric"`
	Value     *float64   `json:"value"`
}

// Intended is a notification a transition would send.
type Intended struct {
	Destination string       `json:"destination"`
	Type        string       `json:"type"`
	Action      alert.Action `json:"action"`
	Key         string       `json:"key"`
	Priority    string       `json:"priority,omitempty"`
	Summary     string       `json:"summary"`
}

// replayRecord is one line of JSON output.
type replayRecord struct {
	Transition    alert.Transition `json:"transition"`
	Notifications []Intended       `json:"notifications"`
}

// Replay runs recorded samples through the configured rules with the
// samples' own clock and writes each transition and the notifications it
// would send. The same input always gives the same output.
func Replay(ctx context.Context, cfg *config.Config, in io.Reader, out io.Writer, opts ReplayOptions) error {
	if opts.Format == "" {
		opts.Format = "text"
	}
	if opts.Format != "text" && opts.Format != "json" {
		return fmt.Errorf("format %q: use text or json", opts.Format)
	}
	rules, err := rule.Compile(cfg)
	if err != nil {
		return err
	}
	rec := &recorder{}
	// One shard: transitions come out in exactly the order samples went in.
	eng, err := alert.New(alert.Options{Rules: rules, Committer: rec, Shards: 1})
	if err != nil {
		return err
	}
	defer eng.Close(context.Background())

	w := bufio.NewWriter(out)
	defer w.Flush()
	emit := func() error {
		for _, t := range rec.take() {
			if err := writeTransition(w, cfg, t, opts.Format); err != nil {
				return err
			}
		}
		return nil
	}
	var clock time.Time
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		s, err := parseRecorded([]byte(text))
		if err != nil {
			return fmt.Errorf("%s:%d: %w", opts.Name, line, err)
		}
		if s.At.After(clock) {
			if !clock.IsZero() {
				if err := eng.Advance(ctx, s.At); err != nil {
					return err
				}
			}
			clock = s.At
		}
		if err := eng.Observe(ctx, s); err != nil {
			return err
		}
		if err := emit(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", opts.Name, line+1, err)
	}
	if !opts.Until.IsZero() && opts.Until.After(clock) {
		if err := eng.Advance(ctx, opts.Until); err != nil {
			return err
		}
	}
	return emit()
}

func parseRecorded(b []byte) (metric.Sample, error) {
	var r recordedSample
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return metric.Sample{}, fmt.Errorf("not a sample: %w", err)
	}
	switch {
	case r.At == nil:
		return metric.Sample{}, errors.New(`"at" is missing (an RFC 3339 time)`)
	case r.QueueID == "":
		return metric.Sample{}, errors.New(`"queue_id" is missing`)
	case r.Value == nil:
		return metric.Sample{}, errors.New(`"value" is missing`)
	case math.IsNaN(*r.Value) || math.IsInf(*r.Value, 0):
		return metric.Sample{}, errors.New(`"value" must be a finite number`)
	}
	if _, ok := metric.Lookup(metric.Name(r.Metric)); !ok {
		return metric.Sample{}, fmt.Errorf("unknown metric %q (known: %s)", r.Metric, knownMetrics())
	}
	return metric.Sample{
		QueueID: r.QueueID, QueueName: r.QueueName, MediaType: r.MediaType,
		Metric: metric.Name(r.Metric), Value: *r.Value, At: r.At.UTC(), Source: metric.SourceReplay,
	}, nil
}

func knownMetrics() string {
	var names []string
	for _, n := range metric.Names() {
		names = append(names, string(n))
	}
	return strings.Join(names, ", ")
}

// intendedFor lists the notifications a transition owes.
func intendedFor(cfg *config.Config, t alert.Transition) []Intended {
	out := []Intended{}
	for _, name := range t.Destinations {
		d, _ := cfg.Destination(name)
		out = append(out, Intended{
			Destination: name, Type: d.Type, Action: t.Action, Key: t.Key,
			Priority: string(t.Priority), Summary: notificationSummary(t),
		})
	}
	return out
}

// notificationSummary is the one-line text a destination would show.
func notificationSummary(t alert.Transition) string {
	name := t.QueueName
	if name == "" {
		name = t.QueueID
	}
	v := metric.Format(t.Metric, t.Value)
	switch t.Action {
	case alert.ActionCreate:
		return fmt.Sprintf("ALARM: Queue %s %s is %s (threshold %s)", name, t.Metric, v, metric.Format(t.Metric, t.Threshold))
	case alert.ActionResolve:
		return fmt.Sprintf("RESOLVED: Queue %s %s restored to %s", name, t.Metric, v)
	default:
		if t.Note != "" {
			return t.Note
		}
		return fmt.Sprintf("UPDATE: Queue %s %s is %s: %s", name, t.Metric, v, t.Reason)
	}
}

func writeTransition(w io.Writer, cfg *config.Config, t alert.Transition, format string) error {
	intended := intendedFor(cfg, t)
	if format == "json" {
		b, err := json.Marshal(replayRecord{Transition: t, Notifications: intended})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if _, err := fmt.Fprintln(w, t.String()); err != nil {
		return err
	}
	if t.Held != "" {
		if _, err := fmt.Fprintf(w, "    notifications held: %s\n", t.Held); err != nil {
			return err
		}
	}
	for _, n := range intended {
		if _, err := fmt.Fprintf(w, "    → %s (%s): %s %s: %s\n", n.Destination, n.Type, n.Action, n.Key, n.Summary); err != nil {
			return err
		}
	}
	return nil
}

// recorder is an in-memory Committer for dry runs.
type recorder struct {
	mu sync.Mutex
	ts []alert.Transition
}

// Commit records transitions.
func (r *recorder) Commit(_ context.Context, ts []alert.Transition) error {
	r.mu.Lock()
	r.ts = append(r.ts, ts...)
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []alert.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := r.ts
	r.ts = nil
	return ts
}
