package mon

import (
	"errors"
	"fmt"
)

// Errors returned by the monitor. Callers branch on them with errors.Is; the
// gRPC layer maps them to status codes in one place (grpcerr.go).
var (
	// ErrNoQuorum means no leader could be reached within the deadline:
	// fewer than a majority of monitors are up or reachable.
	ErrNoQuorum = errors.New("no quorum: fewer than a majority of monitors are reachable; start the missing monitors or check the network")
	// ErrNotLeader means the request needs the leader and this monitor is
	// not it (and cannot forward it).
	ErrNotLeader = errors.New("this monitor is not the leader")
	// ErrStopped means the monitor is shutting down.
	ErrStopped = errors.New("monitor is stopping")
	// ErrCorruptStore means the data directory holds unreadable state.
	ErrCorruptStore = errors.New("corrupt monitor store")
	// ErrFSIDMismatch means a data directory or a peer belongs to another
	// cluster.
	ErrFSIDMismatch = errors.New("fsid mismatch: this data belongs to another cluster")
	// ErrMembersMismatch means --initial-members disagrees with the member
	// list stored at the first start.
	ErrMembersMismatch = errors.New("member list disagrees with the stored one")
	// ErrBadConfig means the monitor's flags or stored settings are invalid.
	ErrBadConfig = errors.New("invalid monitor configuration")

	// ErrInvalidArgument means a command's arguments are malformed or out
	// of range (gRPC InvalidArgument).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound means a command names a pool, OSD, bucket or rule that
	// does not exist (gRPC NotFound).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a command would create a name that is taken
	// (gRPC AlreadyExists).
	ErrAlreadyExists = errors.New("already exists")
	// ErrFailedPrecondition means the command is well formed but the map's
	// state forbids it, e.g. removing an OSD that is still up (gRPC
	// FailedPrecondition).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrConflict means a proposed epoch lost a race with another one; the
	// monitor retries the command on the newer map.
	ErrConflict = errors.New("map changed concurrently")
)

// kindError is an error of a known kind whose message stands alone (the
// kind's own text is not repeated in it).
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// errorf returns an error of the given kind with a formatted message.
func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
