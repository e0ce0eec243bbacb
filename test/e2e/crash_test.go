package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/deploy/devcluster"
)

// killAllOSDs sends SIGKILL to every OSD at once and waits until they are
// gone.
func killAllOSDs(t *testing.T, c *devcluster.Cluster) {
	t.Helper()
	var wg sync.WaitGroup
	for _, d := range c.Layout().OSDs() {
		wg.Go(func() {
			if err := c.Kill(d.Name); err != nil {
				t.Errorf("kill -9 %s: %v", d.Name, err)
			}
		})
	}
	wg.Wait()
}

// startAllOSDs restarts every OSD from its data directory.
func startAllOSDs(t *testing.T, c *devcluster.Cluster) {
	t.Helper()
	for _, d := range c.Layout().OSDs() {
		if err := c.StartDaemon(d.Name); err != nil {
			t.Fatalf("restart %s: %v", d.Name, err)
		}
	}
}

// TestKill9AfterAck: every OSD is killed with -9 right after a batch of
// writes was acknowledged, three times over (ten with GORADOS_E2E_HEAVY=1);
// after the restarts every acknowledged object reads back intact.
func TestKill9AfterAck(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	ctx := testCtx(t, 5*time.Minute)
	var acked []object
	rounds := 3
	if heavy() {
		rounds = 10
	}
	for round := range rounds {
		batch := mixedObjects(fmt.Sprintf("ack%d", round), 64, uint64(100+round))
		mustWrite(t, ctx, io, batch, 16)
		killAllOSDs(t, c)
		acked = append(acked, batch...)
		startAllOSDs(t, c)
	}
	if err := c.WaitActive(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, ctx, io, acked, 16)
	t.Logf("client stats after the crashes: %+v", conn.Stats())
}

// TestKill9MidLoad: 16 writers keep writing while every OSD is killed
// with -9 and restarted; the writes in flight are resent by the client
// until the OSDs are back, none fails, and every acknowledged object reads
// back intact.
func TestKill9MidLoad(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	// Two minutes is ample for a few hundred small writes and one restart;
	// a PG that never becomes active again fails the test here.
	ctx := testCtx(t, 2*time.Minute)
	var (
		mu     sync.Mutex
		acked  []object
		stop   atomic.Bool
		wg     sync.WaitGroup
		errs   = make(chan error, 16)
		writes atomic.Int64
	)
	for w := range 16 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				o := object{name: fmt.Sprintf("load-%02d-%05d", w, i), size: 1 + (i*7919)%(256<<10), seed: uint64(w<<20 | i)}
				if err := io.WriteFull(ctx, o.name, o.content()); err != nil {
					errs <- fmt.Errorf("write %s: %w", o.name, err)
					return
				}
				writes.Add(1)
				mu.Lock()
				acked = append(acked, o)
				mu.Unlock()
			}
		})
	}
	waitFor(t, ctx, "writes before the crash", func() bool { return writes.Load() >= 100 })
	killAllOSDs(t, c)
	before := writes.Load()
	time.Sleep(300 * time.Millisecond) // writers now face refused connections
	startAllOSDs(t, c)
	waitFor(t, ctx, "writes after the restart", func() bool { return writes.Load() >= before+200 })
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := conn.Stats()
	if st.TransportErrors == 0 {
		t.Errorf("no transport error seen while every OSD was down: %+v", st)
	}
	t.Logf("%d writes acknowledged, %d before the crash; client stats %+v", len(acked), before, st)
	mustVerify(t, ctx, io, acked, 16)
}

// waitFor polls cond every 10 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
