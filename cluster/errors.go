package cluster

import "errors"

// Errors returned by this package. Callers branch on them with errors.Is; the
// wrapped message says what was wrong and what to do.
var (
	// ErrBadPGID: a PG id string is not POOL.HEXSEED.
	ErrBadPGID = errors.New("invalid PG id")
	// ErrNoSuchPool: the pool id or name is not in the map.
	ErrNoSuchPool = errors.New("no such pool")
	// ErrNoSuchOSD: the OSD id does not exist in the map.
	ErrNoSuchOSD = errors.New("no such OSD")
	// ErrInvalidPool: pool parameters break a rule (name, size, min_size,
	// pg_num, pgp_num, rule, type, hash).
	ErrInvalidPool = errors.New("invalid pool")
	// ErrInvalidArgument: an argument of a placement or command helper is out
	// of range (pg_num 0, size <= 0, unknown rule, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrEpochMismatch: an incremental does not lead from the map's epoch to
	// the next one.
	ErrEpochMismatch = errors.New("incremental epoch does not follow the map's epoch")
	// ErrFSIDMismatch: an incremental belongs to another cluster.
	ErrFSIDMismatch = errors.New("incremental belongs to another cluster (fsid differs)")
	// ErrCRCMismatch: applying an incremental did not rebuild the map its
	// sender had; the receiver must fetch a full map.
	ErrCRCMismatch = errors.New("map CRC mismatch after applying incremental")
	// ErrCorrupt: encoded map or incremental bytes do not decode to a valid
	// value.
	ErrCorrupt = errors.New("corrupt encoded cluster map")
	// ErrInvalidMap: a map or incremental violates an invariant (e.g. an OSD
	// id outside max_osd, a pool without a name).
	ErrInvalidMap = errors.New("invalid cluster map")
)
