package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("rules:\n  - name: r\n    metric: waiting\n    above: 5\n"), 0o600)
	os.WriteFile(bad, []byte("rules:\n  - name: r\n    metric: waiting\n    above: 5\n    below: 2\n  - name: s\n    metric: nope\n    above: 1\n"), 0o600)
	cases := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"no args", nil, 2, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"--help"}, 0, "Commands:", ""},
		{"version", []string{"version"}, 0, "queuewatch ", ""},
		{"check-config ok", []string{"check-config", "--config", good}, 0, "ok: 1 rules", ""},
		{"check-config bad names lines", []string{"check-config", "--config", bad}, 1, "", bad + ":5: rules[0].below"},
		{"check-config bad metric line", []string{"check-config", "--config", bad}, 1, "", bad + ":7: rules[1].metric"},
		{"check-config missing file", []string{"check-config", "--config", filepath.Join(dir, "none.yaml")}, 1, "", "none.yaml"},
		{"subcommand help", []string{"replay", "--help"}, 0, "", "Usage: queuewatch replay"},
		{"bad flag", []string{"serve", "--nope"}, 2, "", "flag provided but not defined"},
		{"replay needs a file", []string{"replay", "--config", good}, 2, "", "Usage: queuewatch replay"},
		{"demo flags checked", []string{"demo", "--speed", "0"}, 2, "", "must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if tc.code == 1 && strings.Contains(tc.name, "lines") && !strings.HasPrefix(errb.String(), bad+":5: ") {
				t.Fatalf("config problems must be printed as bare file:line lines, got %q", errb.String())
			}
			if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
				t.Fatalf("run(%v) = %d\nstdout: %s\nstderr: %s\nwant code %d, stdout containing %q, stderr containing %q",
					tc.args, code, out.String(), errb.String(), tc.code, tc.out, tc.err)
			}
		})
	}
}
