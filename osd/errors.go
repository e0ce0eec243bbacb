package osd

import "errors"

// Errors returned by the OSD daemon. Callers branch on them with errors.Is;
// the wrapped message says what was wrong and what to do.
var (
	// ErrWrongCluster: a map, a data directory or a peer belongs to another
	// cluster (fsid).
	ErrWrongCluster = errors.New("belongs to another cluster (fsid differs)")
	// ErrBadConfig: the daemon's configuration is unusable.
	ErrBadConfig = errors.New("invalid OSD configuration")
	// ErrStopped: the OSD is shutting down.
	ErrStopped = errors.New("OSD is stopping")
	// ErrNoSuperblock: the data directory was never prepared with mkfs.
	ErrNoSuperblock = errors.New("no OSD superblock in the data directory (run `osd mkfs` first)")
	// ErrBadSuperblock: the superblock file does not parse.
	ErrBadSuperblock = errors.New("corrupt OSD superblock")
)
