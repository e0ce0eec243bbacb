package osd

import (
	"log/slog"
	"sync/atomic"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// pgHandle runs one PG's core on its shard and executes its Ready: it is
// the I/O shell around package pg. Every field except the atomics is only
// touched on the shard.
type pgHandle struct {
	o    *OSD
	id   cluster.PGID
	coll store.CollID
	sh   *shard
	core *pg.PG
	log  *slog.Logger

	// Primary side.
	objects map[string]*objState      // objects with ops running or queued
	waiting map[pg.Eversion]*clientOp // writes in flight, by version
	dupWait map[pg.ReqID][]*clientOp  // resends of in-flight writes

	// Replica side.
	parked  map[uint64]*repOp             // repops ahead of the log head, by version counter
	commits map[pg.Eversion]chan struct{} // local commits in flight

	// submitted and committed count the PG's store transactions (submission
	// order is commit order); deferred actions wait for a count.
	submitted, committed uint64
	deferred             []deferredAction

	// interval is same_interval_since, read off the shard by repop senders
	// to stop retrying for an old interval.
	interval atomic.Uint64
	state    atomic.Uint32 // pg.State, for metrics and status
	mapEpoch atomic.Uint64 // epoch of the newest map the PG processed
}

func newPGHandle(o *OSD, id cluster.PGID, core *pg.PG) *pgHandle {
	h := &pgHandle{o: o, id: id, coll: collOf(id), sh: o.shardOf(id), core: core,
		log: o.log.With("pg", id.String()), objects: map[string]*objState{},
		waiting: map[pg.Eversion]*clientOp{}, dupWait: map[pg.ReqID][]*clientOp{},
		parked: map[uint64]*repOp{}, commits: map[pg.Eversion]chan struct{}{}}
	h.interval.Store(core.Info().History.SameIntervalSince)
	h.state.Store(uint32(core.State()))
	o.cfg.Metrics.pgStateChange(pg.StateInitial, pg.StateInitial, true)
	return h
}

// post runs f on the PG's shard.
func (h *pgHandle) post(f func()) { h.sh.post(f) }

// postMap queues a new mapping for the PG.
func (h *pgHandle) postMap(m pg.Mapping) {
	h.post(func() {
		h.step(pg.MapEvent{Mapping: m})
		h.mapEpoch.Store(m.Epoch)
	})
}

func (h *pgHandle) tick() {
	h.core.Tick()
	h.afterStep()
}

// step feeds one event to the core and executes its effects.
func (h *pgHandle) step(ev pg.Event) {
	if err := h.core.Step(ev); err != nil {
		h.log.Error("PG event refused", "err", err)
	}
	h.afterStep()
}

// afterStep persists what the core changed (in a transaction of its own)
// and executes the other effects.
func (h *pgHandle) afterStep() {
	r := h.takeReady()
	if needsPersist(r) {
		t := newTxn()
		addReady(t, h.coll, r)
		h.submitAsync(t, nil)
	}
	h.effects(r)
}

// takeReady returns and clears the core's pending effects.
func (h *pgHandle) takeReady() pg.Ready {
	if !h.core.HasReady() {
		return pg.Ready{}
	}
	r := h.core.Ready()
	h.core.Advance()
	return r
}

func needsPersist(r pg.Ready) bool { return r.Info != nil || r.Interval != nil || len(r.Trimmed) > 0 }

// submitAsync submits t in order with the PG's other transactions and runs
// then (on the shard) after the commit. A failed commit is fatal: the PG's
// in-memory log already moved past the store.
func (h *pgHandle) submitAsync(t *store.Txn, then func()) {
	p, err := h.o.st.Submit(h.o.ctx, t)
	if err != nil {
		h.o.fatal(h.id, err)
		return
	}
	h.submitted++
	seq := h.submitted
	go func() {
		if err := p.Wait(h.o.ctx); err != nil {
			if h.o.ctx.Err() == nil {
				h.o.fatal(h.id, err)
			}
			return
		}
		h.post(func() {
			// The store commits in submission order: seq committed means
			// every earlier transaction of the PG is committed too.
			h.committed = max(h.committed, seq)
			if then != nil {
				then()
			}
			h.runDeferred()
		})
	}()
}

// afterCommitted runs f once every transaction the PG submitted so far is
// committed. Anything that reports the PG's state to others (peering
// messages, answers to resent writes, recovery pushes) goes through it:
// the core's info and log run ahead of the store, and a peer or a client
// must never learn of an entry that a crash could still take back.
func (h *pgHandle) afterCommitted(f func()) {
	if h.committed >= h.submitted {
		f()
		return
	}
	h.deferred = append(h.deferred, deferredAction{seq: h.submitted, f: f})
}

type deferredAction struct {
	seq uint64
	f   func()
}

func (h *pgHandle) runDeferred() {
	n := 0
	for n < len(h.deferred) && h.deferred[n].seq <= h.committed {
		h.deferred[n].f()
		n++
	}
	h.deferred = h.deferred[n:]
}

// effects executes the non-persistent part of a Ready.
func (h *pgHandle) effects(r pg.Ready) {
	for _, c := range r.StateChanges {
		h.log.Info("PG state", "from", c.From.String(), "to", c.To.String(), "reason", c.Reason)
		h.o.cfg.Metrics.pgStateChange(c.From, c.To, false)
		h.state.Store(uint32(c.To))
	}
	if len(r.StateChanges) > 0 {
		h.interval.Store(h.core.Info().History.SameIntervalSince)
		h.failParked()
	}
	for _, e := range r.Acked {
		h.acked(e)
	}
	for _, e := range r.Dropped {
		h.dropped(e)
	}
	if len(r.Messages) > 0 || len(r.Syncs) > 0 {
		h.afterCommitted(func() { h.sendEffects(r) })
	}
}

// sendEffects sends a Ready's messages and starts its sync plans, once the
// state they describe is committed.
func (h *pgHandle) sendEffects(r pg.Ready) {
	for _, m := range r.Messages {
		h.o.peers.sendPeering(h.id, m)
	}
	for _, plan := range r.Syncs {
		if plan.OSD == h.o.cfg.ID {
			go h.pullAndApply(plan)
		} else {
			go h.pushSync(plan)
		}
	}
}

// peeringEvent turns a received peering message into a core event.
func (h *pgHandle) peeringEvent(msg *pb.PeeringMessage) {
	from, qe := msg.GetFromOsd(), msg.GetQueryEpoch()
	switch x := msg.GetMsg().(type) {
	case *pb.PeeringMessage_Query:
		h.step(pg.QueryEvent{From: from, QueryEpoch: qe, Log: x.Query.GetKind() == pb.PGQuery_LOG})
	case *pb.PeeringMessage_Notify:
		if info, ok := h.decodeInfo(x.Notify.GetInfo()); ok {
			h.step(pg.NotifyEvent{From: from, QueryEpoch: qe, Info: info})
		}
	case *pb.PeeringMessage_Activate:
		if info, ok := h.decodeInfo(x.Activate.GetInfo()); ok {
			h.step(pg.ActivateEvent{From: from, QueryEpoch: qe, Info: info})
		}
	case *pb.PeeringMessage_Activated:
		h.step(pg.ActivatedEvent{From: from, QueryEpoch: qe})
	case *pb.PeeringMessage_Log:
		h.logEvent(from, qe, x.Log)
	}
}

func (h *pgHandle) logEvent(from int32, qe uint64, l *pb.PGLog) {
	info, ok := h.decodeInfo(l.GetInfo())
	entries, err := decodeEntries(l.GetEntries())
	if err == nil && ok {
		var dups []pg.Dup
		if dups, err = decodeDups(l.GetDups()); err == nil {
			tail := pg.Eversion{Epoch: l.GetTail().GetEpoch(), Version: l.GetTail().GetVersion()}
			h.step(pg.LogEvent{From: from, QueryEpoch: qe, Info: info, Tail: tail, Entries: entries, Dups: dups})
			return
		}
	}
	if err != nil {
		h.log.Warn("dropping a PG log with a bad entry", "from", from, "err", err)
	}
}

func decodeDups(raw [][]byte) ([]pg.Dup, error) {
	out := make([]pg.Dup, len(raw))
	for i, b := range raw {
		d, err := pg.DecodeDup(b)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func encodeDups(ds []pg.Dup) [][]byte {
	out := make([][]byte, len(ds))
	for i, d := range ds {
		out[i] = pg.EncodeDup(d)
	}
	return out
}

func decodeEntries(raw [][]byte) ([]pg.LogEntry, error) {
	out := make([]pg.LogEntry, len(raw))
	for i, b := range raw {
		e, err := pg.DecodeEntry(b)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func encodeEntries(es []pg.LogEntry) [][]byte {
	out := make([][]byte, len(es))
	for i, e := range es {
		out[i] = pg.EncodeEntry(e)
	}
	return out
}

func (h *pgHandle) decodeInfo(b []byte) (pg.Info, bool) {
	info, err := pg.DecodeInfo(b)
	if err != nil {
		h.log.Warn("dropping peering message with a bad info", "err", err)
		return pg.Info{}, false
	}
	return info, true
}
