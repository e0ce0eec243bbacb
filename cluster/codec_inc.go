package cluster

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gorados/gorados/proto/pb"
)

// Marshal returns the canonical encoding of inc.
func (inc *Incremental) Marshal() ([]byte, error) {
	b, err := marshalOpts.Marshal(incToPB(inc))
	if err != nil {
		return nil, fmt.Errorf("%w: encoding incremental to epoch %d: %w", ErrInvalidMap, inc.Epoch, err)
	}
	return b, nil
}

// UnmarshalIncremental decodes an incremental encoded by Marshal and checks
// its structure (sorted, unique keys; ids in range; well-formed records).
// Whether it fits a given map is Apply's job.
func UnmarshalIncremental(data []byte) (*Incremental, error) {
	var p pb.Incremental
	if err := unmarshalOpts.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return incFromPB(&p)
}

func incToPB(inc *Incremental) *pb.Incremental {
	p := &pb.Incremental{
		Fsid: inc.FSID[:], Epoch: uint32(inc.Epoch), ModifiedUnixNano: timeToPB(inc.Modified),
		NewPoolMax: inc.NewPoolMax, NewMaxOsd: inc.NewMaxOSD, NewCrush: inc.NewCrush,
		OldPools:  slices.Sorted(slices.Values(inc.OldPools)),
		NewPgTemp: pgOsdsToPB(inc.NewPGTemp), NewPrimaryTemp: primaryToPB(inc.NewPrimaryTemp),
		NewPgUpmap: pgOsdsToPB(inc.NewPGUpmap), OldPgUpmap: pgListToPB(inc.OldPGUpmap),
		NewPgUpmapItems: upmapItemsToPB(inc.NewPGUpmapItems), OldPgUpmapItems: pgListToPB(inc.OldPGUpmapItems),
		NewNearfullRatio: inc.NewNearFullRatio, NewBackfillfullRatio: inc.NewBackfillFullRatio,
		NewFullRatio: inc.NewFullRatio, FullCrc: inc.FullCRC,
	}
	if inc.NewCreated != nil {
		t := timeToPB(*inc.NewCreated)
		p.NewCreatedUnixNano = &t
	}
	if inc.NewFlags != nil {
		f := uint32(*inc.NewFlags)
		p.NewFlags = &f
	}
	for _, id := range slices.Sorted(maps.Keys(inc.NewPools)) {
		p.NewPools = append(p.NewPools, poolToPB(inc.NewPools[id]))
	}
	for _, id := range slices.Sorted(maps.Keys(inc.NewOSDs)) {
		o := inc.NewOSDs[id]
		p.NewOsds = append(p.NewOsds, osdToPB(id, &o))
	}
	return p
}

func pgListToPB(pgs []PGID) []*pb.PgId {
	sorted := slices.SortedFunc(slices.Values(pgs), comparePGID)
	out := make([]*pb.PgId, len(sorted))
	for i, pg := range sorted {
		out[i] = pgToPB(pg)
	}
	return out
}

func incFromPB(p *pb.Incremental) (*Incremental, error) {
	if len(p.Fsid) != 16 {
		return nil, fmt.Errorf("%w: fsid is %d bytes, want 16", ErrCorrupt, len(p.Fsid))
	}
	if p.NewMaxOsd != nil && (*p.NewMaxOsd < 0 || *p.NewMaxOsd > MaxOSDLimit) {
		return nil, fmt.Errorf("%w: new max_osd %d outside 0..%d", ErrCorrupt, *p.NewMaxOsd, MaxOSDLimit)
	}
	inc := &Incremental{
		FSID: UUID(p.Fsid), Epoch: Epoch(p.Epoch), Modified: timeFromPB(p.ModifiedUnixNano),
		NewPoolMax: p.NewPoolMax, NewMaxOSD: p.NewMaxOsd, NewCrush: slices.Clone(p.NewCrush),
		NewNearFullRatio: p.NewNearfullRatio, NewBackfillFullRatio: p.NewBackfillfullRatio,
		NewFullRatio: p.NewFullRatio, FullCRC: p.FullCrc,
	}
	if p.NewCrush != nil && inc.NewCrush == nil {
		inc.NewCrush = []byte{}
	}
	if p.NewCreatedUnixNano != nil {
		t := timeFromPB(*p.NewCreatedUnixNano)
		inc.NewCreated = &t
	}
	if p.NewFlags != nil {
		f := Flags(*p.NewFlags)
		inc.NewFlags = &f
	}
	if err := decodeIncPoolsOSDs(inc, p); err != nil {
		return nil, err
	}
	return inc, decodeIncExceptions(inc, p)
}

func decodeIncPoolsOSDs(inc *Incremental, p *pb.Incremental) error {
	if len(p.NewPools) > 0 {
		inc.NewPools = map[int64]*Pool{}
		if err := decodePools(inc.NewPools, p.NewPools); err != nil {
			return err
		}
	}
	for i, id := range p.OldPools {
		if i > 0 && p.OldPools[i-1] >= id {
			return fmt.Errorf("%w: removed pools not in strictly increasing order at %d", ErrCorrupt, id)
		}
	}
	inc.OldPools = p.OldPools
	if len(p.NewOsds) == 0 {
		return nil
	}
	inc.NewOSDs = make(map[int32]OSD, len(p.NewOsds))
	for i, po := range p.NewOsds {
		if po.Id < 0 || po.Id >= MaxOSDLimit || (i > 0 && p.NewOsds[i-1].Id >= po.Id) {
			return fmt.Errorf("%w: OSD record osd.%d out of range or out of order", ErrCorrupt, po.Id)
		}
		o, err := osdFromPB(po)
		if err != nil {
			return err
		}
		inc.NewOSDs[po.Id] = o
	}
	return nil
}

func decodeIncExceptions(inc *Incremental, p *pb.Incremental) error {
	tmp := New(inc.FSID, inc.Modified)
	if err := decodeExceptions(tmp, p.NewPgTemp, p.NewPrimaryTemp, p.NewPgUpmap, p.NewPgUpmapItems); err != nil {
		return err
	}
	inc.NewPGTemp = nilIfEmpty(tmp.PGTemp)
	inc.NewPrimaryTemp = nilIfEmpty(tmp.PrimaryTemp)
	inc.NewPGUpmap = nilIfEmpty(tmp.PGUpmap)
	inc.NewPGUpmapItems = nilIfEmpty(tmp.PGUpmapItems)
	var err error
	if inc.OldPGUpmap, err = pgListFromPB("removed pg_upmap", p.OldPgUpmap); err != nil {
		return err
	}
	inc.OldPGUpmapItems, err = pgListFromPB("removed pg_upmap_items", p.OldPgUpmapItems)
	return err
}

func nilIfEmpty[V any](m map[PGID]V) map[PGID]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

func pgListFromPB(what string, src []*pb.PgId) ([]PGID, error) {
	var out []PGID
	for i, pg := range src {
		var prev *pb.PgId
		if i > 0 {
			prev = src[i-1]
		}
		if err := checkPGOrder(what, i, prev, pg); err != nil {
			return nil, err
		}
		out = append(out, pgFromPB(pg))
	}
	return out, nil
}
