// Package app wires queuewatch together: configuration, store, engine,
// sources, notifiers and the HTTP server, and runs their lifecycle.
package app

import (
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/queuewatch/queuewatch/internal/config"
)

// version is set at build time with -ldflags "-X github.com/queuewatch/queuewatch/internal/app.version=v1.2.3".
var version = ""

// Version returns the build's version: the linker-set one, else the module
// version or VCS revision recorded by the Go toolchain.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// NewLogger builds the process logger: format "text" or "json", level
// "debug", "info", "warn" or "error".
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", format)
}

// Summary describes a valid configuration in one line, for check-config.
func Summary(cfg *config.Config) string {
	var dests []string
	for _, d := range cfg.Destinations {
		dests = append(dests, d.Name+" ("+d.Type+")")
	}
	s := fmt.Sprintf("%s: ok: %d rules, %d destinations", cfg.File, len(cfg.Rules), len(cfg.Destinations))
	if len(dests) > 0 {
		s += " [" + strings.Join(dests, ", ") + "]"
	}
	return s + fmt.Sprintf(", %d schedules", len(cfg.Schedules))
}
