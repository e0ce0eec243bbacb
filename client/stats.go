package client

import "sync/atomic"

// Stats counts what the client did since Connect. Resends are normal
// during map changes and OSD restarts; they are exposed so that tests and
// benchmarks can see them.
type Stats struct {
	// Ops is the number of operations (and listing pages) started.
	Ops uint64
	// Attempts is the number of RPCs sent to OSDs (Ops plus resends).
	Attempts uint64
	// Redirects counts NOT_PRIMARY and STALE_EPOCH answers: the client's
	// map was older than the OSD's.
	Redirects uint64
	// Agains counts AGAIN answers (PG not active yet).
	Agains uint64
	// TransportErrors counts failed RPCs (connection refused or reset,
	// attempt timeout).
	TransportErrors uint64
	// Retargets counts attempts abandoned because a new map moved the PG.
	Retargets uint64
	// Duplicates counts write replies that the OSD rebuilt from its log:
	// a resent op that had already been applied.
	Duplicates uint64
	// MapEpoch is the epoch of the map the client holds.
	MapEpoch uint32
}

type counters struct {
	ops, attempts, redirects, agains, transportErrors, retargets, duplicates atomic.Uint64
}

// Stats returns the client's counters.
func (c *Conn) Stats() Stats {
	s := &c.stats
	return Stats{
		Ops: s.ops.Load(), Attempts: s.attempts.Load(), Redirects: s.redirects.Load(),
		Agains: s.agains.Load(), TransportErrors: s.transportErrors.Load(),
		Retargets: s.retargets.Load(), Duplicates: s.duplicates.Load(), MapEpoch: c.MapEpoch(),
	}
}
