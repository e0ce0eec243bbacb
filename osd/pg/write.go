package pg

import (
	"fmt"
	"slices"
)

// Write is a client write the primary is about to execute.
type Write struct {
	ReqID  ReqID
	Object ObjectID
	Op     OpType
	// PriorVersion is the version of the object's last change (0'0 if it
	// does not exist).
	PriorVersion Eversion
	// ReturnCode is the op's result (0, or a negative errno for OpError).
	ReturnCode    int32
	MtimeUnixNano int64
}

// PrepareWrite assigns the next version (current epoch, head+1), appends the
// log entry, and starts waiting for every acting member's commit. The daemon
// persists the returned entry with the op's transaction and the PG info, and
// sends it to the replicas; CommitEvents then lead to an ack in Ready.Acked.
func (p *PG) PrepareWrite(w Write) (LogEntry, error) {
	if !p.IsPrimary() {
		return LogEntry{}, fmt.Errorf("pg %s: %w", p.cfg.PG, ErrNotPrimary)
	}
	if p.state != StateActive {
		return LogEntry{}, fmt.Errorf("pg %s is %s: %w", p.cfg.PG, p.state, ErrNotActive)
	}
	head := p.log.Head()
	v := Eversion{Epoch: max(p.mapping.Epoch, head.Epoch), Version: head.Version + 1}
	e := LogEntry{Op: w.Op, Object: w.Object, Version: v, PriorVersion: w.PriorVersion,
		UserVersion: v.Version, ReqID: w.ReqID, ReturnCode: w.ReturnCode, MtimeUnixNano: w.MtimeUnixNano}
	if err := p.appendEntry(e); err != nil {
		return LogEntry{}, err
	}
	waiting := map[int32]bool{}
	for _, o := range p.mapping.members() {
		waiting[o] = true
	}
	p.inflight = append(p.inflight, &inflightWrite{entry: e, waiting: waiting})
	return e, nil
}

// appendEntry adds e to the log and moves the info with it.
func (p *PG) appendEntry(e LogEntry) error {
	if err := p.log.Append(e); err != nil {
		return fmt.Errorf("pg %s: %w", p.cfg.PG, err)
	}
	p.info.LastUpdate = e.Version
	p.info.LastComplete = e.Version
	p.persistInfo()
	return nil
}

// Lookup finds an earlier execution of reqid. inflight is true when it is
// still waiting for commits: the caller waits for its ack (or its drop)
// rather than answering now.
func (p *PG) Lookup(reqid ReqID) (d Dup, inflight, found bool) {
	d, found = p.log.Lookup(reqid)
	if !found {
		return Dup{}, false, false
	}
	for _, w := range p.inflight {
		if w.entry.ReqID == reqid {
			return d, true, true
		}
	}
	return d, false, true
}

// handleCommit records one member's commit and acks, in version order,
// every write now committed everywhere; then it trims the log.
func (p *PG) handleCommit(c CommitEvent) {
	for _, w := range p.inflight {
		if w.entry.Version == c.Version {
			delete(w.waiting, c.From)
			break
		}
	}
	n := 0
	for n < len(p.inflight) && len(p.inflight[n].waiting) == 0 {
		p.ready.Acked = append(p.ready.Acked, p.inflight[n].entry)
		p.committed = p.inflight[n].entry.Version
		n++
	}
	if n > 0 {
		p.inflight = slices.Delete(p.inflight, 0, n)
		p.trim()
	}
}

// trim keeps the log within its bounds: MinEntries while nothing is in
// flight, MaxEntries otherwise, and never past what every member committed.
func (p *PG) trim() {
	keep := p.cfg.Limits.MinEntries
	if len(p.inflight) > 0 {
		keep = p.cfg.Limits.MaxEntries
	}
	to, ok := p.log.trimTarget(keep, p.cfg.Limits.TrimMin, p.committed)
	if ok {
		p.trimTo(to)
	}
}

func (p *PG) trimTo(to Eversion) {
	trimmed, forgotten := p.log.TrimTo(to, p.cfg.Limits.DupsTracked)
	if len(trimmed) == 0 {
		return
	}
	p.ready.Trimmed = append(p.ready.Trimmed, trimmed...)
	p.ready.ForgottenDups = append(p.ready.ForgottenDups, forgotten...)
	p.info.LogTail = p.log.Tail()
	p.persistInfo()
}

// ApplyReplicated appends an entry the primary sent, on a replica.
// intervalStart is the primary's same_interval_since; it must match ours.
// The daemon applies the entry's transaction with the returned info in one
// store transaction and replies after the commit. ErrOutOfOrder means an
// earlier entry has not arrived yet; ErrDuplicateEntry that this one was
// already applied (a resend).
func (p *PG) ApplyReplicated(intervalStart uint64, e LogEntry) error {
	if p.state != StateReplica || intervalStart != p.info.History.SameIntervalSince {
		return fmt.Errorf("pg %s (%s since %d) refuses entry %s of interval %d: %w",
			p.cfg.PG, p.state, p.info.History.SameIntervalSince, e.Version, intervalStart, ErrWrongInterval)
	}
	head := p.log.Head()
	switch {
	case !head.Less(e.Version):
		return fmt.Errorf("pg %s: entry %s at or below head %s: %w", p.cfg.PG, e.Version, head, ErrDuplicateEntry)
	case e.Version.Version != head.Version+1:
		return fmt.Errorf("pg %s: entry %s after head %s: %w", p.cfg.PG, e.Version, head, ErrOutOfOrder)
	}
	return p.appendEntry(e)
}

// TrimReplica trims a replica's log to the primary's trim point (never past
// its own head).
func (p *PG) TrimReplica(to Eversion) {
	if p.log.Head().Less(to) {
		to = p.log.Head()
	}
	if p.log.Tail().Less(to) {
		p.trimTo(to)
	}
}
