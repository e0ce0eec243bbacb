package osd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// This file executes the PG core's recovery sync plans: the primary pulls
// the objects it lacks from the authoritative member, then pushes to each
// replica the objects and log entries it lacks. Objects travel whole, in
// requests of at most recoveryChunkBytes; the log changes come last, so a
// crash midway leaves a member whose log still says it needs the sync.

const recoveryChunkBytes = 32 << 20

// locatorOf returns the wire locator of a PG-layer object id.
func locatorOf(o pg.ObjectID) *pb.ObjectLocator {
	return &pb.ObjectLocator{Namespace: []byte(o.Namespace), Key: []byte(o.Key), Name: []byte(o.Name)}
}

// stillRound reports whether the PG is still in the recovery round.
func (h *pgHandle) stillRound(round uint64) bool {
	return h.o.ctx.Err() == nil && h.interval.Load() == round
}

// retry runs f until it succeeds or the round ends, backing off.
func (h *pgHandle) retry(round uint64, what string, f func() error) bool {
	backoff := 50 * time.Millisecond
	for h.stillRound(round) {
		err := f()
		if err == nil {
			return true
		}
		h.log.Warn("recovery step failed; retrying", "what", what, "err", err)
		select {
		case <-time.After(backoff):
		case <-h.o.ctx.Done():
		}
		backoff = min(2*backoff, time.Second)
	}
	return false
}

// pullAndApply brings this primary to the authoritative history: it pulls
// every object of the plan from the source, writes them in chunks, then
// applies the log changes.
func (h *pgHandle) pullAndApply(plan pg.SyncPlan) {
	objects := plan.Objects
	h.log.Info("recovering from the authority", "source", plan.Source, "backfill", plan.Backfill, "objects", len(objects), "entries", len(plan.Entries))
	var present map[string]bool
	if plan.Backfill {
		var ok bool
		if objects, present, ok = h.listSource(plan); !ok {
			return
		}
	}
	var chunk []*pb.ObjectState
	size := 0
	for _, obj := range objects {
		var st *pb.ObjectState
		ok := h.retry(plan.QueryEpoch, "pull "+obj.String(), func() (err error) {
			st, err = h.o.peers.pull(h, plan.Source, obj)
			return err
		})
		if !ok {
			return
		}
		chunk, size = append(chunk, st), size+len(st.GetData())
		if size >= recoveryChunkBytes {
			h.postObjects(plan.QueryEpoch, chunk, nil)
			chunk, size = nil, 0
		}
	}
	h.postObjects(plan.QueryEpoch, chunk, func(t *store.Txn) error {
		if plan.Backfill {
			if err := h.removeUnlisted(t, present); err != nil {
				return err
			}
		}
		return h.applySyncLog(t, plan)
	})
}

// listSource lists every object the backfill source holds for the PG.
func (h *pgHandle) listSource(plan pg.SyncPlan) ([]pg.ObjectID, map[string]bool, bool) {
	var objects []pg.ObjectID
	present := map[string]bool{}
	var cursor []byte
	for {
		var page *pb.ListPGReply
		ok := h.retry(plan.QueryEpoch, "list the backfill source", func() (err error) {
			page, err = h.o.peers.listPG(h, plan.Source, cursor)
			return err
		})
		if !ok {
			return nil, nil, false
		}
		for _, loc := range page.GetObjects() {
			o := pg.ObjectID{Namespace: string(loc.GetNamespace()), Key: string(loc.GetKey()), Name: string(loc.GetName())}
			objects = append(objects, o)
			present[pgObjectKey(o)] = true
		}
		if len(page.GetNextCursor()) == 0 {
			return objects, present, true
		}
		cursor = page.GetNextCursor()
	}
}

func pgObjectKey(o pg.ObjectID) string { return o.Namespace + "\x00" + o.Key + "\x00" + o.Name }

// removeUnlisted removes, in t, every local object of the PG that the
// backfill source does not hold.
func (h *pgHandle) removeUnlisted(t *store.Txn, present map[string]bool) error {
	for cursor := store.ListCursor(""); ; {
		page, err := h.o.st.ListObjects(h.o.ctx, h.coll, cursor, 0)
		if err != nil {
			return err
		}
		for _, o := range page.Objects {
			if !present[pgObjectKey(pgObject(o))] {
				t.Remove(h.coll, o)
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
}

// localObjects lists the PG's objects in this OSD's store.
func (h *pgHandle) localObjects() ([]pg.ObjectID, error) {
	var out []pg.ObjectID
	for cursor := store.ListCursor(""); ; {
		page, err := h.o.st.ListObjects(h.o.ctx, h.coll, cursor, 0)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			out = append(out, pgObject(o))
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// postObjects writes object states on the shard in one transaction; final,
// when set, adds the log changes and reports the sync done after commit.
func (h *pgHandle) postObjects(round uint64, objs []*pb.ObjectState, final func(*store.Txn) error) {
	h.post(func() {
		if h.interval.Load() != round {
			return
		}
		t := newTxn()
		if err := h.addObjectStates(t, objs); err != nil {
			h.log.Error("recovery: cannot write pulled objects", "err", err)
			return
		}
		if final == nil {
			h.submitAsync(t, nil)
			return
		}
		if err := final(t); err != nil {
			h.log.Error("recovery: cannot apply the sync plan", "err", err)
			return
		}
		h.submitAsync(t, func() { h.step(pg.SyncedEvent{From: h.o.cfg.ID, QueryEpoch: round}) })
	})
}

// applySyncLog applies a plan to the core and records the log changes and
// the new info in t.
func (h *pgHandle) applySyncLog(t *store.Txn, plan pg.SyncPlan) error {
	if err := h.core.ApplySync(plan); err != nil {
		return err
	}
	if plan.Backfill {
		t.TrimLog(h.coll, store.EVersion{Epoch: math.MaxUint32, Version: math.MaxUint64})
		for _, d := range plan.Dups {
			t.SetPGMeta(h.coll, dupKey(d.Version), pg.EncodeDup(d))
		}
	} else {
		t.RewindLog(h.coll, toStoreVersion(plan.RewindTo))
	}
	for _, e := range plan.Entries {
		t.AppendLog(h.coll, toStoreVersion(e.Version), pg.EncodeEntry(e))
	}
	addReady(t, h.coll, h.takeReadyKeepEffects())
	return nil
}

// takeReadyKeepEffects takes the core's Ready for persistence in the
// caller's transaction and executes its other effects.
func (h *pgHandle) takeReadyKeepEffects() pg.Ready {
	r := h.takeReady()
	h.effects(r)
	return r
}

// addObjectStates makes the local copies of objs equal to the given
// states: replaced whole, or removed when the source has none.
func (h *pgHandle) addObjectStates(t *store.Txn, objs []*pb.ObjectState) error {
	p := poolOf(h.o.Map(), h.id.Pool)
	if p == nil {
		return fmt.Errorf("pool %d is not in the map", h.id.Pool)
	}
	for _, st := range objs {
		obj := storeObject(p, st.GetObject())
		_, err := h.o.st.Stat(h.o.ctx, h.coll, obj)
		switch {
		case err == nil:
			t.Remove(h.coll, obj)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if st.GetExists() {
			addObjectState(t, h.coll, obj, st)
		}
	}
	return nil
}

func addObjectState(t *store.Txn, c store.CollID, obj store.ObjectID, st *pb.ObjectState) {
	t.Touch(c, obj)
	if len(st.GetData()) > 0 {
		t.Write(c, obj, 0, st.GetData())
	}
	for _, x := range st.GetXattrs() {
		t.SetXattr(c, obj, string(x.GetName()), x.GetValue())
	}
	if len(st.GetOmap()) > 0 {
		kv := make(map[string][]byte, len(st.GetOmap()))
		for _, e := range st.GetOmap() {
			kv[string(e.GetKey())] = e.GetValue()
		}
		t.OmapSet(c, obj, kv)
	}
	if len(st.GetOmapHeader()) > 0 {
		t.OmapSetHeader(c, obj, st.GetOmapHeader())
	}
	v := store.EVersion{Epoch: uint32(st.GetVersion().GetEpoch()), Version: st.GetVersion().GetVersion()}
	t.SetVersion(c, obj, v, st.GetUserVersion())
	t.SetObjectMtime(c, obj, time.Unix(0, st.GetMtimeUnixNano()))
}

// readObjectState reads the whole committed state of an object of this PG.
func (h *pgHandle) readObjectState(ctx context.Context, loc *pb.ObjectLocator) (*pb.ObjectState, error) {
	p := poolOf(h.o.Map(), h.id.Pool)
	if p == nil {
		return nil, fmt.Errorf("pool %d is not in the map", h.id.Pool)
	}
	d, err := h.o.st.DumpObject(ctx, h.coll, storeObject(p, loc))
	if errors.Is(err, store.ErrNotFound) {
		return &pb.ObjectState{Object: loc}, nil
	}
	if err != nil {
		return nil, err
	}
	st := &pb.ObjectState{Object: loc, Exists: true, Data: d.Data, OmapHeader: d.OmapHeader,
		Version:     &pb.Eversion{Epoch: uint64(d.Info.Version.Epoch), Version: d.Info.Version.Version},
		UserVersion: d.Info.UserVersion, MtimeUnixNano: d.Info.Mtime.UnixNano()}
	for k, v := range d.Xattrs {
		st.Xattrs = append(st.Xattrs, &pb.Xattr{Name: []byte(k), Value: v})
	}
	for _, e := range d.Omap {
		st.Omap = append(st.Omap, &pb.OmapEntry{Key: []byte(e.Key), Value: e.Value})
	}
	return st, nil
}

// pushSync brings a replica to the primary's (authoritative) history:
// objects in chunks, then a final step with the log changes.
func (h *pgHandle) pushSync(plan pg.SyncPlan) {
	objects := plan.Objects
	h.log.Info("recovering a replica", "osd", plan.OSD, "backfill", plan.Backfill, "objects", len(objects), "entries", len(plan.Entries))
	if plan.Backfill {
		ok := h.retry(plan.QueryEpoch, "list local objects", func() (err error) {
			objects, err = h.localObjects()
			return err
		})
		if !ok {
			return
		}
	}
	req := h.recoverRequest(plan)
	size := 0
	for _, obj := range objects {
		var st *pb.ObjectState
		ok := h.retry(plan.QueryEpoch, "read "+obj.String(), func() (err error) {
			st, err = h.readObjectState(h.o.ctx, locatorOf(obj))
			return err
		})
		if !ok {
			return
		}
		req.Objects, size = append(req.Objects, st), size+len(st.GetData())
		if size >= recoveryChunkBytes {
			if !h.sendRecover(plan, req) {
				return
			}
			req, size = h.recoverRequest(plan), 0
		}
	}
	req.Final = true
	req.RewindTo = eversionPB(plan.RewindTo)
	req.Entries = encodeEntries(plan.Entries)
	if plan.Backfill {
		req.Backfill, req.Tail, req.Dups = true, eversionPB(plan.Tail), encodeDups(plan.Dups)
		for _, o := range objects {
			req.Present = append(req.Present, locatorOf(o))
		}
	}
	if h.sendRecover(plan, req) {
		h.post(func() { h.step(pg.SyncedEvent{From: plan.OSD, QueryEpoch: plan.QueryEpoch}) })
	}
}

func (h *pgHandle) recoverRequest(plan pg.SyncPlan) *pb.RecoverRequest {
	return &pb.RecoverRequest{Fsid: h.o.cfg.FSID.String(), FromOsd: h.o.cfg.ID, Epoch: h.o.Epoch(),
		Pool: h.id.Pool, PgSeed: h.id.Seed, Round: plan.QueryEpoch}
}

func (h *pgHandle) sendRecover(plan pg.SyncPlan, req *pb.RecoverRequest) bool {
	return h.retry(plan.QueryEpoch, fmt.Sprintf("recover osd.%d", plan.OSD), func() error {
		return h.o.peers.recover(plan.OSD, req)
	})
}

// handleRecover applies one recovery step on this replica and answers
// after the commit.
func (h *pgHandle) handleRecover(req *pb.RecoverRequest, reply func(pb.Result, string)) {
	if h.core.State() != pg.StateReplica || req.GetRound() != h.core.Info().History.SameIntervalSince {
		reply(pb.Result_RESULT_STALE_EPOCH, fmt.Sprintf("PG %s is %s since e%d, not in round %d",
			h.id, h.core.State(), h.core.Info().History.SameIntervalSince, req.GetRound()))
		return
	}
	t := newTxn()
	if err := h.addObjectStates(t, req.GetObjects()); err != nil {
		reply(pb.Result_RESULT_IO_ERROR, err.Error())
		return
	}
	if req.GetFinal() {
		entries, err := decodeEntries(req.GetEntries())
		if err != nil {
			reply(pb.Result_RESULT_INVALID_ARGUMENT, err.Error())
			return
		}
		dups, err := decodeDups(req.GetDups())
		if err != nil {
			reply(pb.Result_RESULT_INVALID_ARGUMENT, err.Error())
			return
		}
		plan := pg.SyncPlan{OSD: h.o.cfg.ID, QueryEpoch: req.GetRound(), Entries: entries, Dups: dups,
			RewindTo: pg.Eversion{Epoch: req.GetRewindTo().GetEpoch(), Version: req.GetRewindTo().GetVersion()},
			Backfill: req.GetBackfill(), Tail: pg.Eversion{Epoch: req.GetTail().GetEpoch(), Version: req.GetTail().GetVersion()}}
		if plan.Backfill {
			present := map[string]bool{}
			for _, loc := range req.GetPresent() {
				present[pgObjectKey(pg.ObjectID{Namespace: string(loc.GetNamespace()), Key: string(loc.GetKey()), Name: string(loc.GetName())})] = true
			}
			if err := h.removeUnlisted(t, present); err != nil {
				reply(pb.Result_RESULT_IO_ERROR, err.Error())
				return
			}
		}
		if err := h.applySyncLog(t, plan); err != nil {
			reply(pb.Result_RESULT_STALE_EPOCH, err.Error())
			return
		}
	}
	h.submitAsync(t, func() { reply(pb.Result_RESULT_OK, "") })
}
