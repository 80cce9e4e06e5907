package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The deployment files live at the repository root; docker is not
// available to the tests, so they check what can be checked without it:
// the commands and flags the files run exist, the build targets this
// package, and the image runs unprivileged.

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkCommandLine fails unless args (without the program) is a command
// line queuewatch accepts: the command exists and every flag is known.
func checkCommandLine(t *testing.T, where string, args []string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append(append([]string(nil), args...), "--help"), &out, &errb); code != 0 {
		t.Errorf("%s runs %q, which queuewatch refuses (exit %d): %s", where, args, code, errb.String())
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestSystemdUnitRunsRealCommands(t *testing.T) {
	unit := readRepoFile(t, "deploy/queuewatch.service")
	execs := regexp.MustCompile(`(?m)^(ExecStart|ExecStartPre)=(\S+)(.*)$`).FindAllStringSubmatch(unit, -1)
	if len(execs) != 2 {
		t.Fatalf("want ExecStartPre= and ExecStart=, found %d Exec lines", len(execs))
	}
	for _, e := range execs {
		if e[2] != "/usr/local/bin/queuewatch" {
			t.Errorf("%s runs %s, not the installed binary /usr/local/bin/queuewatch", e[1], e[2])
		}
		checkCommandLine(t, e[1], strings.Fields(e[3]))
	}
	if !strings.Contains(unit, "ExecStart=/usr/local/bin/queuewatch serve ") {
		t.Error("ExecStart does not run serve")
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=queuewatch", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	// With systemd installed, its own checker reads the unit (the binary
	// path is swapped for one that exists here).
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed; unit syntax not verified by systemd")
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "queuewatch.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/local/bin/queuewatch", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", p).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestDockerfileBuildsThisCommandStatically(t *testing.T) {
	df := readRepoFile(t, "Dockerfile")
	build := regexp.MustCompile(`(?s)RUN CGO_ENABLED=0 go build .*?-o (\S+) (\S+)`).FindStringSubmatch(df)
	if build == nil {
		t.Fatal("no static (CGO_ENABLED=0) go build step")
	}
	if build[2] != "./cmd/queuewatch" {
		t.Errorf("the image builds %s, not ./cmd/queuewatch", build[2])
	}
	if _, err := os.Stat(filepath.Join("..", "..", build[2], "main.go")); err != nil {
		t.Errorf("build target %s: %v", build[2], err)
	}
	// The version the linker sets is the variable app.Version reads.
	if !strings.Contains(df, "-X github.com/queuewatch/queuewatch/internal/app.version=") ||
		!strings.Contains(readRepoFile(t, "internal/app/version.go"), "\nvar version = ") {
		t.Error("the -X ldflag does not name internal/app.version")
	}
	// The Go image is at least the go.mod version.
	goMod := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	image := regexp.MustCompile(`(?m)^FROM golang:(\d+)\.(\d+)`).FindStringSubmatch(df)
	if goMod == nil || image == nil || image[1] != goMod[1] || atoi(image[2]) < atoi(goMod[2]) {
		t.Errorf("builder image golang:%v is older than go.mod's go %v", image, goMod)
	}
	// The binary copied into the final stage is the entry point.
	copied := regexp.MustCompile(`(?m)^COPY --from=build ` + regexp.QuoteMeta(build[1]) + ` (\S+)$`).FindStringSubmatch(df)
	entry := regexp.MustCompile(`(?m)^ENTRYPOINT \["([^"]+)"\]$`).FindStringSubmatch(df)
	if copied == nil || entry == nil || copied[1] != entry[1] {
		t.Errorf("the entry point %v is not the binary copied from the build stage %v", entry, copied)
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)$`).FindAllStringSubmatch(df, -1)
	if len(user) == 0 || strings.HasPrefix(user[len(user)-1][1], "0") || strings.HasPrefix(user[len(user)-1][1], "root") {
		t.Errorf("the image must run as a non-root user, USER lines: %v", user)
	}
	cmd := regexp.MustCompile(`(?m)^CMD \[(.*)\]$`).FindStringSubmatch(df)
	if cmd == nil {
		t.Fatal("no CMD")
	}
	var args []string
	for _, a := range strings.Split(cmd[1], ",") {
		args = append(args, strings.Trim(strings.TrimSpace(a), `"`))
	}
	checkCommandLine(t, "the image's CMD", args)
}
