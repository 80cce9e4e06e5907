// Command qwprofserve is `queuewatch serve` with a CPU profile of the
// whole process life, written when it stops on SIGINT or SIGTERM. It
// exists for `qwbench -cpuprofile FILE` only; the service it runs is the
// same app.Serve as cmd/queuewatch's.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/queuewatch/queuewatch/internal/app"
	"github.com/queuewatch/queuewatch/internal/config"
)

func main() {
	path := flag.String("config", "queuewatch.yaml", "configuration `file`")
	profile := flag.String("cpuprofile", "cpu.pprof", "write the CPU profile to this `file`")
	flag.Parse()
	if err := run(*path, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "qwprofserve:", err)
		os.Exit(1)
	}
}

func run(path, profile string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	log, err := app.NewLogger(os.Stderr, "text", cfg.LogLevel)
	if err != nil {
		return err
	}
	f, err := os.Create(profile)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := app.Serve(ctx, cfg, log)
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}
