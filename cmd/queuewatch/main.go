// Command queuewatch watches Genesys Cloud queues and pages the on-call
// engineer when a queue breaches its service level.
//
// This file only parses the command line; internal/app does the work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/queuewatch/queuewatch/internal/app"
	"github.com/queuewatch/queuewatch/internal/config"
)

const usage = `queuewatch watches Genesys Cloud queues and pages on-call when a queue breaches its service level.

Usage:
  queuewatch <command> [flags]

Commands:
  demo          run the whole pipeline on this machine with a simulated contact center
  serve         run the service
  check-config  validate a configuration file
  replay        feed recorded samples through the rules and print what would happen
  test-notify   send a test alert and its close to each destination
  doctor        check Genesys access, queues and each destination's authentication
  version       print the version

Run "queuewatch <command> --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "demo":
		err = demo(ctx, rest, stdout, stderr)
	case "serve":
		err = serve(ctx, rest, stdout, stderr)
	case "check-config":
		err = checkConfig(rest, stdout, stderr)
	case "replay":
		err = replay(ctx, rest, stdout, stderr)
	case "test-notify":
		err = testNotify(ctx, rest, stdout, stderr)
	case "doctor":
		err = doctor(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "queuewatch", app.Version())
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "queuewatch: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		var problems *config.Errors
		if errors.As(err, &problems) {
			// Already "file:line: key: message" lines, one per problem.
			fmt.Fprintln(stderr, problems.Error())
			return 1
		}
		fmt.Fprintf(stderr, "queuewatch %s: %v\n", cmd, err)
		return 1
	}
}

var errUsage = errors.New("usage")

// newFlags returns a flag set whose --help prints a description and the flags.
func newFlags(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: queuewatch %s\n\n%s\n\nFlags:\n", synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, mapping flag errors to errUsage (already reported).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
