package e2e

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/deploy/devcluster"
)

// restartShared starts the shared cluster again from its directory after
// a test stopped it.
func restartShared(t *testing.T) *devcluster.Cluster {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := devcluster.Up(ctx, devcluster.Config{Dir: filepath.Join(tmpRoot, "shared"), BinDir: binDir, Out: io.Discard, Timeout: 90 * time.Second})
	if err != nil {
		shared = nil
		t.Fatalf("restart the shared cluster: %v", err)
	}
	shared = c
	return c
}

// TestMixedObjects writes 2,000 objects of 0 B to 8 MiB, 16 at a time,
// reads them back, then stops the cluster and checks with the offline
// store tool that each is on exactly `size` OSDs of distinct hosts, with
// identical data.
func TestMixedObjects(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	ctx := testCtx(t, 10*time.Minute)
	objs := mixedObjects("mixed", 2000, 20261123)
	var total int
	for _, o := range objs {
		total += o.size
	}
	start := time.Now()
	mustWrite(t, ctx, io, objs, 16)
	t.Logf("wrote %d objects, %d MiB, in %v", len(objs), total>>20, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	mustVerify(t, ctx, io, objs, 16)
	t.Logf("read them back in %v", time.Since(start).Round(time.Millisecond))

	m := conn.Map()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	defer restartShared(t)
	listing := storeListing(t, c)
	checkPlacement(t, m, io.PoolID(), int(c.Layout().Size), objs, listing)
	checkReplicaData(t, c, objs, listing)
	checkWithTool(t, c, []object{objs[0], objs[1], objs[len(objs)/2], objs[len(objs)-1]}, listing)
}
