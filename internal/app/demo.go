package app

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/rule"
	"github.com/queuewatch/queuewatch/internal/sim"
)

//go:embed demo.yaml
var demoConfig []byte

// DemoOptions configures Demo.
type DemoOptions struct {
	Queues   int
	Speed    float64       // simulated seconds per real second
	Duration time.Duration // simulated time to run; 0 runs until ctx ends
	Seed     uint64
	Store    string // SQLite file; default a temporary one
	// Start is the simulated start time; default today 11:30 UTC.
	Start time.Time
}

// DemoConfig returns the configuration the demo runs with.
func DemoConfig() (*config.Config, error) {
	return config.Parse("demo.yaml", demoConfig, func(string) (string, bool) { return "", false })
}

// Demo runs the simulator through the real engine and a real SQLite store,
// printing each transition and the notifications it would send.
func Demo(ctx context.Context, opts DemoOptions, out io.Writer) error {
	cfg, err := DemoConfig()
	if err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	rules, err := rule.Compile(cfg)
	if err != nil {
		return err
	}
	path := opts.Store
	if path == "" {
		dir, err := os.MkdirTemp("", "queuewatch-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "queuewatch.db")
	}
	st, err := OpenStore(ctx, "sqlite:"+path)
	if err != nil {
		return err
	}
	defer st.Close()
	// Resume what a previous run with the same --store left open.
	states, err := st.LoadSeries(ctx)
	if err != nil {
		return err
	}
	eng, err := alert.New(alert.Options{Rules: rules, Committer: st})
	if err != nil {
		return err
	}
	defer eng.Close(context.Background())
	committed, unsubscribe := eng.Subscribe(1 << 16)
	defer unsubscribe()
	if err := eng.Restore(ctx, states); err != nil {
		return err
	}

	start := opts.Start
	if start.IsZero() {
		start = time.Now().UTC().Truncate(24 * time.Hour).Add(11*time.Hour + 30*time.Minute)
	}
	scenario := sim.DemoScenario(start, opts.Queues)
	if opts.Seed != 0 {
		scenario.Seed = opts.Seed
	}
	model := sim.New(scenario)
	fmt.Fprintf(out, "queuewatch demo: %d simulated queues at %g× speed, state in %s\n", len(scenario.Queues), opts.Speed, path)
	for _, in := range scenario.Incidents {
		fmt.Fprintf(out, "  scripted: %s on %q from minute %g for %s\n", in.Kind, queueName(scenario, in.QueueID), in.Start.Minutes(), in.Duration)
	}
	fmt.Fprintln(out, "Rules: sla_breach (service level below the queue's target), long_wait (>2m P3, >5m P1), abandon_rate (>15%). Ctrl-C stops.")
	fmt.Fprintln(out)

	const step = time.Second
	realStart := time.Now()
	var simulated time.Duration
	for opts.Duration == 0 || simulated < opts.Duration {
		samples := model.Advance(step)
		simulated += step
		if err := eng.Observe(ctx, samples...); err != nil {
			return demoErr(ctx, err)
		}
		if err := eng.Advance(ctx, model.Now()); err != nil {
			return demoErr(ctx, err)
		}
		// Observe and Advance return after their transitions are committed
		// and published; print them.
		if err := printCommitted(cfg, committed, out); err != nil {
			return err
		}
		// Pace simulated time against real time.
		due := realStart.Add(time.Duration(float64(simulated) / opts.Speed))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

func demoErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil // interrupted
	}
	return err
}

func queueName(cfg sim.Config, id string) string {
	for _, q := range cfg.Queues {
		if q.ID == id {
			return q.Name
		}
	}
	return id
}

func printCommitted(cfg *config.Config, ch <-chan alert.Transition, out io.Writer) error {
	for {
		select {
		case t := <-ch:
			if err := writeTransition(out, cfg, t, "text"); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}
