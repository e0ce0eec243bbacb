package cluster

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Incremental is the change from the map of epoch Epoch-1 to the map of
// epoch Epoch (Ceph's OSDMap::Incremental). Nil pointers and nil maps mean
// "unchanged". Changed pools and OSDs travel as whole records: that keeps
// Apply trivial and lets the monitor build the next map by editing a clone
// and calling Diff, at the price of a few hundred bytes per changed OSD.
//
// FullCRC is the crc32c of the resulting map's canonical encoding; Apply
// refuses to return a map with another CRC, so a receiver that applied an
// incremental holds exactly the sender's map.
type Incremental struct {
	FSID       UUID
	Epoch      Epoch
	Modified   time.Time
	NewCreated *time.Time

	NewFlags   *Flags
	NewPoolMax *int64
	NewMaxOSD  *int32 // applied before NewOSDs

	NewPools map[int64]*Pool // created or changed pools, whole records
	OldPools []int64         // removed pools

	NewOSDs map[int32]OSD // changed OSD records, whole: state, weights, affinity, addresses, up_thru, clean interval, uuid

	NewCrush []byte // Ceph binary CRUSH map; nil = unchanged

	NewPGTemp       map[PGID][]int32 // empty list removes the entry
	NewPrimaryTemp  map[PGID]int32   // NoOSD removes the entry
	NewPGUpmap      map[PGID][]int32
	OldPGUpmap      []PGID
	NewPGUpmapItems map[PGID][]UpmapItem
	OldPGUpmapItems []PGID

	NewNearFullRatio     *float32
	NewBackfillFullRatio *float32
	NewFullRatio         *float32

	FullCRC uint32
}

// NewIncremental starts an empty incremental that leads from m to the next
// epoch, stamped with modified.
func NewIncremental(m *OSDMap, modified time.Time) *Incremental {
	return &Incremental{FSID: m.FSID, Epoch: m.Epoch + 1, Modified: modified}
}

// Apply returns the map inc produces from m. It never mutates m. It refuses
// an incremental of another cluster (ErrFSIDMismatch), one that does not
// lead to m.Epoch+1 (ErrEpochMismatch), one that would produce an invalid
// map (ErrInvalidMap) and one whose result does not have inc.FullCRC
// (ErrCRCMismatch; the receiver should then fetch the full map).
func Apply(m *OSDMap, inc *Incremental) (*OSDMap, error) {
	next, err := applyUnchecked(m, inc)
	if err != nil {
		return nil, err
	}
	crc, err := next.CRC()
	if err != nil {
		return nil, err
	}
	if crc != inc.FullCRC {
		return nil, fmt.Errorf("%w: epoch %d: got %#08x, incremental says %#08x", ErrCRCMismatch, inc.Epoch, crc, inc.FullCRC)
	}
	return next, nil
}

// Seal applies inc to m without checking its CRC, stores the resulting
// map's CRC in inc.FullCRC and returns that map. The monitor uses it when
// it builds an incremental by hand rather than with Diff.
func Seal(m *OSDMap, inc *Incremental) (*OSDMap, error) {
	next, err := applyUnchecked(m, inc)
	if err != nil {
		return nil, err
	}
	if inc.FullCRC, err = next.CRC(); err != nil {
		return nil, err
	}
	return next, nil
}

// applyUnchecked checks the identity and epoch, builds the next map on a
// clone and validates it.
func applyUnchecked(m *OSDMap, inc *Incremental) (*OSDMap, error) {
	if inc.FSID != m.FSID {
		return nil, fmt.Errorf("%w: map %s, incremental %s", ErrFSIDMismatch, m.FSID, inc.FSID)
	}
	if inc.Epoch != m.Epoch+1 {
		return nil, fmt.Errorf("%w: map is at epoch %d, incremental leads to %d", ErrEpochMismatch, m.Epoch, inc.Epoch)
	}
	next := m.Clone()
	next.Epoch, next.Modified = inc.Epoch, inc.Modified
	if err := next.applyHeader(inc); err != nil {
		return nil, err
	}
	if err := next.applyOSDs(inc); err != nil {
		return nil, err
	}
	next.applyPools(inc)
	next.applyExceptions(inc)
	if err := next.Validate(); err != nil {
		return nil, fmt.Errorf("incremental to epoch %d: %w", inc.Epoch, err)
	}
	return next, nil
}

// applyHeader applies the scalar fields and the CRUSH map.
func (m *OSDMap) applyHeader(inc *Incremental) error {
	if inc.NewCreated != nil {
		m.Created = *inc.NewCreated
	}
	if inc.NewFlags != nil {
		m.Flags = *inc.NewFlags
	}
	if inc.NewPoolMax != nil {
		m.PoolMax = *inc.NewPoolMax
	}
	setRatio(&m.NearFullRatio, inc.NewNearFullRatio)
	setRatio(&m.BackfillFullRatio, inc.NewBackfillFullRatio)
	setRatio(&m.FullRatio, inc.NewFullRatio)
	switch {
	case inc.NewCrush == nil:
	case len(inc.NewCrush) == 0: // only Diff against a map without CRUSH produces this
		m.Crush, m.CrushBlob = nil, nil
		m.cache.Store(nil)
	default:
		return m.setCrushBlob(inc.NewCrush)
	}
	return nil
}

func setRatio(dst *float32, v *float32) {
	if v != nil {
		*dst = *v
	}
}

// applyOSDs resizes the OSD table and stores the changed records.
func (m *OSDMap) applyOSDs(inc *Incremental) error {
	if n := inc.NewMaxOSD; n != nil {
		if *n < 0 || *n > MaxOSDLimit {
			return fmt.Errorf("%w: max_osd %d outside 0..%d", ErrInvalidMap, *n, MaxOSDLimit)
		}
		m.SetMaxOSD(*n)
	}
	for id, o := range inc.NewOSDs {
		if id < 0 || id >= m.MaxOSD() {
			return fmt.Errorf("%w: incremental changes osd.%d outside max_osd %d", ErrInvalidMap, id, m.MaxOSD())
		}
		m.OSDs[id] = o
	}
	return nil
}

// applyPools removes old pools (and their exceptions) and stores new ones.
func (m *OSDMap) applyPools(inc *Incremental) {
	for _, id := range inc.OldPools {
		delete(m.Pools, id)
		dropPool(m.PGTemp, id)
		dropPool(m.PrimaryTemp, id)
		dropPool(m.PGUpmap, id)
		dropPool(m.PGUpmapItems, id)
	}
	for id, p := range inc.NewPools {
		cp := *p
		m.Pools[id] = &cp
	}
}

// dropPool removes every entry of a pool from a PG-keyed table.
func dropPool[V any](tbl map[PGID]V, pool int64) {
	maps.DeleteFunc(tbl, func(pg PGID, _ V) bool { return pg.Pool == pool })
}

// applyExceptions updates pg_temp, primary_temp and the upmap tables.
func (m *OSDMap) applyExceptions(inc *Incremental) {
	for pg, osds := range inc.NewPGTemp {
		if len(osds) == 0 {
			delete(m.PGTemp, pg)
		} else {
			m.PGTemp[pg] = slices.Clone(osds)
		}
	}
	for pg, o := range inc.NewPrimaryTemp {
		if o == NoOSD {
			delete(m.PrimaryTemp, pg)
		} else {
			m.PrimaryTemp[pg] = o
		}
	}
	for _, pg := range inc.OldPGUpmap {
		delete(m.PGUpmap, pg)
	}
	for pg, osds := range inc.NewPGUpmap {
		m.PGUpmap[pg] = slices.Clone(osds)
	}
	for _, pg := range inc.OldPGUpmapItems {
		delete(m.PGUpmapItems, pg)
	}
	for pg, items := range inc.NewPGUpmapItems {
		m.PGUpmapItems[pg] = slices.Clone(items)
	}
}

// Diff returns the incremental that turns a into b as the next epoch: the
// result of Apply(a, Diff(a, b)) equals b in every field except Epoch, which
// is a.Epoch+1 whatever b.Epoch says, and FSID, which stays a's (an
// incremental cannot move a map to another cluster). This is how the monitor
// publishes a change: clone the current map, edit the clone, diff. The
// incremental carries b's Modified time and the CRC of the resulting map.
// It fails only when b cannot be encoded (text fields that are not UTF-8).
func Diff(a, b *OSDMap) (*Incremental, error) {
	inc := &Incremental{FSID: a.FSID, Epoch: a.Epoch + 1, Modified: b.Modified}
	diffHeader(inc, a, b)
	diffPools(inc, a, b)
	diffOSDs(inc, a, b)
	diffExceptions(inc, a, b)
	target := b.Clone()
	target.FSID, target.Epoch = a.FSID, a.Epoch+1
	crc, err := target.CRC()
	if err != nil {
		return nil, err
	}
	inc.FullCRC = crc
	return inc, nil
}

func diffHeader(inc *Incremental, a, b *OSDMap) {
	if !a.Created.Equal(b.Created) || a.Created.IsZero() != b.Created.IsZero() {
		t := b.Created
		inc.NewCreated = &t
	}
	if a.Flags != b.Flags {
		inc.NewFlags = &b.Flags
	}
	if a.PoolMax != b.PoolMax {
		inc.NewPoolMax = &b.PoolMax
	}
	if a.MaxOSD() != b.MaxOSD() {
		n := b.MaxOSD()
		inc.NewMaxOSD = &n
	}
	if !bytes.Equal(a.CrushBlob, b.CrushBlob) {
		inc.NewCrush = slices.Clone(b.CrushBlob)
		if inc.NewCrush == nil {
			inc.NewCrush = []byte{}
		}
	}
	if a.NearFullRatio != b.NearFullRatio {
		inc.NewNearFullRatio = &b.NearFullRatio
	}
	if a.BackfillFullRatio != b.BackfillFullRatio {
		inc.NewBackfillFullRatio = &b.BackfillFullRatio
	}
	if a.FullRatio != b.FullRatio {
		inc.NewFullRatio = &b.FullRatio
	}
}

func diffPools(inc *Incremental, a, b *OSDMap) {
	for id := range a.Pools {
		if b.Pools[id] == nil {
			inc.OldPools = append(inc.OldPools, id)
		}
	}
	slices.Sort(inc.OldPools)
	for id, p := range b.Pools {
		if old := a.Pools[id]; old == nil || *old != *p {
			if inc.NewPools == nil {
				inc.NewPools = map[int64]*Pool{}
			}
			cp := *p
			inc.NewPools[id] = &cp
		}
	}
}

// diffOSDs records every OSD whose record differs, including ids that a
// shrinking max_osd drops and that b keeps (none) and ids a growing one adds.
func diffOSDs(inc *Incremental, a, b *OSDMap) {
	for id := range b.OSDs {
		var old OSD
		if id < len(a.OSDs) {
			old = a.OSDs[id]
		}
		if b.OSDs[id] != old {
			if inc.NewOSDs == nil {
				inc.NewOSDs = map[int32]OSD{}
			}
			inc.NewOSDs[int32(id)] = b.OSDs[id]
		}
	}
}

func diffExceptions(inc *Incremental, a, b *OSDMap) {
	var tempGone []PGID
	inc.NewPGTemp = diffSliceTable(a.PGTemp, b.PGTemp, func(pg PGID) { tempGone = append(tempGone, pg) })
	for _, pg := range tempGone { // an empty pg_temp list removes the entry
		inc.NewPGTemp = setEntry(inc.NewPGTemp, pg, []int32{})
	}
	for pg, o := range b.PrimaryTemp {
		if old, ok := a.PrimaryTemp[pg]; !ok || old != o {
			inc.NewPrimaryTemp = setEntry(inc.NewPrimaryTemp, pg, o)
		}
	}
	for pg := range a.PrimaryTemp {
		if _, ok := b.PrimaryTemp[pg]; !ok {
			inc.NewPrimaryTemp = setEntry(inc.NewPrimaryTemp, pg, NoOSD)
		}
	}
	inc.NewPGUpmap = diffSliceTable(a.PGUpmap, b.PGUpmap, func(pg PGID) { inc.OldPGUpmap = append(inc.OldPGUpmap, pg) })
	inc.NewPGUpmapItems = diffSliceTable(a.PGUpmapItems, b.PGUpmapItems, func(pg PGID) { inc.OldPGUpmapItems = append(inc.OldPGUpmapItems, pg) })
	slices.SortFunc(inc.OldPGUpmap, comparePGID)
	slices.SortFunc(inc.OldPGUpmapItems, comparePGID)
}

// diffSliceTable returns the entries of b that are new or differ from a,
// and calls removed for every key of a that b lacks.
func diffSliceTable[V comparable](a, b map[PGID][]V, removed func(PGID)) map[PGID][]V {
	var changed map[PGID][]V
	for pg, v := range b {
		if old, ok := a[pg]; !ok || !slices.Equal(old, v) {
			changed = setEntry(changed, pg, slices.Clone(v))
		}
	}
	for pg := range a {
		if _, ok := b[pg]; !ok {
			removed(pg)
		}
	}
	return changed
}

// setEntry sets m[k] = v, allocating m on first use.
func setEntry[K comparable, V any](m map[K]V, k K, v V) map[K]V {
	if m == nil {
		m = map[K]V{}
	}
	m[k] = v
	return m
}
