package e2e

import (
	"context"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/pgstats"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/deploy/devcluster"
	"github.com/gorados/gorados/deploy/devcluster/devclustertest"
)

// TestHungOSDMarkedDown: an OSD that stops answering without closing its
// sockets (SIGSTOP: a hung process, not a crash) is reported by its peers
// on distinct hosts once the heartbeat grace has passed and marked down by
// the monitors; its PGs serve reads and writes with the other copies
// meanwhile. Resumed (SIGCONT), it sees itself marked down, boots again,
// and every PG becomes active again with every object intact.
func TestHungOSDMarkedDown(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	c := fastFailureCluster(t, ctx, "heartbeat")
	conn := connect(t, c, client.Config{})
	pool := openPool(t, c, conn)
	before := mixedObjects("hb-before", 32, 7)
	mustWrite(t, ctx, pool, before, 8)

	const victim = "osd.1"
	pid, ok := c.PID(victim)
	if !ok {
		t.Fatalf("%s is not running", victim)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	stopped := time.Now()
	waitOSDState(t, ctx, c, 1, "down", func(o cluster.OSD) bool { return !o.Up })
	t.Logf("%s hung: marked down after %s", victim, time.Since(stopped).Round(100*time.Millisecond))

	during := mixedObjects("hb-during", 32, 8)
	mustWrite(t, ctx, pool, during, 8)
	mustVerify(t, ctx, pool, before, 8)

	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	waitOSDState(t, ctx, c, 1, "up", func(o cluster.OSD) bool { return o.Up })
	if err := c.WaitActive(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, ctx, pool, append(before, during...), 8)
}

// fastFailureCluster starts a cluster of its own (3 monitors, 4 OSDs on 4
// hosts, 16 PGs) whose OSDs ping every 500 ms and whose failure grace is
// 3 s, with extra monitor flags; it is stopped when the test ends.
func fastFailureCluster(t *testing.T, ctx context.Context, name string, monArgs ...string) *devcluster.Cluster {
	t.Helper()
	c, err := devcluster.Up(ctx, devcluster.Config{Dir: filepath.Join(tmpRoot, name), BinDir: binDir,
		Out: io.Discard, Timeout: 90 * time.Second, PGNum: 16,
		OSDArgs: []string{"--heartbeat-interval", "500ms", "--heartbeat-grace", "3s"},
		MonArgs: append([]string{"--osd-heartbeat-grace", "3s"}, monArgs...)})
	if err != nil {
		t.Fatalf("start the cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			devclustertest.DumpLogs(t, c, 40)
		}
		c.Stop()
	})
	return c
}

// TestDownOSDMarkedOut: a crashed OSD is marked down at once (nothing
// listens at its addresses), then out after the down-out interval; its
// PGs move to the remaining OSDs and backfill until every PG is
// active+clean with three copies again. Restarted, it boots, the monitors
// mark it in again (it was out on their account, not an operator's), and
// the cluster is clean with every object intact.
func TestDownOSDMarkedOut(t *testing.T) {
	ctx := testCtx(t, 4*time.Minute)
	c := fastFailureCluster(t, ctx, "downout", "--osd-down-out-interval", "2s")
	conn := connect(t, c, client.Config{})
	pool := openPool(t, c, conn)
	objs := mixedObjects("downout", 48, 9)
	mustWrite(t, ctx, pool, objs, 8)

	if err := c.Kill("osd.2"); err != nil {
		t.Fatal(err)
	}
	waitOSDState(t, ctx, c, 2, "down and out", func(o cluster.OSD) bool { return !o.Up && !o.In() && o.AutoOut })
	waitAllClean(t, ctx, c)
	mustVerify(t, ctx, pool, objs, 8)

	if err := c.StartDaemon("osd.2"); err != nil {
		t.Fatal(err)
	}
	waitOSDState(t, ctx, c, 2, "up and in", func(o cluster.OSD) bool { return o.Up && o.In() && !o.AutoOut })
	waitAllClean(t, ctx, c)
	mustVerify(t, ctx, pool, objs, 8)
}

// waitOSDState polls the map until OSD id satisfies ok.
func waitOSDState(t *testing.T, ctx context.Context, c *devcluster.Cluster, id int32, what string, ok func(cluster.OSD) bool) {
	t.Helper()
	mc, err := c.MonClient()
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	for {
		m, err := mc.GetMap(ctx)
		if err == nil && m.Exists(id) && ok(m.OSDs[id]) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("osd.%d never became %s (last error %v)", id, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitAllClean polls the PGs' primaries until every PG is active+clean.
func waitAllClean(t *testing.T, ctx context.Context, c *devcluster.Cluster) {
	t.Helper()
	mc, err := c.MonClient()
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	var last pgstats.Summary
	for {
		if m, err := mc.GetMap(ctx); err == nil {
			if r, err := pgstats.Gather(ctx, m, pgstats.Options{PerOSDTimeout: 2 * time.Second}); err == nil {
				if last = pgstats.Summarize(r); last.ByState["active+clean"] == last.NumPGs {
					return
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("PGs never all active+clean: %v", last.ByState)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
