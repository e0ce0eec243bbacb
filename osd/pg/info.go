package pg

import (
	"fmt"

	"github.com/gorados/gorados/cluster"
)

// History is the part of a PG's metadata that describes the PG as a whole
// rather than this OSD's copy; peers exchange it during peering.
type History struct {
	// EpochCreated is the epoch the PG was created in.
	EpochCreated uint64
	// LastEpochStarted is a lower bound on the last epoch the PG went
	// active in (history les).
	LastEpochStarted uint64
	// LastEpochClean is the last epoch the PG was known clean.
	LastEpochClean uint64
	// SameIntervalSince is the first epoch of the current interval;
	// SameUpSince and SamePrimarySince likewise for the up set and the
	// acting primary.
	SameIntervalSince uint64
	SameUpSince       uint64
	SamePrimarySince  uint64
}

// Info is one OSD's metadata about its copy of a PG, persisted atomically
// with the log.
type Info struct {
	PG cluster.PGID
	// LastUpdate is the newest log entry here (the log head).
	LastUpdate Eversion
	// LastComplete: every change up to it is present in the local store.
	LastComplete Eversion
	// LogTail: the log holds (LogTail, LastUpdate].
	LogTail Eversion
	// LastEpochStarted is the activation epoch of the last interval in
	// which this OSD was activated as an acting member (local les).
	LastEpochStarted uint64
	History          History
}

// String prints the fields peering compares, for traces.
func (i Info) String() string {
	return fmt.Sprintf("pg=%s lu=%s lc=%s tail=%s les=%d history(les=%d lec=%d sis=%d)",
		i.PG, i.LastUpdate, i.LastComplete, i.LogTail, i.LastEpochStarted,
		i.History.LastEpochStarted, i.History.LastEpochClean, i.History.SameIntervalSince)
}

// agreesWith reports whether a peer's copy holds exactly the same history as
// ours, the activation rule of this release: same log head and complete. A
// peer that differs needs log-based recovery, which the full peering
// protocol will bring; until then the PG waits.
func (i Info) agreesWith(peer Info) (bool, string) {
	if peer.LastUpdate != i.LastUpdate {
		return false, fmt.Sprintf("last_update %s, primary has %s", peer.LastUpdate, i.LastUpdate)
	}
	if peer.LastComplete != peer.LastUpdate {
		return false, fmt.Sprintf("incomplete: last_complete %s < last_update %s", peer.LastComplete, peer.LastUpdate)
	}
	return true, ""
}
