package pg

import (
	"fmt"
	"slices"
	"sort"
)

// This file is the log-based recovery of this release: when the acting
// members' infos disagree (a write reached some members before a crash or
// an interval change), the primary picks the authoritative log (§4.1 of
// the peering spec, replicated flavour: newest activation, then newest
// head, then itself), fetches the logs it needs, and has every member drop
// its divergent entries, append the missing ones and copy the objects they
// touch, before it activates. Members whose logs do not overlap the
// authority's need a backfill, which is the next release's job: the PG
// then waits.

// recoveryRound is the state of one recovery in StateRecovering.
type recoveryRound struct {
	authority   int32
	infos       map[int32]Info
	logs        map[int32]*Log
	waitingLogs map[int32]bool
	selfPending bool
	plans       []SyncPlan // the replicas', sent once the primary is synced
	waitingSync map[int32]bool
}

// chooseAuthority returns the member whose log is authoritative: among
// the members with the newest local activation epoch (an older one may
// hold writes a later interval never saw), the newest head; ties go to
// self, then to the lowest id.
func chooseAuthority(self int32, infos map[int32]Info) int32 {
	var maxLES uint64
	for _, in := range infos {
		maxLES = max(maxLES, in.LastEpochStarted)
	}
	best := int32(-1)
	for _, o := range sortedIDs(infos) {
		in := infos[o]
		if in.LastEpochStarted < maxLES {
			continue
		}
		if best < 0 || infos[best].LastUpdate.Less(in.LastUpdate) ||
			(in.LastUpdate == infos[best].LastUpdate && o == self) {
			best = o
		}
	}
	return best
}

func sortedIDs[V any](m map[int32]V) []int32 {
	ids := make([]int32, 0, len(m))
	for o := range m {
		ids = append(ids, o)
	}
	slices.Sort(ids)
	return ids
}

// startRecovery begins a recovery round: it picks the authority and asks
// for the logs it needs (the authority's, and those of members whose head
// differs from it).
func (p *PG) startRecovery(why string) {
	infos := map[int32]Info{p.cfg.Whoami: p.info}
	for _, o := range p.mapping.members() {
		if in, ok := p.peers[o]; ok {
			infos[o] = in
		}
	}
	auth := chooseAuthority(p.cfg.Whoami, infos)
	r := &recoveryRound{authority: auth, infos: infos, logs: map[int32]*Log{p.cfg.Whoami: p.log},
		waitingLogs: map[int32]bool{}, waitingSync: map[int32]bool{}}
	for _, o := range sortedIDs(infos) {
		if o != p.cfg.Whoami && (o == auth || infos[o].LastUpdate != infos[auth].LastUpdate) {
			r.waitingLogs[o] = true
		}
	}
	p.rec = r
	p.setState(StateRecovering, fmt.Sprintf("%s; authority osd.%d at %s", why, auth, infos[auth].LastUpdate))
	p.sendLogQueries()
	p.maybePlan()
}

func (p *PG) sendLogQueries() {
	if p.rec == nil {
		return
	}
	for _, o := range sortedIDs(p.rec.waitingLogs) {
		p.send(Message{To: o, Type: MsgLogQuery, QueryEpoch: p.info.History.SameIntervalSince})
	}
}

func (p *PG) handleLog(ev LogEvent) {
	r := p.rec
	if r == nil || !p.IsPrimary() || ev.QueryEpoch != p.info.History.SameIntervalSince || !r.waitingLogs[ev.From] {
		return
	}
	l, err := RestoreLog(ev.Tail, ev.Entries, ev.Dups)
	if err != nil || l.Head() != ev.Info.LastUpdate {
		p.waitFor(fmt.Sprintf("osd.%d sent an inconsistent log (%v)", ev.From, err))
		return
	}
	delete(r.waitingLogs, ev.From)
	r.logs[ev.From] = l
	p.maybePlan()
}

func (p *PG) waitFor(why string) {
	p.rec = nil
	p.setState(StateWaiting, why)
}

// maybePlan computes every member's sync plan once all logs are in, and
// emits the primary's own first if it has one.
func (p *PG) maybePlan() {
	r := p.rec
	if len(r.waitingLogs) > 0 {
		return
	}
	authLog := r.logs[r.authority]
	var self *SyncPlan
	for _, o := range sortedIDs(r.infos) {
		if r.infos[o].LastUpdate == r.infos[r.authority].LastUpdate {
			continue
		}
		plan, ok := planSync(o, r.logs[o], authLog)
		if !ok {
			// The logs do not overlap: backfill the whole PG.
			plan = SyncPlan{OSD: o, Backfill: true, Tail: authLog.Tail(), Entries: authLog.Entries(), Dups: authLog.Dups()}
		}
		plan.QueryEpoch = p.info.History.SameIntervalSince
		if o == p.cfg.Whoami {
			plan.Source = r.authority
			self = &plan
		} else {
			plan.Source = p.cfg.Whoami
			r.plans = append(r.plans, plan)
		}
	}
	if self != nil {
		r.selfPending = true
		p.ready.Syncs = append(p.ready.Syncs, *self)
		return
	}
	p.emitReplicaPlans()
}

// planSync computes what member o must do so that its log m matches the
// authoritative log a: the newest entry both hold is the common point;
// o's entries after it are divergent, a's are missing on o; every object
// either touches is copied. ok is false when the logs do not overlap.
func planSync(o int32, m, a *Log) (SyncPlan, bool) {
	c, ok := commonPoint(m, a)
	if !ok {
		return SyncPlan{}, false
	}
	plan := SyncPlan{OSD: o, RewindTo: c, Entries: a.after(c)}
	seen := map[ObjectID]bool{}
	for _, e := range append(m.after(c), plan.Entries...) {
		if !seen[e.Object] {
			seen[e.Object] = true
			plan.Objects = append(plan.Objects, e.Object)
		}
	}
	sort.Slice(plan.Objects, func(i, j int) bool { return plan.Objects[i].String() < plan.Objects[j].String() })
	return plan, true
}

// commonPoint returns the newest version present in both logs (an entry of
// m also in a, else m's tail when a holds it).
func commonPoint(m, a *Log) (Eversion, bool) {
	for i := len(m.entries) - 1; i >= 0; i-- {
		if v := m.entries[i].Version; a.has(v) {
			return v, true
		}
	}
	if a.has(m.Tail()) {
		return m.Tail(), true
	}
	return Eversion{}, false
}

// emitReplicaPlans sends the replicas their plans (the primary now holds
// the authoritative history), or activates when there are none.
func (p *PG) emitReplicaPlans() {
	r := p.rec
	for _, plan := range r.plans {
		r.waitingSync[plan.OSD] = true
		p.ready.Syncs = append(p.ready.Syncs, plan)
	}
	r.plans = nil
	if len(r.waitingSync) == 0 {
		p.rec = nil
		p.activate(len(p.mapping.members()))
	}
}

func (p *PG) handleSynced(ev SyncedEvent) {
	r := p.rec
	if r == nil || ev.QueryEpoch != p.info.History.SameIntervalSince {
		return
	}
	if ev.From == p.cfg.Whoami && r.selfPending {
		r.selfPending = false
		p.emitReplicaPlans()
		return
	}
	if r.waitingSync[ev.From] {
		delete(r.waitingSync, ev.From)
		if len(r.waitingSync) == 0 {
			p.rec = nil
			p.activate(len(p.mapping.members()))
		}
	}
}

// ApplySync applies a sync plan to this OSD's log and info: on the primary
// for its own plan (once the objects are fetched), on a replica for a plan
// the primary pushed. The daemon writes the returned info, the log changes
// and the objects in one store transaction, then reports SyncedEvent (the
// primary to itself; a replica by answering the push).
func (p *PG) ApplySync(plan SyncPlan) error {
	own := p.rec != nil && p.rec.selfPending && plan.OSD == p.cfg.Whoami
	replica := p.state == StateReplica && plan.OSD == p.cfg.Whoami
	if !(own || replica) || plan.QueryEpoch != p.info.History.SameIntervalSince {
		return fmt.Errorf("pg %s (%s since %d) refuses a sync plan of round %d: %w",
			p.cfg.PG, p.state, p.info.History.SameIntervalSince, plan.QueryEpoch, ErrWrongInterval)
	}
	if plan.Backfill {
		return p.applyBackfill(plan)
	}
	if _, err := p.log.RewindTo(plan.RewindTo); err != nil {
		return fmt.Errorf("pg %s: %w", p.cfg.PG, err)
	}
	p.info.LastUpdate, p.info.LastComplete = p.log.Head(), p.log.Head()
	for _, e := range plan.Entries {
		if err := p.appendEntry(e); err != nil {
			return err
		}
	}
	p.persistInfo()
	return nil
}

// applyBackfill replaces the whole log by the authority's (the request ids
// of this OSD's trimmed entries stay in the dup list).
func (p *PG) applyBackfill(plan SyncPlan) error {
	l, err := RestoreLog(plan.Tail, plan.Entries, mergeDups(p.log.Dups(), plan.Dups, p.cfg.Limits.DupsTracked))
	if err != nil {
		return fmt.Errorf("pg %s: backfill log: %w", p.cfg.PG, err)
	}
	p.log = l
	p.info.LogTail = l.Tail()
	p.info.LastUpdate, p.info.LastComplete = l.Head(), l.Head()
	p.persistInfo()
	return nil
}

// mergeDups returns the union of two dup lists by request id, oldest
// first, bounded to the newest max.
func mergeDups(a, b []Dup, max int) []Dup {
	seen := map[ReqID]bool{}
	var out []Dup
	for _, d := range append(append([]Dup(nil), a...), b...) {
		if !seen[d.ReqID] {
			seen[d.ReqID] = true
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version.Less(out[j].Version) })
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return out
}
