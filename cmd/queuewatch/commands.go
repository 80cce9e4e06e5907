package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/queuewatch/queuewatch/internal/app"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/memlimit"
)

func checkConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check-config", "check-config --config FILE",
		"Validates a configuration file with the same code serve uses. Prints every problem as\nfile:line: key: message and exits 1, or prints a summary and exits 0.", stderr)
	path := configFlag(fs)
	cfg, err := parseAndLoad(fs, args, path)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, app.Summary(cfg))
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve --config FILE",
		"Runs the service: loads the configuration, opens the store, resumes open alerts and\nserves HTTP until SIGINT or SIGTERM, then finishes in-flight writes and exits.\n"+
			"SIGHUP (or POST /-/reload with the API token) reloads the configuration file: a valid\n"+
			"file replaces the running configuration without dropping connections; an invalid one\n"+
			"is reported (file:line: key: message) and changes nothing.", stderr)
	path := configFlag(fs)
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn or error (default: the configuration's log_level)")
	cfg, err := parseAndLoad(fs, args, path)
	if err != nil {
		return err
	}
	level := cfg.LogLevel
	if *logLevel != "" {
		level = *logLevel
	}
	log, err := app.NewLogger(stderr, *logFormat, level)
	if err != nil {
		return err
	}
	go memlimit.Run(ctx, os.Getenv, 5*time.Second, log)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is already due
				}
			}
		}
	}()
	return app.ServeReloading(ctx, app.ReloadOptions{
		Config: cfg, Log: log, Reload: reload,
		Load: func() (*config.Config, error) { return config.Load(*path) },
	})
}

func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", "replay --config FILE [--format text|json] EVENTS.jsonl",
		"Feeds recorded samples through the configured rules using the samples' own clock and\n"+
			"prints each transition and the notifications it would send. Nothing is stored or sent.\n"+
			"Each input line is {\"at\",\"queue_id\",\"queue_name\",\"media_type\",\"metric\",\"value\"}; \"-\" reads standard input.", stderr)
	path := configFlag(fs)
	format := fs.String("format", "text", "output format: text or json")
	until := fs.String("until", "", "advance the clock to this RFC 3339 `time` after the last sample (completes pending and resolving alerts)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	opts := app.ReplayOptions{Format: *format, Name: fs.Arg(0)}
	if *until != "" {
		t, err := time.Parse(time.RFC3339, *until)
		if err != nil {
			return fmt.Errorf("--until: %w", err)
		}
		opts.Until = t
	}
	in := io.Reader(os.Stdin)
	if fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	return app.Replay(ctx, cfg, in, stdout, opts)
}

func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo [--listen ADDR] [--queues N] [--speed X] [--duration D]",
		"Runs the whole pipeline on this machine with no accounts and no configuration: a simulated\n"+
			"contact center behind a fake Genesys Cloud API, the real poller and streamer, the real\n"+
			"engine and store, the real notifiers delivering to fake OpsGenie, Slack and PagerDuty\n"+
			"servers, and the dashboard with a view of those inboxes. Scripted incidents (a lunch spike,\n"+
			"agents logging off, a queue hovering at its target, an outage) play out within the first\n"+
			"simulated minutes; each transition is printed.", stderr)
	opts := app.DemoOptions{}
	fs.StringVar(&opts.Listen, "listen", app.DefaultDemoListen, "dashboard `address`; a free port is used when it is busy")
	fs.IntVar(&opts.Queues, "queues", 8, "number of simulated queues")
	fs.Float64Var(&opts.Speed, "speed", 10, "simulated seconds per real second (simulated time never passes the real clock)")
	fs.DurationVar(&opts.Duration, "duration", 0, "stop after this much simulated time (0 runs until interrupted)")
	fs.Uint64Var(&opts.Seed, "seed", 1, "simulation seed: the same seed plays the same day")
	fs.StringVar(&opts.Store, "store", "", "SQLite file to keep state in (default: a file in a temporary directory)")
	logLevel := fs.String("log-level", "warn", "level of the service log on standard error: debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	if opts.Speed <= 0 || opts.Queues <= 0 {
		fmt.Fprintln(stderr, "queuewatch demo: --speed and --queues must be positive")
		return errUsage
	}
	log, err := app.NewLogger(stderr, "text", *logLevel)
	if err != nil {
		return err
	}
	opts.Logger = log
	return app.Demo(ctx, opts, stdout)
}

func testNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("test-notify", "test-notify --config FILE [--destination NAME]",
		"Sends a clearly marked test alert and its close to each destination (or one), directly,\n"+
			"and reports per destination what happened. Exits 1 if any destination failed.", stderr)
	path := configFlag(fs)
	dest := fs.String("destination", "", "only this destination `name`")
	cfg, err := parseAndLoad(fs, args, path)
	if err != nil {
		return err
	}
	return app.TestNotify(ctx, cfg, *dest, stdout)
}

func doctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", "doctor --config FILE",
		"Checks the Genesys Cloud credentials, region, permissions, queues and topics, and each\n"+
			"destination's authentication; creates a missing OpsGenie heartbeat. Prints one PASS, FAIL,\n"+
			"WARN or SKIP line per check, with the fix for each problem. Exits 1 if any check failed.", stderr)
	path := configFlag(fs)
	cfg, err := parseAndLoad(fs, args, path)
	if err != nil {
		return err
	}
	return app.Doctor(ctx, cfg, stdout)
}

// configFlag registers the --config flag every command that reads a
// configuration takes.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "queuewatch.yaml", "configuration `file`")
}

// parseAndLoad parses the command's flags and loads the configuration named
// by path, with the same loader serve uses.
func parseAndLoad(fs *flag.FlagSet, args []string, path *string) (*config.Config, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	return config.Load(*path)
}
