package osd

import (
	"context"
	"fmt"
	"slices"

	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// PGStats implements pb.ObjectServiceServer: the PGs this OSD is the
// acting primary of, with their state and usage.
func (s *ObjectServer) PGStats(ctx context.Context, req *pb.PGStatsRequest) (*pb.PGStatsReply, error) {
	o := s.o
	if req.GetFsid() != o.cfg.FSID.String() {
		return &pb.PGStatsReply{Result: pb.Result_RESULT_WRONG_CLUSTER, Osd: o.cfg.ID, OsdEpoch: o.Epoch(),
			Message: fmt.Sprintf("PG stats request for cluster %q reached osd.%d of cluster %s: check the monitor addresses", req.GetFsid(), o.cfg.ID, o.cfg.FSID)}, nil
	}
	stats, err := o.primaryPGStats(ctx)
	if err != nil {
		return nil, err
	}
	colls, err := o.st.ListCollections(ctx)
	if err != nil {
		return &pb.PGStatsReply{Result: pb.Result_RESULT_IO_ERROR, Osd: o.cfg.ID, OsdEpoch: o.Epoch(),
			Message: fmt.Sprintf("osd.%d: list collections: %v", o.cfg.ID, err)}, nil
	}
	usage, err := o.usage(colls)
	if err != nil {
		return &pb.PGStatsReply{Result: pb.Result_RESULT_IO_ERROR, Osd: o.cfg.ID, OsdEpoch: o.Epoch(),
			Message: fmt.Sprintf("osd.%d: %v", o.cfg.ID, err)}, nil
	}
	byColl := make(map[store.CollID]store.CollectionInfo, len(colls))
	for _, c := range colls {
		byColl[c.ID] = c
	}
	for _, st := range stats {
		u := byColl[store.PG(st.Pool, st.Seed)]
		st.NumObjects, st.NumBytes = u.Objects, u.Bytes
	}
	return &pb.PGStatsReply{Osd: o.cfg.ID, OsdEpoch: o.Epoch(), Pgs: stats, Usage: usage}, nil
}

// usage returns the OSD's space: its file system, its store files and the
// objects of every collection.
func (o *OSD) usage(colls []store.CollectionInfo) (*pb.OsdUsage, error) {
	u, err := o.st.Usage()
	if err != nil {
		return nil, err
	}
	out := &pb.OsdUsage{FsBytes: u.FSBytes, FsAvailBytes: u.FSAvailBytes, StoreBytes: u.StoreBytes}
	for _, c := range colls {
		out.DataBytes += c.Bytes
		out.NumObjects += c.Objects
	}
	return out, nil
}

// primaryPGStats asks every PG, on its shard, for its stats if this OSD is
// its acting primary; it returns them sorted by PG id, or the context's
// error if a shard did not answer in time.
func (o *OSD) primaryPGStats(ctx context.Context) ([]*pb.PGStat, error) {
	hs := o.handles()
	results := make([]*pb.PGStat, len(hs))
	done := make(chan struct{}, len(hs))
	for i, h := range hs {
		if !h.sh.post(func() { results[i] = h.primaryStat(); done <- struct{}{} }) {
			done <- struct{}{} // the OSD is stopping
		}
	}
	for range hs {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]*pb.PGStat, 0, len(hs))
	for _, st := range results {
		if st != nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// primaryStat returns the PG's stats, or nil if this OSD is not its acting
// primary. It runs on the PG's shard.
func (h *pgHandle) primaryStat() *pb.PGStat {
	if !h.core.IsPrimary() {
		return nil
	}
	m, info := h.core.Mapping(), h.core.Info()
	return &pb.PGStat{Pool: h.id.Pool, Seed: h.id.Seed, State: pg.CephState(h.core.State(), m),
		Epoch: m.Epoch, Up: slices.Clone(m.Up), Acting: slices.Clone(m.Acting),
		LastUpdateEpoch: info.LastUpdate.Epoch, LastUpdateVersion: info.LastUpdate.Version,
		LogEntries: uint64(h.core.Log().Len())}
}
