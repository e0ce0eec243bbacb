package pgstats

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
	"github.com/gorados/gorados/proto/pb"
)

// testMap: three OSDs on three hosts, all up and in except osd.2 (down),
// and pool 1 of 8 PGs, size 3.
func testMap(t *testing.T) *cluster.OSDMap {
	cm := crush.NewDefaultMap()
	for id := int32(0); id < 3; id++ {
		if err := cm.AddDevice(id, "osd."+string(rune('0'+id)), "hdd"); err != nil {
			t.Fatal(err)
		}
		if err := cm.LinkDevice(id, 0x10000, map[string]string{"host": "h" + string(rune('0'+id)), "root": "default"}); err != nil {
			t.Fatal(err)
		}
	}
	m := cluster.New(cluster.UUID{0xaa}, time.Unix(1700000000, 0))
	m.Epoch = 5
	m.SetCrush(cm)
	m.SetMaxOSD(3)
	for id := range 3 {
		m.OSDs[id] = cluster.NewOSD()
		m.OSDs[id].Up, m.OSDs[id].Weight = true, cluster.WeightIn
	}
	m.OSDs[2].Up = false
	m.Pools[1] = cluster.NewReplicatedPool(1, "rbd", 3, 0, 8)
	return m
}

// TestFillFromReports: each PG takes its state from its acting primary's
// report; a primary that failed makes its PGs stale, one that answered
// without the PG leaves it unknown, and usage adds up in the summary.
func TestFillFromReports(t *testing.T) {
	m := testMap(t)
	pgs := placements(m, 0)
	if len(pgs) != 8 {
		t.Fatalf("%d PGs, want 8", len(pgs))
	}
	if got := upOSDs(m); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("up OSDs %v: want 0 and 1", got)
	}
	reports := map[int32]*report{
		0: {pgs: map[cluster.PGID]*pb.PGStat{}},
		1: {err: errors.New("osd.1 at 127.0.0.1:1 did not answer")},
	}
	var want Summary
	want.ByState = map[string]int{}
	for i := range pgs {
		p := &pgs[i]
		if p.ActingPrimary == 0 && p.ID.Seed%2 == 0 {
			reports[0].pgs[p.ID] = &pb.PGStat{Pool: 1, Seed: p.ID.Seed, State: "active+undersized+degraded", Epoch: 5,
				NumObjects: 2, NumBytes: 100, LastUpdateEpoch: 4, LastUpdateVersion: 7, LogEntries: 7}
		}
	}
	for i := range pgs {
		p := &pgs[i]
		fill(p, reports[p.ActingPrimary])
		switch {
		case p.ActingPrimary == 1:
			if p.State != StateStale || p.Note == "" {
				t.Errorf("pg %s led by the silent osd.1: %q (%s)", p.PGID, p.State, p.Note)
			}
		case p.ID.Seed%2 == 0:
			if p.State != "active+undersized+degraded" || p.Objects != 2 || p.Version != "4'7" || p.ReportedEpoch != 5 {
				t.Errorf("reported pg %s: %+v", p.PGID, p)
			}
		default:
			if p.State != StateUnknown {
				t.Errorf("pg %s osd.0 did not report: %q", p.PGID, p.State)
			}
		}
	}
	s := Summarize(&Report{PGs: pgs})
	reported := s.ByState["active+undersized+degraded"]
	if s.NumPGs != 8 || s.Objects != uint64(2*reported) || s.Bytes != uint64(100*reported) ||
		s.Inactive != 8-reported || s.Stale != s.ByState[StateStale] || s.Undersized != reported || s.Degraded != reported {
		t.Fatalf("summary %+v", s)
	}
	if st := s.States(); len(st) > 1 && st[0].Count < st[1].Count {
		t.Fatalf("states not most frequent first: %v", st)
	}
}

// TestGatherWithoutOSDs: a pool whose PGs map to no OSD is all unknown;
// Gather needs no connection for it, and one pool can be asked for alone.
func TestGatherWithoutOSDs(t *testing.T) {
	m := testMap(t)
	for id := range 3 {
		m.OSDs[id].Up, m.OSDs[id].Weight = false, 0
	}
	m.Pools[2] = cluster.NewReplicatedPool(2, "other", 3, 0, 4)
	r, err := Gather(context.Background(), m, Options{Pool: 2})
	if err != nil {
		t.Fatal(err)
	}
	pgs := r.PGs
	if len(r.OSDs) != 3 || r.OSDs[0].Usage != nil || r.OSDs[0].Note != "down" || r.OSDs[0].PGs != 0 {
		t.Fatalf("OSDs of a cluster with none up: %+v", r.OSDs)
	}
	if len(pgs) != 4 {
		t.Fatalf("%d PGs of pool 2, want 4", len(pgs))
	}
	for _, p := range pgs {
		if p.ID.Pool != 2 || p.State != StateUnknown || p.ActingPrimary != -1 {
			t.Errorf("pg %s: %+v", p.PGID, p)
		}
	}
}

// TestGatherEndsWithContext: a cancelled context is an error, not a
// cluster of stale PGs.
func TestGatherEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Gather(ctx, testMap(t), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Gather with a cancelled context: %v", err)
	}
}
