package cluster

import (
	"fmt"
	"sync"

	"github.com/gorados/gorados/crush"
)

// This file is the object -> PG -> up/acting pipeline of ceph-facts.md
// section 1, computed the way Ceph's OSDMap does:
//
//	raw    = CRUSH(pool rule, pps, size, reweights, pool choose_args) minus nonexistent OSDs
//	raw'   = raw with pg_upmap / pg_upmap_items applied (ignored when a target is out)
//	up     = raw' without down OSDs (replicated: shift; erasure: NONE holes)
//	upPrim = first non-NONE of up, then primary affinity (moved to front if replicated)
//	acting = pg_temp filtered like up, else up; actingPrim = primary_temp, else
//	         first of pg_temp, else upPrim

// scratchSize bounds the pooled CRUSH result buffer: pool sizes are
// validated to be at most PoolSizeMax, but a hand-built map may carry more;
// such a pool maps through a temporary slice instead.
const scratchSize = 32

// placementCache holds what every mapping of one map needs: the reweight
// vector CRUSH reads and a pool of workspaces (one per concurrent caller).
type placementCache struct {
	crush   *crush.Map
	weights []uint32
	scratch sync.Pool
}

// scratch is one caller's CRUSH workspace and raw result buffer.
type scratch struct {
	ws  *crush.Workspace
	raw [scratchSize]int32
}

// placement returns the map's cache, building it on first use.
func (m *OSDMap) placement() *placementCache {
	if c := m.cache.Load(); c != nil && c.crush == m.Crush {
		return c
	}
	c := &placementCache{crush: m.Crush, weights: make([]uint32, len(m.OSDs))}
	// The stored reweight is used even for an OSD that does not exist, as
	// Ceph does; the step after CRUSH drops nonexistent OSDs.
	for i := range m.OSDs {
		c.weights[i] = m.OSDs[i].Weight
	}
	cm := m.Crush
	c.scratch.New = func() any { return &scratch{ws: crush.NewWorkspace(cm)} }
	m.cache.Store(c)
	return c
}

// Mapping is the full placement of one PG. MapPG fills it, reusing its
// slices, so a caller that keeps one Mapping maps PGs without allocating.
type Mapping struct {
	PG            PGID   // the folded PG that was mapped
	PPS           uint32 // the CRUSH input (placement seed)
	Raw           []int32
	RawPrimary    int32
	Up            []int32
	UpPrimary     int32
	Acting        []int32
	ActingPrimary int32
}

// reset empties m for a new PG, keeping its slices' storage.
func (mp *Mapping) reset(pg PGID) {
	*mp = Mapping{PG: pg, Raw: mp.Raw[:0], Up: mp.Up[:0], Acting: mp.Acting[:0],
		RawPrimary: NoOSD, UpPrimary: NoOSD, ActingPrimary: NoOSD}
}

// ObjectLocator says where an object lives: its pool, its RADOS namespace,
// and optionally a locator key hashed instead of the name (objects sharing a
// key share a PG) or an explicit hash that skips string hashing.
type ObjectLocator struct {
	Pool      int64
	Namespace string
	Key       string
	Hash      int64 // >= 0: use this raw seed; < 0 (e.g. -1): hash the key or name
}

// ObjectToRawPG returns the raw PG of an object: the pool and the full 32-bit
// hash of its key (locator key if set, else name) in its namespace.
func (m *OSDMap) ObjectToRawPG(loc ObjectLocator, name string) (PGID, error) {
	p := m.Pools[loc.Pool]
	if p == nil {
		return PGID{}, fmt.Errorf("%w: pool %d", ErrNoSuchPool, loc.Pool)
	}
	if loc.Hash >= 0 {
		return PGID{Pool: loc.Pool, Seed: uint32(loc.Hash)}, nil
	}
	key := name
	if loc.Key != "" {
		key = loc.Key
	}
	return PGID{Pool: loc.Pool, Seed: p.HashKey(key, loc.Namespace)}, nil
}

// ObjectToPG returns the PG that holds object name of pool in namespace,
// hashing key instead of name when key is not empty. The PG's seed is folded
// below the pool's pg_num.
func (m *OSDMap) ObjectToPG(pool int64, name, namespace, key string) (PGID, error) {
	raw, err := m.ObjectToRawPG(ObjectLocator{Pool: pool, Namespace: namespace, Key: key, Hash: -1}, name)
	if err != nil {
		return PGID{}, err
	}
	return m.RawPGToPG(raw), nil
}

// RawPGToPG folds a raw PG's seed onto its pool's pg_num. A PG of an unknown
// pool is returned unchanged.
func (m *OSDMap) RawPGToPG(raw PGID) PGID {
	if p := m.Pools[raw.Pool]; p != nil {
		raw.Seed = p.FoldSeed(raw.Seed)
	}
	return raw
}

// PGToUpActing returns the up set, up primary, acting set and acting primary
// of a PG (its seed is folded onto pg_num first). An unknown pool gives empty
// sets and primaries of -1. Erasure pools hold crush.ItemNone in holes. The
// two slices are freshly allocated; use MapPG to reuse buffers.
func (m *OSDMap) PGToUpActing(pg PGID) (up []int32, upPrimary int32, acting []int32, actingPrimary int32) {
	var mp Mapping
	m.presize(pg.Pool, &mp)
	m.MapPG(pg, &mp)
	return mp.Up, mp.UpPrimary, mp.Acting, mp.ActingPrimary
}

// PGToRaw returns the CRUSH result of a PG after removal of nonexistent OSDs
// and its first entry (osdmaptool's "raw" column): no upmap, no up filter.
func (m *OSDMap) PGToRaw(pg PGID) ([]int32, int32) {
	var mp Mapping
	m.presize(pg.Pool, &mp)
	m.MapPG(pg, &mp)
	return mp.Raw, mp.RawPrimary
}

// presize gives mp's three slices room for a PG of pool out of one
// allocation, with capacities capped so that they never share elements.
func (m *OSDMap) presize(pool int64, mp *Mapping) {
	p := m.Pools[pool]
	if p == nil || p.Size <= 0 || p.Size > scratchSize {
		return
	}
	n := int(p.Size)
	buf := make([]int32, 3*n)
	mp.Raw, mp.Up, mp.Acting = buf[0:0:n], buf[n:n:2*n], buf[2*n:2*n:3*n]
}

// MapPG computes the whole placement of pg into out, reusing out's slices.
// After warm-up it does not allocate. Safe for concurrent use on a map that
// is no longer mutated (see OSDMap).
func (m *OSDMap) MapPG(pg PGID, out *Mapping) {
	p := m.Pools[pg.Pool]
	if p == nil || p.PGNum == 0 {
		out.reset(pg)
		return
	}
	pg.Seed = p.FoldSeed(pg.Seed)
	out.reset(pg)
	out.PPS = p.PlacementSeed(pg.Seed)
	m.crushRaw(p, out)
	out.RawPrimary = firstOSD(out.Raw)
	out.Up = append(out.Up, out.Raw...)
	m.applyUpmap(pg, out)
	out.Up = m.filterLive(p, out.Up)
	out.UpPrimary = firstOSD(out.Up)
	m.applyPrimaryAffinity(p, out)
	m.applyTemp(p, pg, out)
}

// crushRaw runs the pool's rule and keeps the OSDs that exist (replicated)
// or turns the others into holes (erasure).
func (m *OSDMap) crushRaw(p *Pool, out *Mapping) {
	if m.Crush == nil || p.Size <= 0 {
		return
	}
	c := m.placement()
	s := c.scratch.Get().(*scratch)
	buf := s.raw[:]
	if int(p.Size) > len(buf) {
		buf = make([]int32, p.Size)
	}
	n := m.Crush.DoRule(s.ws, int(p.CrushRule), out.PPS, buf[:p.Size], c.weights, m.Crush.ChooseArgsForPool(p.ID))
	for _, osd := range buf[:n] {
		switch {
		case m.Exists(osd):
			out.Raw = append(out.Raw, osd)
		case !p.CanShift():
			out.Raw = append(out.Raw, crush.ItemNone)
		}
	}
	c.scratch.Put(s)
}

// firstOSD is Ceph's primary pick: the first entry that is not a hole.
func firstOSD(osds []int32) int32 {
	for _, o := range osds {
		if o != crush.ItemNone {
			return o
		}
	}
	return NoOSD
}

// isOutTarget reports whether an upmap target is an OSD marked out; such
// targets void the exception (data must not be moved onto an out OSD).
func (m *OSDMap) isOutTarget(osd int32) bool {
	return osd != crush.ItemNone && osd >= 0 && int(osd) < len(m.OSDs) && m.OSDs[osd].Weight == WeightOut
}

// applyUpmap applies pg_upmap (replace the whole vector) and then
// pg_upmap_items (pairwise swaps) to out.Up, which holds the raw mapping. A
// pg_upmap naming an out OSD is ignored together with the items.
func (m *OSDMap) applyUpmap(pg PGID, out *Mapping) {
	if full, ok := m.PGUpmap[pg]; ok {
		for _, osd := range full {
			if m.isOutTarget(osd) {
				return
			}
		}
		out.Up = append(out.Up[:0], full...)
	}
	for _, it := range m.PGUpmapItems[pg] {
		m.applyUpmapItem(it, out.Up)
	}
}

// applyUpmapItem swaps it.From for it.To in osds unless To is already
// present (no duplicates, so a bidirectional swap is not possible) or To is
// out.
func (m *OSDMap) applyUpmapItem(it UpmapItem, osds []int32) {
	pos := -1
	for i, osd := range osds {
		if osd == it.To {
			return
		}
		if osd == it.From && pos < 0 {
			pos = i
		}
	}
	if pos >= 0 && !m.isOutTarget(it.To) {
		osds[pos] = it.To
	}
}

// filterLive drops OSDs that do not exist or are down: replicated pools
// shift the rest left, erasure pools leave a crush.ItemNone hole. It works in
// place and returns the shortened slice.
func (m *OSDMap) filterLive(p *Pool, osds []int32) []int32 {
	kept := osds[:0]
	for _, osd := range osds {
		switch {
		case m.IsUp(osd):
			kept = append(kept, osd)
		case !p.CanShift():
			kept = append(kept, crush.ItemNone)
		}
	}
	return kept
}

// applyPrimaryAffinity lets OSDs with an affinity below 1.0 decline being
// primary for a share of PGs (hash of pps and OSD id against the affinity).
// It is a no-op unless some member has a non-default affinity.
func (m *OSDMap) applyPrimaryAffinity(p *Pool, out *Mapping) {
	if !m.anyReducedAffinity(out.Up) {
		return
	}
	pos := -1
	for i, osd := range out.Up {
		if osd == crush.ItemNone {
			continue
		}
		a := m.OSDs[osd].PrimaryAffinity
		if a < AffinityDefault && crush.Hash2(out.PPS, uint32(osd))>>16 >= a {
			if pos < 0 {
				pos = i // declined, but the fallback if everyone declines
			}
			continue
		}
		pos = i
		break
	}
	if pos < 0 {
		return
	}
	out.UpPrimary = out.Up[pos]
	if p.CanShift() && pos > 0 {
		copy(out.Up[1:pos+1], out.Up[:pos])
		out.Up[0] = out.UpPrimary
	}
}

// anyReducedAffinity reports whether an OSD of osds has an affinity other
// than the default.
func (m *OSDMap) anyReducedAffinity(osds []int32) bool {
	for _, osd := range osds {
		if osd != crush.ItemNone && m.OSDs[osd].PrimaryAffinity != AffinityDefault {
			return true
		}
	}
	return false
}

// applyTemp sets the acting set: pg_temp (filtered like up) wins over up;
// primary_temp wins over every other primary.
func (m *OSDMap) applyTemp(p *Pool, pg PGID, out *Mapping) {
	if temp, ok := m.PGTemp[pg]; ok {
		out.Acting = append(out.Acting, temp...)
		out.Acting = m.filterLive(p, out.Acting)
	}
	if len(out.Acting) > 0 {
		out.ActingPrimary = firstOSD(out.Acting)
	} else {
		out.Acting = append(out.Acting, out.Up...)
		out.ActingPrimary = out.UpPrimary
	}
	if prim, ok := m.PrimaryTemp[pg]; ok {
		out.ActingPrimary = prim
	}
}
