package osd

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
)

// TestHeartbeaterReportsStoppedPeer runs the heartbeat driver of two OSDs
// against real listeners: while every peer answers nothing is reported;
// once osd.2's listeners are gone (nothing listens: a crash), both report
// it at once as immediate, naming its incarnation.
func TestHeartbeaterReportsStoppedPeer(t *testing.T) {
	c := newTestCluster(t, 3, 4)
	c.waitActive()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan monclient.FailureReport, 64)
	for _, id := range []int32{0, 1} {
		h := newHeartbeater(c.osds[id].o, heartbeatConfig{interval: 50 * time.Millisecond, grace: time.Minute, log: slog.Default(),
			report: func(_ context.Context, f monclient.FailureReport) (monclient.Result, error) {
				reports <- f
				return monclient.Result{}, nil
			}})
		go h.run(ctx)
	}
	select {
	case f := <-reports:
		t.Fatalf("a report while every peer answers: %+v", f)
	case <-time.After(500 * time.Millisecond):
	}
	c.osds[2].stop()
	from := map[int32]bool{}
	deadline := time.After(20 * time.Second)
	for len(from) < 2 {
		select {
		case f := <-reports:
			if f.Target != 2 || !f.Immediate || f.Cancel || f.TargetUpFrom != uint64(c.m.OSDs[2].UpFrom) {
				t.Fatalf("unexpected report %+v", f)
			}
			from[f.Reporter] = true
		case <-deadline:
			t.Fatalf("reports after osd.2 stopped came from %v, want osd.0 and osd.1", from)
		}
	}
}
