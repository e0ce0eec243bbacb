package osd

import (
	"fmt"
	"sort"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/osd/pg"
)

// HandleMap makes m the OSD's current map and hands every affected PG its
// new mapping. Maps must come in epoch order (older ones are ignored); the
// caller (the monitor subscription) calls it once per epoch.
func (o *OSD) HandleMap(m *cluster.OSDMap) error {
	if m.FSID != o.cfg.FSID {
		return fmt.Errorf("map epoch %d of cluster %s: %w (this OSD is in %s)", m.Epoch, m.FSID, ErrWrongCluster, o.cfg.FSID)
	}
	if cur := o.curMap.Load(); cur != nil && m.Epoch <= cur.Epoch {
		return nil
	}
	if err := o.advancePGs(m); err != nil {
		return err
	}
	o.mapMu.Lock()
	o.curMap.Store(m)
	close(o.mapChanged)
	o.mapChanged = make(chan struct{})
	o.mapMu.Unlock()
	o.cfg.Metrics.setEpoch(uint64(m.Epoch))
	return nil
}

// advancePGs computes the mapping of every PG this OSD serves or holds and
// queues it on the PG's shard, creating PGs this OSD newly serves.
func (o *OSD) advancePGs(m *cluster.OSDMap) error {
	seen := map[cluster.PGID]bool{}
	var mp cluster.Mapping
	for _, poolID := range sortedPools(m) {
		p := m.Pools[poolID]
		for seed := uint32(0); seed < p.PGNum; seed++ {
			id := cluster.PGID{Pool: poolID, Seed: seed}
			m.MapPG(id, &mp)
			h := o.handle(id)
			if h == nil && !contains(mp.Up, o.cfg.ID) && !contains(mp.Acting, o.cfg.ID) {
				continue
			}
			if h == nil {
				var err error
				if h, err = o.createPG(id); err != nil {
					return err
				}
			}
			seen[id] = true
			h.postMap(o.pgMapping(m, p, &mp))
		}
	}
	// PGs of deleted pools (or beyond a shrunk pg_num) see an empty mapping
	// and become strays.
	for _, h := range o.handles() {
		if !seen[h.id] {
			h.postMap(pg.Mapping{Epoch: uint64(m.Epoch), UpPrimary: cluster.NoOSD, ActingPrimary: cluster.NoOSD})
		}
	}
	return nil
}

func (o *OSD) pgMapping(m *cluster.OSDMap, p *cluster.Pool, mp *cluster.Mapping) pg.Mapping {
	upFrom := max(membersUpFrom(m, mp.Up), membersUpFrom(m, mp.Acting))
	return pg.Mapping{
		Epoch: uint64(m.Epoch), Up: append([]int32(nil), mp.Up...), Acting: append([]int32(nil), mp.Acting...),
		UpPrimary: mp.UpPrimary, ActingPrimary: mp.ActingPrimary,
		Size: int(p.Size), MinSize: int(p.MinSize), UpFrom: upFrom,
	}
}

// membersUpFrom returns the newest up_from among the OSDs of a PG's set.
// Every member computes the same value from the same map, so a restart of
// any member (its up_from jumps to the boot epoch, newer than every other
// member's) starts a new interval on all of them at the same epoch. Using
// only this OSD's own up_from made a restarted primary start an interval
// its replicas did not see, and they refused its writes forever.
func membersUpFrom(m *cluster.OSDMap, set []int32) uint64 {
	var newest uint64
	for _, id := range set {
		if id >= 0 && m.Exists(id) {
			newest = max(newest, uint64(m.OSDs[id].UpFrom))
		}
	}
	return newest
}

func sortedPools(m *cluster.OSDMap) []int64 {
	ids := make([]int64, 0, len(m.Pools))
	for id := range m.Pools {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// createPG creates the store collection of a PG this OSD starts serving,
// with an empty info, and registers its handle.
func (o *OSD) createPG(id cluster.PGID) (*pgHandle, error) {
	core, err := pg.New(o.pgConfig(id), pg.Info{PG: id}, pg.NewLog(pg.Eversion{}))
	if err != nil {
		return nil, err
	}
	t := newTxn()
	t.CreateCollection(collOf(id))
	t.SetPGInfo(collOf(id), pg.EncodeInfo(core.Info()))
	if err := o.st.Apply(o.ctx, t); err != nil {
		return nil, fmt.Errorf("create PG %s: %w", id, err)
	}
	h := newPGHandle(o, id, core)
	o.pgsMu.Lock()
	o.pgs[id] = h
	o.pgsMu.Unlock()
	return h, nil
}
