// Package e2e tests gorados end to end with real processes: monitors and
// OSDs started by the dev cluster launcher, driven through the client
// library and the radosctl binary, checked on disk with the offline store
// tool. The binaries are built once in TestMain.
//
// The suite takes a few minutes on 2 cores. -short skips it; the heavier
// variants run only with GORADOS_E2E_HEAVY=1.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/deploy/devcluster"
	"github.com/gorados/gorados/deploy/devcluster/devclustertest"
)

var (
	binDir  string
	tmpRoot string

	sharedMu sync.Mutex
	shared   *devcluster.Cluster
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	var err error
	if binDir, err = devclustertest.Build(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	if tmpRoot, err = os.MkdirTemp("", "gorados-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	if code == 0 {
		os.RemoveAll(tmpRoot)
	} else {
		fmt.Fprintf(os.Stderr, "e2e: cluster data and logs kept in %s\n", tmpRoot)
	}
	os.RemoveAll(binDir)
	os.Exit(code)
}

// sharedCluster returns the suite's default cluster (3 monitors, 4 OSDs on
// 4 hosts, pool "data" of size 3), starting it if it is not running.
// Tests that stop or kill daemons restart them before they return.
func sharedCluster(t *testing.T) *devcluster.Cluster {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil {
		var err error
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		shared, err = devcluster.Up(ctx, devcluster.Config{Dir: filepath.Join(tmpRoot, "shared"), BinDir: binDir,
			Out: io.Discard, Timeout: 90 * time.Second})
		if err != nil {
			t.Fatalf("start the shared cluster: %v", err)
		}
	}
	c := shared
	t.Cleanup(func() {
		if t.Failed() {
			devclustertest.DumpLogs(t, c, 25)
		}
	})
	return c
}

// connect returns a client of c, closed when the test ends.
func connect(t *testing.T, c *devcluster.Cluster, cfg client.Config) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := c.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// openPool opens the layout's pool.
func openPool(t *testing.T, c *devcluster.Cluster, conn *client.Conn) *client.IOContext {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	io, err := conn.OpenPool(ctx, c.Layout().Pool)
	if err != nil {
		t.Fatal(err)
	}
	return io
}

// testCtx is bounded so that a hung cluster fails the test instead of the
// suite's timeout.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func heavy() bool { return os.Getenv("GORADOS_E2E_HEAVY") == "1" }
