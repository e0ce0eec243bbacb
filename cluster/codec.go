package cluster

import (
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"time"

	"github.com/gorados/gorados/crush"
	"github.com/gorados/gorados/proto/pb"
	"google.golang.org/protobuf/proto"
)

// This file converts maps and incrementals to and from their canonical
// protobuf encoding (proto/cluster.proto). Canonical means: every Go map is
// written as a list sorted by key, OSD records equal to the zero record are
// left out, and marshalling is deterministic. Equal values therefore encode
// to equal bytes, which is what the incremental's CRC relies on.

var (
	marshalOpts   = proto.MarshalOptions{Deterministic: true}
	unmarshalOpts = proto.UnmarshalOptions{DiscardUnknown: false}
	castagnoli    = crc32.MakeTable(crc32.Castagnoli)
)

// Marshal returns the canonical encoding of m. It fails only for text
// fields that are not valid UTF-8 (which Validate also rejects).
func (m *OSDMap) Marshal() ([]byte, error) {
	b, err := marshalOpts.Marshal(mapToPB(m))
	if err != nil {
		return nil, fmt.Errorf("%w: encoding map epoch %d: %w", ErrInvalidMap, m.Epoch, err)
	}
	return b, nil
}

// CRC returns the crc32c (Castagnoli) of m's canonical encoding.
func (m *OSDMap) CRC() (uint32, error) {
	b, err := m.Marshal()
	if err != nil {
		return 0, err
	}
	return crc32.Checksum(b, castagnoli), nil
}

// Unmarshal decodes and validates a map encoded by Marshal. It never panics
// on bad input; any defect is reported as ErrCorrupt or ErrInvalidMap.
func Unmarshal(data []byte) (*OSDMap, error) {
	var p pb.OsdMap
	if err := unmarshalOpts.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	m, err := mapFromPB(&p)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// timeToPB and timeFromPB keep times at nanosecond precision in UTC; the
// zero time travels as 0.
func timeToPB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromPB(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func pgToPB(pg PGID) *pb.PgId { return &pb.PgId{Pool: pg.Pool, Seed: pg.Seed} }

func pgFromPB(p *pb.PgId) PGID {
	if p == nil {
		return PGID{}
	}
	return PGID{Pool: p.Pool, Seed: p.Seed}
}

func poolToPB(p *Pool) *pb.Pool {
	return &pb.Pool{Id: p.ID, Name: p.Name, Type: uint32(p.Type), Size: p.Size, MinSize: p.MinSize,
		CrushRule: p.CrushRule, PgNum: p.PGNum, PgpNum: p.PGPNum, Flags: uint64(p.Flags),
		ObjectHash: uint32(p.ObjectHash)}
}

func poolFromPB(p *pb.Pool) (*Pool, error) {
	if p.Type > 255 || p.ObjectHash > 255 {
		return nil, fmt.Errorf("%w: pool %d: type %d or object hash %d out of range", ErrCorrupt, p.Id, p.Type, p.ObjectHash)
	}
	return &Pool{ID: p.Id, Name: p.Name, Type: PoolType(p.Type), Size: p.Size, MinSize: p.MinSize,
		CrushRule: p.CrushRule, PGNum: p.PgNum, PGPNum: p.PgpNum, Flags: PoolFlags(p.Flags),
		ObjectHash: ObjectHash(p.ObjectHash)}, nil
}

func osdToPB(id int32, o *OSD) *pb.Osd {
	r := &pb.Osd{Id: id, Exists: o.Exists, Up: o.Up, Weight: o.Weight, PrimaryAffinity: o.PrimaryAffinity,
		Host: o.Host, DeviceClass: o.DeviceClass, PublicAddr: o.PublicAddr, ClusterAddr: o.ClusterAddr,
		HeartbeatFront: o.HeartbeatFront, HeartbeatBack: o.HeartbeatBack, UpFrom: uint32(o.UpFrom),
		UpThru: uint32(o.UpThru), DownAt: uint32(o.DownAt), LastCleanBegin: uint32(o.LastCleanBegin),
		LastCleanEnd: uint32(o.LastCleanEnd), AutoOut: o.AutoOut}
	if !o.UUID.IsZero() {
		r.Uuid = o.UUID[:]
	}
	return r
}

func osdFromPB(p *pb.Osd) (OSD, error) {
	o := OSD{Exists: p.Exists, Up: p.Up, Weight: p.Weight, PrimaryAffinity: p.PrimaryAffinity,
		Host: p.Host, DeviceClass: p.DeviceClass, PublicAddr: p.PublicAddr, ClusterAddr: p.ClusterAddr,
		HeartbeatFront: p.HeartbeatFront, HeartbeatBack: p.HeartbeatBack, UpFrom: Epoch(p.UpFrom),
		UpThru: Epoch(p.UpThru), DownAt: Epoch(p.DownAt), LastCleanBegin: Epoch(p.LastCleanBegin),
		LastCleanEnd: Epoch(p.LastCleanEnd), AutoOut: p.AutoOut}
	switch len(p.Uuid) {
	case 0:
	case 16:
		copy(o.UUID[:], p.Uuid)
	default:
		return o, fmt.Errorf("%w: osd.%d uuid is %d bytes, want 16", ErrCorrupt, p.Id, len(p.Uuid))
	}
	return o, nil
}

// sortedPGs returns the keys of a PG-keyed map in PG order.
func sortedPGs[V any](m map[PGID]V) []PGID {
	return slices.SortedFunc(maps.Keys(m), comparePGID)
}

func pgOsdsToPB(m map[PGID][]int32) []*pb.PgOsds {
	out := make([]*pb.PgOsds, 0, len(m))
	for _, pg := range sortedPGs(m) {
		out = append(out, &pb.PgOsds{Pg: pgToPB(pg), Osds: m[pg]})
	}
	return out
}

func primaryToPB(m map[PGID]int32) []*pb.PgPrimary {
	out := make([]*pb.PgPrimary, 0, len(m))
	for _, pg := range sortedPGs(m) {
		out = append(out, &pb.PgPrimary{Pg: pgToPB(pg), Osd: m[pg]})
	}
	return out
}

func upmapItemsToPB(m map[PGID][]UpmapItem) []*pb.PgUpmapItems {
	out := make([]*pb.PgUpmapItems, 0, len(m))
	for _, pg := range sortedPGs(m) {
		e := &pb.PgUpmapItems{Pg: pgToPB(pg)}
		for _, it := range m[pg] {
			e.Items = append(e.Items, &pb.UpmapItem{From: it.From, To: it.To})
		}
		out = append(out, e)
	}
	return out
}

func mapToPB(m *OSDMap) *pb.OsdMap {
	p := &pb.OsdMap{
		Fsid: m.FSID[:], Epoch: uint32(m.Epoch), CreatedUnixNano: timeToPB(m.Created),
		ModifiedUnixNano: timeToPB(m.Modified), Flags: uint32(m.Flags), PoolMax: m.PoolMax,
		MaxOsd: m.MaxOSD(), Crush: m.CrushBlob, PgTemp: pgOsdsToPB(m.PGTemp),
		PrimaryTemp: primaryToPB(m.PrimaryTemp), PgUpmap: pgOsdsToPB(m.PGUpmap),
		PgUpmapItems: upmapItemsToPB(m.PGUpmapItems), NearfullRatio: m.NearFullRatio,
		BackfillfullRatio: m.BackfillFullRatio, FullRatio: m.FullRatio,
	}
	for _, id := range slices.Sorted(maps.Keys(m.Pools)) {
		p.Pools = append(p.Pools, poolToPB(m.Pools[id]))
	}
	for id := range m.OSDs {
		if m.OSDs[id] != (OSD{}) {
			p.Osds = append(p.Osds, osdToPB(int32(id), &m.OSDs[id]))
		}
	}
	return p
}

// MaxOSDLimit bounds max_osd in decoded maps and incrementals, so that a few
// bytes of input cannot make the decoder allocate gigabytes.
const MaxOSDLimit = 1 << 16

func mapFromPB(p *pb.OsdMap) (*OSDMap, error) {
	if len(p.Fsid) != 16 {
		return nil, fmt.Errorf("%w: fsid is %d bytes, want 16", ErrCorrupt, len(p.Fsid))
	}
	if p.MaxOsd < 0 || p.MaxOsd > MaxOSDLimit {
		return nil, fmt.Errorf("%w: max_osd %d outside 0..%d", ErrCorrupt, p.MaxOsd, MaxOSDLimit)
	}
	m := New(UUID(p.Fsid), timeFromPB(p.CreatedUnixNano))
	m.Epoch, m.Modified, m.Flags, m.PoolMax = Epoch(p.Epoch), timeFromPB(p.ModifiedUnixNano), Flags(p.Flags), p.PoolMax
	m.NearFullRatio, m.BackfillFullRatio, m.FullRatio = p.NearfullRatio, p.BackfillfullRatio, p.FullRatio
	if err := decodePools(m.Pools, p.Pools); err != nil {
		return nil, err
	}
	m.OSDs = make([]OSD, p.MaxOsd)
	if err := decodeOSDs(m.OSDs, p.Osds); err != nil {
		return nil, err
	}
	if len(p.Crush) > 0 {
		if err := m.setCrushBlob(p.Crush); err != nil {
			return nil, err
		}
	}
	return m, decodeExceptions(m, p.PgTemp, p.PrimaryTemp, p.PgUpmap, p.PgUpmapItems)
}

// setCrushBlob decodes a Ceph binary CRUSH map and attaches it with its
// bytes (copied).
func (m *OSDMap) setCrushBlob(blob []byte) error {
	c, err := crush.Decode(blob)
	if err != nil {
		return fmt.Errorf("%w: CRUSH map: %w", ErrCorrupt, err)
	}
	m.Crush, m.CrushBlob = c, slices.Clone(blob)
	m.cache.Store(nil)
	return nil
}

// decodePools fills dst from a strictly increasing list of pools.
func decodePools(dst map[int64]*Pool, src []*pb.Pool) error {
	for i, pp := range src {
		if i > 0 && src[i-1].Id >= pp.Id {
			return fmt.Errorf("%w: pools not in strictly increasing id order at pool %d", ErrCorrupt, pp.Id)
		}
		p, err := poolFromPB(pp)
		if err != nil {
			return err
		}
		dst[p.ID] = p
	}
	return nil
}

// decodeOSDs fills the table from records in strictly increasing id order.
func decodeOSDs(dst []OSD, src []*pb.Osd) error {
	for i, po := range src {
		if po.Id < 0 || int(po.Id) >= len(dst) {
			return fmt.Errorf("%w: osd.%d outside max_osd %d", ErrCorrupt, po.Id, len(dst))
		}
		if i > 0 && src[i-1].Id >= po.Id {
			return fmt.Errorf("%w: OSD records not in strictly increasing id order at osd.%d", ErrCorrupt, po.Id)
		}
		o, err := osdFromPB(po)
		if err != nil {
			return err
		}
		dst[po.Id] = o
	}
	return nil
}

// checkPGOrder rejects unsorted or duplicate PG lists, so that a map has one
// encoding only.
func checkPGOrder(what string, i int, prev, cur *pb.PgId) error {
	if cur == nil {
		return fmt.Errorf("%w: %s entry without a PG", ErrCorrupt, what)
	}
	if i > 0 && comparePGID(pgFromPB(prev), pgFromPB(cur)) >= 0 {
		return fmt.Errorf("%w: %s not in strictly increasing PG order at %v", ErrCorrupt, what, pgFromPB(cur))
	}
	return nil
}

func decodePGOsds(what string, dst map[PGID][]int32, src []*pb.PgOsds) error {
	for i, e := range src {
		var prev *pb.PgId
		if i > 0 {
			prev = src[i-1].Pg
		}
		if err := checkPGOrder(what, i, prev, e.Pg); err != nil {
			return err
		}
		dst[pgFromPB(e.Pg)] = slices.Clone(e.Osds)
	}
	return nil
}

func decodeExceptions(m *OSDMap, temp []*pb.PgOsds, prim []*pb.PgPrimary, upmap []*pb.PgOsds, items []*pb.PgUpmapItems) error {
	if err := decodePGOsds("pg_temp", m.PGTemp, temp); err != nil {
		return err
	}
	if err := decodePGOsds("pg_upmap", m.PGUpmap, upmap); err != nil {
		return err
	}
	for i, e := range prim {
		var prev *pb.PgId
		if i > 0 {
			prev = prim[i-1].Pg
		}
		if err := checkPGOrder("primary_temp", i, prev, e.Pg); err != nil {
			return err
		}
		m.PrimaryTemp[pgFromPB(e.Pg)] = e.Osd
	}
	for i, e := range items {
		var prev *pb.PgId
		if i > 0 {
			prev = items[i-1].Pg
		}
		if err := checkPGOrder("pg_upmap_items", i, prev, e.Pg); err != nil {
			return err
		}
		m.PGUpmapItems[pgFromPB(e.Pg)] = upmapItemsFromPB(e.Items)
	}
	return nil
}

func upmapItemsFromPB(src []*pb.UpmapItem) []UpmapItem {
	out := make([]UpmapItem, 0, len(src))
	for _, it := range src {
		out = append(out, UpmapItem{From: it.From, To: it.To})
	}
	return out
}
