package osd

import (
	"context"
	"testing"
	"time"

	"github.com/gorados/gorados/client/pgstats"
	"github.com/gorados/gorados/proto/pb"
)

// TestPGStats: the primaries report their PGs' states and usage; with an
// OSD marked down the PGs it was in are active but undersized; a request
// of another cluster is refused.
func TestPGStats(t *testing.T) {
	c := newTestCluster(t, 3, 8)
	c.waitActive()
	mustOK(t, "write", c.do(c.request("a", wfull([]byte("hello")))))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := pgstats.Gather(ctx, c.m, pgstats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := c.locate("a")
	var copies uint64
	for _, o := range r.OSDs {
		if u := o.Usage; u == nil || u.FSBytes == 0 || u.FSAvailBytes > u.FSBytes || u.StoreBytes == 0 || o.PGs == 0 {
			t.Errorf("osd.%d space %+v, %d PGs (%s)", o.ID, o.Usage, o.PGs, o.Note)
		} else {
			copies += u.Objects
		}
	}
	if len(r.OSDs) != 3 || copies != 3 {
		t.Errorf("%d OSDs hold %d copies of the object, want 3 and 3", len(r.OSDs), copies)
	}
	for _, p := range r.PGs {
		if p.State != "active+clean" {
			t.Errorf("pg %s: %s (%s)", p.PGID, p.State, p.Note)
		}
		if p.ID == id {
			if p.Objects != 1 || p.Bytes != 5 || p.LogEntries == 0 {
				t.Errorf("pg %s of the object: %d objects, %d bytes, %d log entries", p.PGID, p.Objects, p.Bytes, p.LogEntries)
			}
		} else if p.Objects != 0 {
			t.Errorf("pg %s: %d objects, want none", p.PGID, p.Objects)
		}
	}

	m := c.nextMap()
	m.OSDs[2].Up = false
	c.setMap(m)
	c.waitActive()
	if r, err = pgstats.Gather(ctx, c.m, pgstats.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range r.PGs {
		if p.State != "active+undersized+degraded" || len(p.Acting) != 2 {
			t.Errorf("pg %s with osd.2 down: %s, acting %v", p.PGID, p.State, p.Acting)
		}
	}

	rep, err := c.client(c.osds[0].pub).PGStats(ctx, &pb.PGStatsRequest{Fsid: "00000000-0000-0000-0000-000000000009"})
	if err != nil || rep.GetResult() != pb.Result_RESULT_WRONG_CLUSTER || len(rep.GetPgs()) != 0 || rep.GetUsage() != nil {
		t.Fatalf("PG stats of another cluster: %v %s %d PGs", err, rep.GetResult(), len(rep.GetPgs()))
	}
}
