package mon_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
)

// TestCrashAtDurabilityPoints arms a failpoint that SIGKILLs every monitor
// at its N-th pass through a durability boundary (before or after the raft
// save, before the applied epoch is written, after it is written but before
// the reply). Monitors die one after another while a client creates pools;
// the dead ones are restarted without the failpoint, and every acknowledged
// pool must be present, each exactly once.
func TestCrashAtDurabilityPoints(t *testing.T) {
	points := []struct {
		name string
		hit  int
	}{
		{"monBeforeRaftSave", 30},
		{"monAfterRaftSave", 30},
		{"monBeforeApplyCommit", 8},
		{"monAfterApplyBeforeReply", 8},
	}
	for _, fp := range points {
		t.Run(fp.name, func(t *testing.T) {
			c := newMonCluster(t, 3, "--pg-per-osd-max", "0")
			c.env = []string{fmt.Sprintf("GORADOS_FAILPOINTS=%s=kill@%d", fp.name, fp.hit)}
			c.startAll()
			cl := c.client()
			c.waitMap(cl, 15*time.Second)
			var acked []string
			restarts := 0
			const attempts = 25
			for i := 0; i < attempts; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
				name := fmt.Sprintf("p%d", i)
				_, err := cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: name, PGNum: 1})
				cancel()
				if err == nil {
					acked = append(acked, name)
				}
				c.env = nil
				for k := range c.procs {
					if c.dead(k) {
						c.kill(k)
						c.restart(k)
						restarts++
					}
				}
			}
			if restarts == 0 {
				t.Fatalf("failpoint %s never fired", fp.name)
			}
			final := c.waitMap(cl, 20*time.Second)
			for _, name := range acked {
				if final.PoolByName(name) == nil {
					t.Errorf("acknowledged pool %s lost", name)
				}
			}
			if len(final.Pools) < len(acked) || len(final.Pools) > attempts {
				t.Errorf("%d pools in the map, %d acknowledged of %d attempts", len(final.Pools), len(acked), attempts)
			}
			if len(acked) == 0 {
				t.Fatal("no pool was acknowledged")
			}
			t.Logf("%d of %d creates acknowledged, %d monitor restarts, map epoch %d", len(acked), attempts, restarts, final.Epoch)
		})
	}
}
