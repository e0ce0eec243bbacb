package osd

import (
	"slices"
	"testing"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
)

// TestHBTrackerGraceAndCancel: a peer silent on one path for the grace is
// reported, again every reportEvery, and the report is cancelled once it
// answers on both paths; a new incarnation starts afresh.
func TestHBTrackerGraceAndCancel(t *testing.T) {
	tr := newHBTracker(20*time.Second, 5*time.Second)
	t0 := time.Unix(100, 0)
	tr.setPeers(map[int32]uint64{1: 7, 2: 7}, t0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for s := 0; s <= 18; s += 6 {
		tr.result(1, true, true, false, at(s))
		tr.result(1, false, true, false, at(s))
		tr.result(2, true, true, false, at(s))
		// peer 2's back path stays silent
		if r := tr.due(at(s)); len(r) != 0 {
			t.Fatalf("at %ds: %+v", s, r)
		}
	}
	r := tr.due(at(20))
	if len(r) != 1 || r[0].target != 2 || r[0].immediate || r[0].cancel || r[0].failedFor != 20*time.Second || r[0].upFrom != 7 {
		t.Fatalf("at 20s: %+v", r)
	}
	if r := tr.due(at(22)); len(r) != 0 {
		t.Fatalf("repeated before reportEvery: %+v", r)
	}
	if r := tr.due(at(25)); len(r) != 1 || r[0].target != 2 {
		t.Fatalf("not repeated after reportEvery: %+v", r)
	}
	tr.result(2, false, true, false, at(26))
	tr.result(2, true, true, false, at(26))
	if r := tr.due(at(26)); len(r) != 1 || !r[0].cancel || r[0].target != 2 {
		t.Fatalf("no cancel after the peer answered: %+v", r)
	}
	tr.setPeers(map[int32]uint64{1: 7, 2: 9}, at(27)) // osd.2 restarted
	if p := tr.peers[2]; p.upFrom != 9 || !p.back.IsZero() || p.since != at(27) {
		t.Fatalf("new incarnation kept old state: %+v", p)
	}
	tr.setPeers(map[int32]uint64{1: 7}, at(28))
	if tr.peers[2] != nil {
		t.Fatal("a peer no longer listed is still tracked")
	}
}

// TestHBTrackerImmediate: both paths refused is reported at once; one
// refused path is not.
func TestHBTrackerImmediate(t *testing.T) {
	tr := newHBTracker(20*time.Second, 5*time.Second)
	t0 := time.Unix(100, 0)
	tr.setPeers(map[int32]uint64{1: 3, 2: 3, 3: 3}, t0)
	tr.result(1, true, false, true, t0)
	if r := tr.due(t0); len(r) != 0 {
		t.Fatalf("one refused path reported: %+v", r)
	}
	tr.result(1, false, false, true, t0)
	if r := tr.due(t0); len(r) != 1 || !r[0].immediate || r[0].target != 1 {
		t.Fatalf("both refused: %+v", r)
	}
}

// TestHBTrackerIsolated: an OSD that hears from too few of its peers
// reports none of them (it is the one cut off).
func TestHBTrackerIsolated(t *testing.T) {
	tr := newHBTracker(20*time.Second, 5*time.Second)
	t0 := time.Unix(100, 0)
	peers := map[int32]uint64{}
	for id := int32(1); id <= 6; id++ {
		peers[id] = 1
	}
	tr.setPeers(peers, t0)
	tr.result(1, true, true, false, t0.Add(25*time.Second))
	tr.result(1, false, true, false, t0.Add(25*time.Second))
	if r := tr.due(t0.Add(25 * time.Second)); len(r) != 0 {
		t.Fatalf("1 of 6 peers answering, yet reported: %+v", r)
	}
	for id := int32(2); id <= 3; id++ {
		tr.result(id, true, true, false, t0.Add(25*time.Second))
		tr.result(id, false, true, false, t0.Add(25*time.Second))
	}
	if r := tr.due(t0.Add(25 * time.Second)); len(r) != 3 {
		t.Fatalf("3 of 6 answering: want the 3 others reported, got %+v", r)
	}
}

// TestHeartbeatPeers: the OSDs sharing a PG, topped up with the next ids
// to ten peers; never self, never a down OSD.
func TestHeartbeatPeers(t *testing.T) {
	cm, err := crush.Compile([]byte(crushText(14)))
	if err != nil {
		t.Fatal(err)
	}
	m := cluster.New(cluster.UUID{9}, time.Unix(0, 0))
	m.SetCrush(cm)
	m.Pools[1], m.PoolMax = cluster.NewReplicatedPool(1, "rbd", 3, 0, 2), 1
	m.SetMaxOSD(14)
	for id := range 14 {
		m.OSDs[id] = cluster.OSD{Exists: true, Up: id != 5, Weight: cluster.WeightIn, PrimaryAffinity: cluster.AffinityDefault}
	}
	sharing := map[int32]bool{}
	var mp cluster.Mapping
	for seed := uint32(0); seed < 2; seed++ {
		m.MapPG(cluster.PGID{Pool: 1, Seed: seed}, &mp)
		if slices.Contains(mp.Acting, 12) {
			for _, id := range mp.Acting {
				sharing[id] = true
			}
		}
	}
	peers := heartbeatPeers(m, 12, 10)
	if len(peers) < 10 {
		t.Fatalf("%d peers, want at least 10: %v", len(peers), peers)
	}
	for _, id := range peers {
		if id == 12 || id == 5 {
			t.Fatalf("peers %v include self or the down osd.5", peers)
		}
	}
	for id := range sharing {
		if id != 12 && !slices.Contains(peers, id) {
			t.Fatalf("peers %v lack osd.%d, which shares a PG", peers, id)
		}
	}
	if !slices.Contains(peers, 13) || !slices.Contains(peers, 0) {
		t.Fatalf("peers %v lack the id-neighbours 13 and 0 (wrapping)", peers)
	}
}
