package cluster

import (
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorados/gorados/crush"
)

// Epoch numbers successive versions of the cluster map; epoch 0 is "no map".
type Epoch uint32

// UUID is a 16-byte identifier (cluster fsid, OSD uuid).
type UUID [16]byte

// String formats u in the canonical 8-4-4-4-12 hex form.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// IsZero reports whether u is all zeros (no id assigned).
func (u UUID) IsZero() bool { return u == UUID{} }

// ParseUUID parses the 8-4-4-4-12 hex form (or 32 hex digits without dashes).
func ParseUUID(s string) (UUID, error) {
	var u UUID
	clean := strings.ReplaceAll(s, "-", "")
	if len(clean) != 32 || (len(s) != 32 && len(s) != 36) {
		return u, fmt.Errorf("%w: uuid %q is not 32 hex digits in the 8-4-4-4-12 form", ErrInvalidArgument, s)
	}
	if _, err := hex.Decode(u[:], []byte(clean)); err != nil {
		return u, fmt.Errorf("%w: uuid %q: %w", ErrInvalidArgument, s, err)
	}
	return u, nil
}

// Flags is the cluster-wide flag set of the map (`ceph osd set FLAG`).
type Flags uint32

// Cluster flags. The bit values are ours (stable, part of the encoding); the
// names are Ceph's.
const (
	FlagNoOut       Flags = 1 << 0 // down OSDs are not marked out automatically
	FlagNoUp        Flags = 1 << 1 // booting OSDs are not marked up
	FlagNoDown      Flags = 1 << 2 // failure reports do not mark OSDs down
	FlagNoIn        Flags = 1 << 3 // booting OSDs that were out stay out
	FlagPause       Flags = 1 << 4 // clients stop reading and writing
	FlagFull        Flags = 1 << 5 // the cluster refuses writes
	FlagNoScrub     Flags = 1 << 6 // no shallow scrubs start
	FlagNoDeepScrub Flags = 1 << 7 // no deep scrubs start
	FlagSortBitwise Flags = 1 << 8 // objects sort bitwise (always true here; kept for parity)
	// FlagsKnown has every flag this version knows; others are rejected.
	FlagsKnown Flags = 1<<9 - 1
)

var flagNames = []struct {
	flag Flags
	name string
}{
	{FlagFull, "full"}, {FlagPause, "pause"}, {FlagNoUp, "noup"}, {FlagNoDown, "nodown"},
	{FlagNoOut, "noout"}, {FlagNoIn, "noin"}, {FlagNoScrub, "noscrub"},
	{FlagNoDeepScrub, "nodeep-scrub"}, {FlagSortBitwise, "sortbitwise"},
}

// ParseFlag returns the flag named name ("noout", "nodeep-scrub", ...).
func ParseFlag(name string) (Flags, error) {
	for _, f := range flagNames {
		if f.name == name {
			return f.flag, nil
		}
	}
	known := make([]string, len(flagNames))
	for i, f := range flagNames {
		known[i] = f.name
	}
	return 0, fmt.Errorf("%w: unknown flag %q: use one of %s", ErrInvalidArgument, name, strings.Join(known, ", "))
}

// String lists the set flags comma-separated in Ceph's order ("" when none).
func (f Flags) String() string {
	var names []string
	for _, n := range flagNames {
		if f&n.flag != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}

// Reweight and primary-affinity values (16.16 fixed point).
const (
	WeightIn  uint32 = 0x10000 // reweight of an OSD that is fully in
	WeightOut uint32 = 0       // reweight of an OSD that is out
	// AffinityDefault is the primary affinity every OSD starts with; only
	// lower values change placement.
	AffinityDefault uint32 = 0x10000
)

// NoOSD is the value of a missing OSD id in primaries (Ceph's -1).
const NoOSD int32 = -1

// OSD is the map's record of one OSD id.
type OSD struct {
	Exists bool
	Up     bool
	// Weight is the reweight (16.16): WeightIn is in, WeightOut is out, a
	// fraction makes CRUSH reject that share of the PGs it would place here.
	Weight          uint32
	PrimaryAffinity uint32 // 16.16, AffinityDefault = 1.0
	UUID            UUID
	Host            string
	DeviceClass     string
	PublicAddr      string // clients and front heartbeats
	ClusterAddr     string // replication, peering, recovery
	HeartbeatFront  string
	HeartbeatBack   string
	UpFrom          Epoch // epoch it was last marked up
	UpThru          Epoch // latest epoch the monitor confirmed it alive in
	DownAt          Epoch // epoch it was last marked down
	LastCleanBegin  Epoch // last interval [begin, end) it shut down cleanly in
	LastCleanEnd    Epoch
	// AutoOut: the monitors marked it out because it stayed down (Ceph's
	// AUTOOUT); booting marks it in again. An operator's in or out clears it.
	AutoOut bool
}

// In reports whether the OSD takes data (non-zero reweight).
func (o *OSD) In() bool { return o.Weight != WeightOut }

// NewOSD returns the record of a freshly created OSD: it exists, is down and
// out, with default affinity (as Ceph's `osd create`).
func NewOSD() OSD {
	return OSD{Exists: true, Weight: WeightOut, PrimaryAffinity: AffinityDefault}
}

// UpmapItem replaces one OSD of a PG's raw mapping by another.
type UpmapItem struct {
	From, To int32
}

// Default full-ratio thresholds (Ceph's mon_osd_*_ratio).
const (
	DefaultNearFullRatio     float32 = 0.85
	DefaultBackfillFullRatio float32 = 0.90
	DefaultFullRatio         float32 = 0.95
)

// OSDMap is the cluster map at one epoch.
//
// Ownership: an OSDMap is a value its producer may mutate until it publishes
// it. Placement methods cache derived data (the reweight vector handed to
// CRUSH and a pool of CRUSH workspaces) on first use, so treat a map as
// read-only once you have computed placement on it; Clone returns a fresh,
// mutable copy without caches. The CRUSH map is shared and never mutated
// once attached: replace it with SetCrush.
type OSDMap struct {
	FSID     UUID
	Epoch    Epoch
	Created  time.Time // given by the caller; this package never reads a clock
	Modified time.Time
	Flags    Flags

	Pools   map[int64]*Pool
	PoolMax int64 // highest pool id ever allocated

	// OSDs is indexed by OSD id; len(OSDs) is max_osd.
	OSDs []OSD

	// Crush is the decoded CRUSH map and CrushBlob its Ceph binary encoding
	// (what `ceph osd getcrushmap` returns). Both are set together by
	// SetCrush or by decoding.
	Crush     *crush.Map
	CrushBlob []byte

	PGTemp       map[PGID][]int32
	PrimaryTemp  map[PGID]int32
	PGUpmap      map[PGID][]int32
	PGUpmapItems map[PGID][]UpmapItem

	NearFullRatio     float32
	BackfillFullRatio float32
	FullRatio         float32

	cache atomic.Pointer[placementCache]
}

// New returns an empty map at epoch 0 for cluster fsid, with default ratios
// and no CRUSH map.
func New(fsid UUID, created time.Time) *OSDMap {
	return &OSDMap{
		FSID: fsid, Created: created, Modified: created,
		Pools: map[int64]*Pool{}, PGTemp: map[PGID][]int32{}, PrimaryTemp: map[PGID]int32{},
		PGUpmap: map[PGID][]int32{}, PGUpmapItems: map[PGID][]UpmapItem{},
		NearFullRatio: DefaultNearFullRatio, BackfillFullRatio: DefaultBackfillFullRatio,
		FullRatio: DefaultFullRatio,
	}
}

// SetCrush attaches a CRUSH map, storing its binary encoding alongside. The
// map must not be modified afterwards (build a new one and call SetCrush).
func (m *OSDMap) SetCrush(c *crush.Map) {
	m.Crush = c
	m.CrushBlob = c.Encode()
	m.cache.Store(nil)
}

// MaxOSD returns max_osd: one more than the largest usable OSD id.
func (m *OSDMap) MaxOSD() int32 { return int32(len(m.OSDs)) }

// SetMaxOSD grows or shrinks the OSD table; new ids do not exist yet. A
// negative n empties the table.
func (m *OSDMap) SetMaxOSD(n int32) {
	n = max(n, 0)
	if int(n) <= len(m.OSDs) {
		m.OSDs = m.OSDs[:n:n]
		return
	}
	grown := make([]OSD, n)
	copy(grown, m.OSDs)
	m.OSDs = grown
}

// Exists reports whether OSD id is in the table and exists.
func (m *OSDMap) Exists(id int32) bool {
	return id >= 0 && int(id) < len(m.OSDs) && m.OSDs[id].Exists
}

// IsUp reports whether OSD id exists and is up.
func (m *OSDMap) IsUp(id int32) bool { return m.Exists(id) && m.OSDs[id].Up }

// IsIn reports whether OSD id exists and has a non-zero reweight.
func (m *OSDMap) IsIn(id int32) bool { return m.Exists(id) && m.OSDs[id].In() }

// Pool returns the pool with id, or nil.
func (m *OSDMap) Pool(id int64) *Pool { return m.Pools[id] }

// PoolByName returns the pool named name, or nil.
func (m *OSDMap) PoolByName(name string) *Pool {
	for _, p := range m.Pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}
