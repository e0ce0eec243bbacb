package osd

import (
	"context"
	"fmt"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/wire"
	"github.com/gorados/gorados/osd/objop"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// clientOp is one client op on its way through a PG.
type clientOp struct {
	ctx     context.Context
	req     *pb.OpRequest
	kind    objop.Kind
	obj     store.ObjectID
	key     string // obj as a map key
	reply   chan *pb.OpReply
	results []*pb.SubOpResult // a write's results, sent with its ack
	start   time.Time
	// admitted hands a read the shard admitted to the gRPC handler
	// waiting for it, which executes it on its own goroutine.
	admitted chan struct{}
}

func (op *clientOp) send(r *pb.OpReply) {
	select {
	case op.reply <- r:
	default: // already answered
	}
}

// objState tracks the ops running on one object: writes are exclusive, so
// that each write is planned against the committed result of the previous
// one and no read sees a write before every replica has it.
type objState struct {
	writer  bool
	readers int
	queue   []*clientOp
}

func (s *objState) admits(k objop.Kind) bool {
	if k == objop.KindWrite {
		return !s.writer && s.readers == 0
	}
	return !s.writer
}

func (h *pgHandle) reply(op *clientOp, r pb.Result, msg string) {
	op.send(&pb.OpReply{Result: r, Message: msg, OsdEpoch: h.o.Epoch()})
}

// handleOp is the entry of a client op on the PG's shard.
func (h *pgHandle) handleOp(op *clientOp) {
	if !h.admit(op) {
		return
	}
	if op.kind == objop.KindWrite && h.answerDup(op) {
		return
	}
	st := h.objects[op.key]
	if st == nil {
		st = &objState{}
		h.objects[op.key] = st
	}
	if len(st.queue) > 0 || !st.admits(op.kind) {
		st.queue = append(st.queue, op)
		return
	}
	h.startOp(op, st)
}

// admit checks that the PG serves client I/O and that the client's map is
// recent enough for this PG.
func (h *pgHandle) admit(op *clientOp) bool {
	if op.ctx.Err() != nil {
		return false
	}
	if s := h.core.State(); s != pg.StateActive || !h.core.IsPrimary() {
		if !h.core.IsPrimary() && s != pg.StatePeering {
			h.reply(op, pb.Result_RESULT_NOT_PRIMARY, fmt.Sprintf("osd.%d is not the primary of PG %s: refresh the map and resend", h.o.cfg.ID, h.id))
		} else {
			h.reply(op, pb.Result_RESULT_AGAIN, fmt.Sprintf("PG %s is %s, not active yet: retry shortly", h.id, s))
		}
		return false
	}
	if since := h.core.Info().History.SamePrimarySince; op.req.GetEpoch() < since {
		h.reply(op, pb.Result_RESULT_STALE_EPOCH, fmt.Sprintf("the client's map e%d predates PG %s's primary change at e%d: refresh the map and resend",
			op.req.GetEpoch(), h.id, since))
		return false
	}
	return true
}

// answerDup answers a resent write from the log or the dup list, or parks
// it until the original (still in flight) is acked.
func (h *pgHandle) answerDup(op *clientOp) bool {
	d, inflight, found := h.core.Lookup(reqID(op.req.GetReqid()))
	switch {
	case !found:
		return false
	case inflight:
		h.dupWait[d.ReqID] = append(h.dupWait[d.ReqID], op)
	default:
		h.afterCommitted(func() { h.replyDup(op, d) })
	}
	return true
}

func (h *pgHandle) replyDup(op *clientOp, d pg.Dup) {
	op.send(&pb.OpReply{Result: pb.Result_RESULT_OK, OsdEpoch: h.o.Epoch(), Duplicate: true,
		Version: &pb.Eversion{Epoch: d.Version.Epoch, Version: d.Version.Version}, UserVersion: d.UserVersion,
		Results: okResults(len(op.req.GetOps()))})
	h.o.cfg.Metrics.opDone(op, true)
}

func okResults(n int) []*pb.SubOpResult {
	out := make([]*pb.SubOpResult, n)
	for i := range out {
		out[i] = &pb.SubOpResult{}
	}
	return out
}

func reqID(r *pb.ReqID) pg.ReqID {
	return pg.ReqID{Client: r.GetClientId(), Incarnation: r.GetIncarnation(), Tid: r.GetTid()}
}

func (h *pgHandle) startOp(op *clientOp, st *objState) {
	if op.kind == objop.KindRead {
		st.readers++
		// The handler goroutine runs the read if it is waiting: no new
		// goroutine (and stack to grow) per read. If it is not there yet
		// or has given up, a goroutine runs it instead.
		select {
		case op.admitted <- struct{}{}:
		default:
			go func() { op.send(h.read(op)) }()
		}
		return
	}
	if !h.execWrite(op) {
		h.release(op.key)
		return
	}
	st.writer = true
}

// read executes a read op off the shard (reads of different objects of a
// PG run in parallel), releases the object on the shard and returns the
// reply. All sub-ops read one snapshot of the store.
func (h *pgHandle) read(op *clientOp) *pb.OpReply {
	r := &objectReader{ctx: op.ctx, st: h.o.st, c: h.coll, o: op.obj}
	results, f := objop.Execute(r, op.req.GetOps(), h.o.cfg.Limits)
	op.results = results
	reply := &pb.OpReply{OsdEpoch: h.o.Epoch(), Results: results}
	if f != nil {
		reply.Result, reply.Message = f.Result, f.Message
	} else if oi, err := r.info(); err == nil {
		reply.Version = &pb.Eversion{Epoch: uint64(oi.Version.Epoch), Version: oi.Version.Version}
		reply.UserVersion = oi.UserVersion
	}
	r.close()
	h.o.cfg.Metrics.opDone(op, f == nil)
	h.post(func() {
		if st := h.objects[op.key]; st != nil {
			st.readers--
		}
		h.release(op.key)
	})
	return reply
}

// release starts the queued ops the object now admits and forgets idle
// objects.
func (h *pgHandle) release(key string) {
	st := h.objects[key]
	if st == nil {
		return
	}
	for len(st.queue) > 0 && st.admits(st.queue[0].kind) {
		op := st.queue[0]
		st.queue = st.queue[1:]
		if !h.admit(op) || (op.kind == objop.KindWrite && h.answerDup(op)) {
			continue
		}
		h.startOp(op, st)
	}
	if !st.writer && st.readers == 0 && len(st.queue) == 0 {
		delete(h.objects, key)
	}
}

// execWrite plans a write, versions it, persists it locally and sends it
// to the replicas in parallel. It returns false when the op was answered
// at once (rejected) and holds nothing.
func (h *pgHandle) execWrite(op *clientOp) bool {
	if h.refuseIfFull(op) {
		return false
	}
	now := time.Now()
	r := &objectReader{ctx: h.o.ctx, st: h.o.st, c: h.coll, o: op.obj}
	defer r.close()
	plan, f := objop.PlanWrite(r, op.req.GetOps(), h.o.cfg.Limits, now.UnixNano())
	if f != nil {
		var results []*pb.SubOpResult
		if plan != nil {
			results = plan.Results
		}
		op.send(&pb.OpReply{Result: f.Result, Message: f.Message, OsdEpoch: h.o.Epoch(), Results: results})
		h.o.cfg.Metrics.opDone(op, false)
		return false
	}
	prior, err := r.info()
	if err != nil && err != objop.ErrNoObject {
		h.reply(op, pb.Result_RESULT_IO_ERROR, fmt.Sprintf("reading the object's version: %v", err))
		return false
	}
	entry, err := h.core.PrepareWrite(pg.Write{ReqID: reqID(op.req.GetReqid()), Object: pgObject(op.obj),
		Op: plan.LogOp, PriorVersion: fromStoreVersion(prior.Version), MtimeUnixNano: now.UnixNano()})
	if err != nil {
		h.reply(op, pb.Result_RESULT_AGAIN, err.Error())
		return false
	}
	op.results = plan.Results
	h.waiting[entry.Version] = op
	t := h.writeTxn(entry, op.obj, plan.Txn, now)
	t.CacheData() // the primary serves the reads that may follow
	rd := h.takeReady()
	addReady(t, h.coll, rd)
	v := entry.Version
	h.submitAsync(t, func() { h.step(pg.CommitEvent{From: h.o.cfg.ID, Version: v}) })
	h.sendRepOps(entry, op.req.GetObject(), plan.Txn)
	h.effects(rd)
	return true
}

// writeTxn builds the store transaction of a write: the object changes,
// the object's new version, and the log entry.
func (h *pgHandle) writeTxn(e pg.LogEntry, obj store.ObjectID, ops []*pb.TxOp, mtime time.Time) *store.Txn {
	t := newTxn()
	if !mtime.IsZero() {
		t.SetMtime(mtime)
	}
	addTxOps(t, h.coll, obj, ops)
	if e.Op != pg.OpDelete {
		t.SetVersion(h.coll, obj, toStoreVersion(e.Version), e.UserVersion)
	}
	t.AppendLog(h.coll, toStoreVersion(e.Version), pg.EncodeEntry(e))
	return t
}

// acked answers a write that every acting member committed, and any
// resend of it.
func (h *pgHandle) acked(e pg.LogEntry) {
	d := pg.Dup{ReqID: e.ReqID, Version: e.Version, UserVersion: e.UserVersion, ReturnCode: e.ReturnCode}
	if op := h.waiting[e.Version]; op != nil {
		delete(h.waiting, e.Version)
		op.send(&pb.OpReply{Result: pb.Result_RESULT_OK, OsdEpoch: h.o.Epoch(), Results: op.results,
			Version: &pb.Eversion{Epoch: e.Version.Epoch, Version: e.Version.Version}, UserVersion: e.UserVersion})
		h.o.cfg.Metrics.opDone(op, true)
		h.finishWrite(op.key)
	}
	for _, op := range h.dupWait[e.ReqID] {
		h.replyDup(op, d)
	}
	delete(h.dupWait, e.ReqID)
}

// dropped answers a write abandoned by an interval change: the client
// resends it, and the dup index answers the resend if it did apply.
func (h *pgHandle) dropped(e pg.LogEntry) {
	msg := fmt.Sprintf("PG %s changed interval before the write was committed everywhere: resend it", h.id)
	if op := h.waiting[e.Version]; op != nil {
		delete(h.waiting, e.Version)
		h.reply(op, pb.Result_RESULT_AGAIN, msg)
		h.finishWrite(op.key)
	}
	for _, op := range h.dupWait[e.ReqID] {
		h.reply(op, pb.Result_RESULT_AGAIN, msg)
	}
	delete(h.dupWait, e.ReqID)
}

func (h *pgHandle) finishWrite(key string) {
	if st := h.objects[key]; st != nil {
		st.writer = false
	}
	h.release(key)
}

// sendRepOps ships a write to every other acting member, each in its own
// goroutine, retrying until the replica commits or the interval changes.
func (h *pgHandle) sendRepOps(e pg.LogEntry, loc *pb.ObjectLocator, ops []*pb.TxOp) {
	m := h.core.Mapping()
	trim := h.core.TrimPoint()
	req := &pb.RepOpRequest{
		Fsid: h.o.cfg.FSID.String(), FromOsd: h.o.cfg.ID, Epoch: m.Epoch, Pool: h.id.Pool, PgSeed: h.id.Seed,
		IntervalStart: h.core.Info().History.SameIntervalSince, LogEntry: pg.EncodeEntry(e),
		Txn:    &pb.Transaction{Object: loc, Ops: ops},
		TrimTo: &pb.Eversion{Epoch: trim.Epoch, Version: trim.Version},
	}
	// Encoded once for every replica; the data is not copied.
	enc, err := wire.Encode(req)
	if err != nil {
		h.o.fatal(h.id, fmt.Errorf("encode repop %s: %w", e.Version, err))
		return
	}
	for _, osd := range m.Acting {
		if osd != h.o.cfg.ID && osd >= 0 && osd != crushItemNone {
			go h.o.peers.repOp(h, osd, req, enc, e.Version)
		}
	}
}

// crushItemNone marks a hole in an acting set.
const crushItemNone = 0x7fffffff

// poolOf returns the pool of id in map m.
func poolOf(m *cluster.OSDMap, id int64) *cluster.Pool {
	if m == nil {
		return nil
	}
	return m.Pools[id]
}
