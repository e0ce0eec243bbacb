package client

import (
	"slices"
	"testing"

	"github.com/gorados/gorados/client/internal/fake"
	"github.com/gorados/gorados/cluster"
)

// TestPlacementsCache: the cached placement of every PG is what CRUSH
// computes, and a new map (here, one OSD marked out) is never answered
// from the old map's cache.
func TestPlacementsCache(t *testing.T) {
	fc := fake.New(t, 4)
	m := fc.Map()
	var p placements
	check := func(m *cluster.OSDMap) {
		t.Helper()
		for id, pool := range m.Pools {
			for seed := uint32(0); seed < pool.PGNum; seed++ {
				pg := cluster.PGID{Pool: id, Seed: seed}
				var mp cluster.Mapping
				m.MapPG(pg, &mp)
				for range 2 { // computed, then cached
					if got := p.of(m, pg); got.primary != mp.ActingPrimary || !slices.Equal(got.acting, mp.Acting) {
						t.Fatalf("epoch %d PG %s: cached %+v, CRUSH says %d %v", m.Epoch, pg, got, mp.ActingPrimary, mp.Acting)
					}
				}
			}
		}
	}
	check(m)
	m2 := fc.Edit(false, func(m *cluster.OSDMap) {
		for id := range m.OSDs {
			m.OSDs[id].Weight = 0 // out: every PG moves off it
			break
		}
	})
	check(m2)
	moved := 0
	for seed := uint32(0); seed < m.Pools[fake.PoolID].PGNum; seed++ {
		pg := cluster.PGID{Pool: fake.PoolID, Seed: seed}
		if p.of(m2, pg).primary != func() int32 { var mp cluster.Mapping; m.MapPG(pg, &mp); return mp.ActingPrimary }() {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("marking an OSD out moved no primary: the test does not exercise a map change")
	}
}
