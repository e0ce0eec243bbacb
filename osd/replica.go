package osd

import (
	"errors"
	"fmt"

	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// repOp is one RepOp waiting for its answer.
type repOp struct {
	req   *pb.RepOpRequest
	entry pg.LogEntry
	reply chan *pb.RepOpReply
}

func (h *pgHandle) repReply(r *repOp, res pb.Result, msg string) {
	select {
	case r.reply <- &pb.RepOpReply{Result: res, Message: msg, OsdEpoch: h.o.Epoch(),
		LastUpdate: eversionPB(h.core.Info().LastUpdate)}:
	default:
	}
}

func eversionPB(v pg.Eversion) *pb.Eversion { return &pb.Eversion{Epoch: v.Epoch, Version: v.Version} }

// handleRepOp applies a primary's write on this replica, in log order: an
// entry that arrives ahead of its predecessor is parked until the
// predecessor is applied; a resend of an applied entry is answered once it
// is committed.
func (h *pgHandle) handleRepOp(r *repOp) {
	err := h.core.ApplyReplicated(r.req.GetIntervalStart(), r.entry)
	switch {
	case errors.Is(err, pg.ErrOutOfOrder):
		h.parked[r.entry.Version.Version] = r
		return
	case errors.Is(err, pg.ErrDuplicateEntry):
		h.answerWhenCommitted(r)
		return
	case err != nil:
		h.repReply(r, pb.Result_RESULT_STALE_EPOCH, err.Error())
		return
	}
	obj, ok := h.replicaObject(r)
	if !ok {
		return
	}
	h.core.TrimReplica(pg.Eversion{Epoch: r.req.GetTrimTo().GetEpoch(), Version: r.req.GetTrimTo().GetVersion()})
	t := h.writeTxn(r.entry, obj, r.req.GetTxn().GetOps(), txnMtime(r.req.GetTxn().GetOps()))
	rd := h.takeReady()
	addReady(t, h.coll, rd)
	v := r.entry.Version
	done := make(chan struct{})
	h.commits[v] = done
	h.submitAsync(t, func() {
		close(done)
		delete(h.commits, v)
		h.repReply(r, pb.Result_RESULT_OK, "")
	})
	h.effects(rd)
	if next := h.parked[v.Version+1]; next != nil {
		delete(h.parked, v.Version+1)
		h.handleRepOp(next)
	}
}

// replicaObject resolves the store id of a repop's object. The entry is
// already in the log, so a failure here means the primary and this OSD
// disagree about the pool: fatal for the PG's consistency.
func (h *pgHandle) replicaObject(r *repOp) (store.ObjectID, bool) {
	p := poolOf(h.o.Map(), h.id.Pool)
	if p == nil {
		h.o.fatal(h.id, fmt.Errorf("repop %s for pool %d that this OSD's map lacks", r.entry.Version, h.id.Pool))
		return store.ObjectID{}, false
	}
	return storeObject(p, r.req.GetTxn().GetObject()), true
}

func (h *pgHandle) answerWhenCommitted(r *repOp) {
	done := h.commits[r.entry.Version]
	if done == nil {
		h.repReply(r, pb.Result_RESULT_OK, "")
		return
	}
	go func() {
		<-done
		h.post(func() { h.repReply(r, pb.Result_RESULT_OK, "") })
	}()
}

// failParked refuses parked repops after an interval change: the primary
// of the old interval stops waiting for them.
func (h *pgHandle) failParked() {
	for v, r := range h.parked {
		h.repReply(r, pb.Result_RESULT_STALE_EPOCH, fmt.Sprintf("PG %s changed interval", h.id))
		delete(h.parked, v)
	}
}
