// Package devclustertest runs dev clusters (package devcluster) for tests
// that need real daemons: the end-to-end tests and benchmarks build the
// binaries once in TestMain with Build, then start clusters with Start.
package devclustertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/deploy/devcluster"
)

// Build compiles mon, osd and radosctl of the module holding the working
// directory into a new temporary directory and returns it; remove it when
// done.
func Build() (string, error) {
	dir, err := os.MkdirTemp("", "gorados-bin-")
	if err != nil {
		return "", err
	}
	root, err := moduleRoot()
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	var stderr bytes.Buffer
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/mon", "./cmd/osd", "./cmd/radosctl")
	cmd.Dir, cmd.Stderr = root, &stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build: %v\n%s", err, stderr.String())
	}
	return dir, nil
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// logWriter sends the launcher's progress to the test log.
type logWriter struct{ t testing.TB }

// Write logs one progress message.
func (w logWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Logf("devcluster: %s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// Start starts a cluster of cfg with the binaries in binDir, in a
// temporary directory unless cfg.Dir is set, and stops it when the test
// ends (dumping the end of each daemon's log if the test failed).
func Start(t testing.TB, binDir string, cfg devcluster.Config) *devcluster.Cluster {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.BinDir = binDir
	if cfg.Out == nil {
		cfg.Out = logWriter{t}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := devcluster.Up(ctx, cfg)
	if err != nil {
		t.Fatalf("start a dev cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			DumpLogs(t, c, 30)
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop the dev cluster: %v", err)
		}
	})
	return c
}

// DumpLogs writes the last lines of every daemon's log to the test log.
func DumpLogs(t testing.TB, c *devcluster.Cluster, lines int) {
	t.Helper()
	for _, d := range c.Layout().Daemons {
		t.Logf("---- %s (last %d lines)\n%s", d.Name, lines, c.Tail(d.Name, lines))
	}
}
