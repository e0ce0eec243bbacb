package pg

import (
	"fmt"
	"slices"

	"github.com/gorados/gorados/cluster"
)

// Config is the static configuration of one PG on one OSD.
type Config struct {
	// Whoami is this OSD's id.
	Whoami int32
	PG     cluster.PGID
	Limits LogLimits
	// QueryRetryTicks is how many ticks a primary waits for missing infos
	// before it asks again (a peer may have lacked the map when the first
	// query came).
	QueryRetryTicks int
}

// inflightWrite is a write the primary submitted and not yet acknowledged.
type inflightWrite struct {
	entry   LogEntry
	waiting map[int32]bool
}

// PG is the state machine of one placement group on one OSD. It is not safe
// for concurrent use: the daemon serializes all calls for a PG.
type PG struct {
	cfg     Config
	state   State
	mapping Mapping
	hasMap  bool
	// restored is set when mapping was restored from the store and no map
	// has been processed since (see RestoreMapping).
	restored bool
	info     Info
	log      *Log
	// peers holds the infos heard in the current peering round.
	peers        map[int32]Info
	ticksWaiting int
	// rec is the recovery round in progress (StateRecovering).
	rec *recoveryRound
	// activating holds the replicas that have not yet persisted the
	// activation (StateActivating).
	activating map[int32]bool
	inflight   []*inflightWrite
	// committed is the newest version committed on every acting member.
	committed Eversion
	ready     Ready
}

// New returns a PG with the info and log loaded from the store (a zero Info
// and NewLog(Eversion{}) for a new PG). It starts in StateInitial until the
// first MapEvent.
func New(cfg Config, info Info, log *Log) (*PG, error) {
	if err := cfg.Limits.Validate(); err != nil {
		return nil, err
	}
	if cfg.QueryRetryTicks < 1 {
		return nil, fmt.Errorf("%w: QueryRetryTicks %d must be at least 1", ErrBadEntry, cfg.QueryRetryTicks)
	}
	if log.Head() != info.LastUpdate {
		return nil, fmt.Errorf("%w: log head %s differs from info last_update %s", ErrCorrupt, log.Head(), info.LastUpdate)
	}
	info.PG = cfg.PG
	return &PG{cfg: cfg, info: info, log: log, committed: info.LastUpdate, peers: map[int32]Info{}}, nil
}

// State returns the current state.
func (p *PG) State() State { return p.state }

// Info returns a copy of this OSD's PG info.
func (p *PG) Info() Info { return p.info }

// Log returns the PG log. Callers must not modify it.
func (p *PG) Log() *Log { return p.log }

// Mapping returns the mapping of the newest map processed.
func (p *PG) Mapping() Mapping { return p.mapping }

// IsPrimary reports whether this OSD is the acting primary.
func (p *PG) IsPrimary() bool { return p.hasMap && p.mapping.ActingPrimary == p.cfg.Whoami }

// TrimPoint returns the version the log was last trimmed to, which the
// primary passes to replicas so they trim in step.
func (p *PG) TrimPoint() Eversion { return p.log.Tail() }

// HasReady reports whether Ready has something to do.
func (p *PG) HasReady() bool { return !p.ready.IsEmpty() }

// Ready returns the pending effects; call Advance once they are executed.
func (p *PG) Ready() Ready { return p.ready }

// Advance clears the effects returned by Ready.
func (p *PG) Advance() { p.ready = Ready{} }

// Step feeds one event to the state machine.
func (p *PG) Step(ev Event) error {
	switch ev := ev.(type) {
	case MapEvent:
		p.handleMap(ev.Mapping)
	case QueryEvent:
		p.handleQuery(ev)
	case NotifyEvent:
		p.handleNotify(ev)
	case CommitEvent:
		p.handleCommit(ev)
	case ActivateEvent:
		p.handleActivate(ev)
	case ActivatedEvent:
		p.handleActivated(ev)
	case LogEvent:
		p.handleLog(ev)
	case SyncedEvent:
		p.handleSynced(ev)
	default:
		return fmt.Errorf("pg %s: unknown event %T", p.cfg.PG, ev)
	}
	return nil
}

// Tick advances logical time: a primary still peering re-sends its queries
// every QueryRetryTicks ticks.
func (p *PG) Tick() {
	if p.state != StatePeering && p.state != StateRecovering && p.state != StateActivating {
		return
	}
	p.ticksWaiting++
	if p.ticksWaiting < p.cfg.QueryRetryTicks {
		return
	}
	p.ticksWaiting = 0
	switch p.state {
	case StatePeering:
		p.sendQueries()
	case StateRecovering:
		p.sendLogQueries()
	default:
		p.sendActivates()
	}
}

func (p *PG) setState(to State, reason string) {
	if to == p.state {
		return
	}
	p.ready.StateChanges = append(p.ready.StateChanges, StateChange{From: p.state, To: to, Reason: reason})
	p.state = to
}

func (p *PG) persistInfo() {
	info := p.info
	p.ready.Info = &info
}

// RestoreMapping gives a PG loaded from the store the mapping of the
// interval it was in (persisted from Ready.Interval). If the first map
// after a restart still has that mapping, the PG keeps its interval, as
// its peers do (they saw no change), and only restarts peering.
func (p *PG) RestoreMapping(m Mapping) {
	if !p.hasMap {
		p.mapping, p.restored = m, true
	}
}

func (p *PG) handleMap(m Mapping) {
	if p.hasMap && p.mapping.sameInterval(m) {
		p.mapping.Epoch = m.Epoch
		return
	}
	if p.restored && p.mapping.sameInterval(m) && p.info.History.SameIntervalSince != 0 {
		p.mapping, p.hasMap, p.restored = m, true, false
		p.takeRole(fmt.Sprintf("restarted within the interval since e%d", p.info.History.SameIntervalSince))
		return
	}
	prev, had := p.mapping, p.hasMap
	p.mapping, p.hasMap, p.restored = m, true, false
	p.startInterval(prev, had)
}

// startInterval applies §2 of the peering spec for this release: record the
// new interval, forget the peering round, drop in-flight writes, and take the
// role the new mapping gives this OSD.
func (p *PG) startInterval(prev Mapping, had bool) {
	m := p.mapping
	h := &p.info.History
	if h.EpochCreated == 0 {
		h.EpochCreated = m.Epoch
	}
	h.SameIntervalSince = m.Epoch
	if !had || !slices.Equal(prev.Up, m.Up) || prev.UpPrimary != m.UpPrimary {
		h.SameUpSince = m.Epoch
	}
	if !had || prev.ActingPrimary != m.ActingPrimary {
		h.SamePrimarySince = m.Epoch
	}
	interval := m
	p.ready.Interval = &interval
	p.takeRole("new interval " + m.String())
}

// takeRole forgets the peering round and the writes in flight and takes the
// role the mapping gives this OSD in the current interval.
func (p *PG) takeRole(reason string) {
	m := p.mapping
	p.dropInflight()
	p.peers = map[int32]Info{}
	p.rec = nil
	p.activating = nil
	p.ticksWaiting = 0
	p.persistInfo()
	switch {
	case m.ActingPrimary == p.cfg.Whoami:
		p.setState(StatePeering, reason)
		p.sendQueries()
		p.evaluatePeers()
	case slices.Contains(m.members(), p.cfg.Whoami):
		p.setState(StateReplica, reason)
		p.send(Message{To: m.ActingPrimary, Type: MsgNotify, QueryEpoch: p.info.History.SameIntervalSince, Info: p.info})
	default:
		p.setState(StateStray, reason)
	}
}

// dropInflight abandons unacknowledged writes: they stay in the log (the
// full peering protocol decides whether they survive), but their clients
// are told to resend, and the dup index will answer the resend.
func (p *PG) dropInflight() {
	for _, w := range p.inflight {
		p.ready.Dropped = append(p.ready.Dropped, w.entry)
	}
	p.inflight = nil
}

func (p *PG) send(m Message) {
	m.Epoch = p.mapping.Epoch
	p.ready.Messages = append(p.ready.Messages, m)
}

// sendQueries asks every acting member not heard from yet for its info.
func (p *PG) sendQueries() {
	for _, o := range p.mapping.members() {
		if _, heard := p.peers[o]; o != p.cfg.Whoami && !heard {
			p.send(Message{To: o, Type: MsgQuery, QueryEpoch: p.info.History.SameIntervalSince})
		}
	}
}

func (p *PG) handleQuery(q QueryEvent) {
	if !p.hasMap || q.QueryEpoch < p.info.History.SameIntervalSince {
		return // a query of an older round: the sender will ask again
	}
	if q.Log {
		p.send(Message{To: q.From, Type: MsgLog, QueryEpoch: q.QueryEpoch, Info: p.info,
			Tail: p.log.Tail(), Entries: p.log.Entries(), Dups: p.log.Dups()})
		return
	}
	p.send(Message{To: q.From, Type: MsgNotify, QueryEpoch: q.QueryEpoch, Info: p.info})
}

func (p *PG) handleNotify(n NotifyEvent) {
	if !p.IsPrimary() || n.QueryEpoch != p.info.History.SameIntervalSince {
		return // not ours to collect, or from another round
	}
	if !slices.Contains(p.mapping.members(), n.From) {
		return // strays matter to the full peering protocol only
	}
	p.peers[n.From] = n.Info
	if p.state == StatePeering || p.state == StateWaiting {
		p.evaluatePeers()
	}
}

// evaluatePeers applies this release's activation rule: the primary has
// heard from every acting member and their infos agree with its own.
func (p *PG) evaluatePeers() {
	members := p.mapping.members()
	for _, o := range members {
		if _, heard := p.peers[o]; !heard && o != p.cfg.Whoami {
			return
		}
	}
	for _, o := range members {
		if o == p.cfg.Whoami {
			continue
		}
		if ok, why := p.info.agreesWith(p.peers[o]); !ok {
			p.startRecovery(fmt.Sprintf("osd.%d disagrees: %s", o, why))
			return
		}
	}
	p.activate(len(members))
}

// activate records the activation epoch and asks every replica to persist
// it; the PG serves I/O once all of them did (activating -> active), so
// that every member of an interval that went active can prove it in a
// later recovery (§6.4 of the peering spec).
func (p *PG) activate(members int) {
	if members < p.mapping.MinSize {
		p.setState(StatePeered, fmt.Sprintf("infos agree but %d acting < min_size %d", members, p.mapping.MinSize))
		return
	}
	p.info.LastEpochStarted = p.mapping.Epoch
	p.persistInfo()
	p.activating = map[int32]bool{}
	for _, o := range p.mapping.members() {
		if o != p.cfg.Whoami {
			p.activating[o] = true
		}
	}
	p.setState(StateActivating, fmt.Sprintf("all %d acting members agree at %s", members, p.info.LastUpdate))
	p.sendActivates()
	p.maybeActive()
}

func (p *PG) sendActivates() {
	for _, o := range sortedIDs(p.activating) {
		p.send(Message{To: o, Type: MsgActivate, QueryEpoch: p.info.History.SameIntervalSince, Info: p.info})
	}
}

// maybeActive serves I/O once every replica persisted the activation.
func (p *PG) maybeActive() {
	if len(p.activating) > 0 {
		return
	}
	p.activating = nil
	p.info.History.LastEpochStarted = p.info.LastEpochStarted
	p.persistInfo()
	p.setState(StateActive, "every replica persisted the activation")
}

func (p *PG) handleActivated(a ActivatedEvent) {
	if p.state != StateActivating || a.QueryEpoch != p.info.History.SameIntervalSince {
		return
	}
	delete(p.activating, a.From)
	p.maybeActive()
}

// handleActivate records, on a replica, that the PG went active in this
// interval: its copy is now exact up to this activation (local les).
func (p *PG) handleActivate(a ActivateEvent) {
	if p.state != StateReplica || a.From != p.mapping.ActingPrimary ||
		a.QueryEpoch != p.info.History.SameIntervalSince {
		return
	}
	p.info.LastEpochStarted = max(p.info.LastEpochStarted, a.Info.LastEpochStarted)
	p.info.History.LastEpochStarted = max(p.info.History.LastEpochStarted, a.Info.History.LastEpochStarted)
	p.persistInfo()
	// The daemon sends messages only after the PG's transactions so far
	// committed: this answer means "persisted".
	p.send(Message{To: a.From, Type: MsgActivated, QueryEpoch: a.QueryEpoch})
}
