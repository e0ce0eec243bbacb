package pg

import (
	"fmt"
	"sort"
)

// LogLimits bounds the PG log and its dup list. The defaults are Ceph's
// (osd_min_pg_log_entries, osd_max_pg_log_entries, osd_pg_log_dups_tracked).
type LogLimits struct {
	// MinEntries is the length the log is trimmed down to while the PG is
	// active and every acting member has committed everything.
	MinEntries int
	// MaxEntries is the length the log is trimmed down to otherwise
	// (entries not yet committed everywhere are never trimmed).
	MaxEntries int
	// DupsTracked bounds the number of trimmed request ids remembered for
	// duplicate detection.
	DupsTracked int
	// TrimMin is the smallest number of entries worth a trim
	// (osd_pg_log_trim_min): trimming in batches keeps the store's work
	// per write constant.
	TrimMin int
}

// DefaultLogLimits returns Ceph's defaults: 250, 10,000, 3,000 and 100.
func DefaultLogLimits() LogLimits {
	return LogLimits{MinEntries: 250, MaxEntries: 10000, DupsTracked: 3000, TrimMin: 100}
}

// Validate checks that the limits make sense.
func (l LogLimits) Validate() error {
	if l.MinEntries < 1 || l.MaxEntries < l.MinEntries || l.DupsTracked < 0 || l.TrimMin < 1 {
		return fmt.Errorf("%w: log limits min=%d max=%d dups=%d trim_min=%d: need 1 <= min <= max, dups >= 0, trim_min >= 1",
			ErrBadEntry, l.MinEntries, l.MaxEntries, l.DupsTracked, l.TrimMin)
	}
	return nil
}

// Log is the in-memory PG log: entries in (Tail, Head], an index by request
// id, and the bounded list of request ids of trimmed entries (dups).
type Log struct {
	tail, head Eversion
	entries    []LogEntry
	byReq      map[ReqID]Eversion
	dups       []Dup
	dupIndex   map[ReqID]Dup
}

// NewLog returns an empty log whose tail and head are at tail (0'0 for a new
// PG).
func NewLog(tail Eversion) *Log {
	return &Log{tail: tail, head: tail, byReq: map[ReqID]Eversion{}, dupIndex: map[ReqID]Dup{}}
}

// RestoreLog rebuilds a log from persisted entries (in version order) and
// dups (oldest first), as the daemon finds them in the store after a restart.
func RestoreLog(tail Eversion, entries []LogEntry, dups []Dup) (*Log, error) {
	l := NewLog(tail)
	for _, d := range dups {
		l.addDup(d, len(dups))
	}
	for _, e := range entries {
		if err := l.Append(e); err != nil {
			return nil, fmt.Errorf("restore log: %w", err)
		}
	}
	return l, nil
}

// Tail returns the version up to which entries were trimmed.
func (l *Log) Tail() Eversion { return l.tail }

// Head returns the newest entry's version (the tail when empty).
func (l *Log) Head() Eversion { return l.head }

// Len returns the number of entries.
func (l *Log) Len() int { return len(l.entries) }

// Entries returns a copy of the entries, oldest first.
func (l *Log) Entries() []LogEntry { return append([]LogEntry(nil), l.entries...) }

// Dups returns a copy of the dup list, oldest first.
func (l *Log) Dups() []Dup { return append([]Dup(nil), l.dups...) }

// Append adds e at the head. Versions must strictly increase, and the
// object must be named.
func (l *Log) Append(e LogEntry) error {
	if !l.head.Less(e.Version) {
		return fmt.Errorf("%w: version %s is not above the head %s", ErrBadEntry, e.Version, l.head)
	}
	if e.Object.Name == "" || !e.Op.valid() {
		return fmt.Errorf("%w: %s: needs an object name and a known op", ErrBadEntry, e)
	}
	l.entries = append(l.entries, e)
	l.head = e.Version
	if !e.ReqID.IsZero() {
		l.byReq[e.ReqID] = e.Version
	}
	return nil
}

// Lookup finds the result of an earlier execution of reqid, in the log or
// in the dup list.
func (l *Log) Lookup(reqid ReqID) (Dup, bool) {
	if v, ok := l.byReq[reqid]; ok {
		if e, ok := l.find(v); ok {
			return dupOf(e), true
		}
	}
	d, ok := l.dupIndex[reqid]
	return d, ok
}

// find returns the entry with version v by binary search.
func (l *Log) find(v Eversion) (LogEntry, bool) {
	i := sort.Search(len(l.entries), func(i int) bool { return !l.entries[i].Version.Less(v) })
	if i < len(l.entries) && l.entries[i].Version == v {
		return l.entries[i], true
	}
	return LogEntry{}, false
}

// TrimTo drops every entry with version <= to, moving its request id into
// the dup list (bounded by maxDups, oldest forgotten first). It returns the
// dropped entries and the dups that fell off the list, so the caller can
// delete them from the store (and persist the new dups).
func (l *Log) TrimTo(to Eversion, maxDups int) (trimmed []LogEntry, forgotten []Dup) {
	n := sort.Search(len(l.entries), func(i int) bool { return to.Less(l.entries[i].Version) })
	if n == 0 {
		return nil, nil
	}
	trimmed = append([]LogEntry(nil), l.entries[:n]...)
	l.entries = append(l.entries[:0:0], l.entries[n:]...)
	for _, e := range trimmed {
		if !e.ReqID.IsZero() {
			delete(l.byReq, e.ReqID)
			forgotten = append(forgotten, l.addDup(dupOf(e), maxDups)...)
		}
	}
	l.tail = trimmed[n-1].Version
	return trimmed, forgotten
}

// addDup appends d to the dup list and forgets the oldest beyond maxDups,
// returning them.
func (l *Log) addDup(d Dup, maxDups int) []Dup {
	l.dups = append(l.dups, d)
	l.dupIndex[d.ReqID] = d
	var forgotten []Dup
	for len(l.dups) > maxDups {
		old := l.dups[0]
		l.dups = l.dups[1:]
		forgotten = append(forgotten, old)
		if cur, ok := l.dupIndex[old.ReqID]; ok && cur.Version == old.Version {
			delete(l.dupIndex, old.ReqID)
		}
	}
	return forgotten
}

// trimTarget returns the version to trim to so that at most keep entries
// remain, never beyond limit (entries newer than limit must stay); ok is
// false when fewer than batch entries would go.
func (l *Log) trimTarget(keep, batch int, limit Eversion) (Eversion, bool) {
	excess := len(l.entries) - keep
	if excess < max(batch, 1) {
		return Eversion{}, false
	}
	to := l.entries[excess-1].Version
	if limit.Less(to) {
		n := sort.Search(len(l.entries), func(i int) bool { return limit.Less(l.entries[i].Version) })
		if n < max(batch, 1) {
			return Eversion{}, false
		}
		to = l.entries[n-1].Version
	}
	return to, true
}

// RewindTo drops every entry newer than to (divergent entries found by
// recovery) and returns them; to must not be older than the tail.
func (l *Log) RewindTo(to Eversion) ([]LogEntry, error) {
	if to.Less(l.tail) {
		return nil, fmt.Errorf("%w: cannot rewind to %s, below the tail %s", ErrBadEntry, to, l.tail)
	}
	n := sort.Search(len(l.entries), func(i int) bool { return to.Less(l.entries[i].Version) })
	removed := append([]LogEntry(nil), l.entries[n:]...)
	l.entries = l.entries[:n]
	for _, e := range removed {
		if v, ok := l.byReq[e.ReqID]; ok && v == e.Version {
			delete(l.byReq, e.ReqID)
		}
	}
	if len(removed) > 0 {
		l.head = to
	}
	return removed, nil
}

// after returns the entries newer than v, oldest first.
func (l *Log) after(v Eversion) []LogEntry {
	n := sort.Search(len(l.entries), func(i int) bool { return v.Less(l.entries[i].Version) })
	return append([]LogEntry(nil), l.entries[n:]...)
}

// has reports whether v is an entry of the log or its tail.
func (l *Log) has(v Eversion) bool {
	if v == l.tail {
		return true
	}
	_, ok := l.find(v)
	return ok
}
