package cluster

import (
	"maps"
	"slices"
)

// Clone returns a deep copy of m that shares nothing mutable with it: pools,
// the OSD table and every exception map are copied. The CRUSH map and its
// encoding are shared, since they are never mutated once attached (SetCrush
// replaces them). The copy has no placement cache.
func (m *OSDMap) Clone() *OSDMap {
	c := &OSDMap{
		FSID: m.FSID, Epoch: m.Epoch, Created: m.Created, Modified: m.Modified, Flags: m.Flags,
		PoolMax: m.PoolMax, OSDs: slices.Clone(m.OSDs), Crush: m.Crush, CrushBlob: m.CrushBlob,
		NearFullRatio: m.NearFullRatio, BackfillFullRatio: m.BackfillFullRatio, FullRatio: m.FullRatio,
		Pools:        make(map[int64]*Pool, len(m.Pools)),
		PrimaryTemp:  maps.Clone(m.PrimaryTemp),
		PGTemp:       cloneSliceMap(m.PGTemp),
		PGUpmap:      cloneSliceMap(m.PGUpmap),
		PGUpmapItems: cloneSliceMap(m.PGUpmapItems),
	}
	if c.PrimaryTemp == nil {
		c.PrimaryTemp = map[PGID]int32{}
	}
	for id, p := range m.Pools {
		cp := *p
		c.Pools[id] = &cp
	}
	return c
}

// cloneSliceMap copies a map of slices, slices included; never returns nil.
func cloneSliceMap[V any](src map[PGID][]V) map[PGID][]V {
	dst := make(map[PGID][]V, len(src))
	for k, v := range src {
		dst[k] = slices.Clone(v)
	}
	return dst
}
