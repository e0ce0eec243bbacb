package pg

import "errors"

// Errors returned by this package. Callers branch on them with errors.Is; the
// wrapped message says what was wrong.
var (
	// ErrCorrupt: encoded log entry or info bytes do not decode.
	ErrCorrupt = errors.New("corrupt PG metadata encoding")
	// ErrNotActive: a write was submitted while the PG is not active on
	// this OSD as primary; the client must retry later.
	ErrNotActive = errors.New("PG is not active")
	// ErrNotPrimary: a primary-only action reached a non-primary.
	ErrNotPrimary = errors.New("this OSD is not the PG's primary")
	// ErrWrongInterval: a replication message belongs to another interval
	// than the PG's current one (the sender or the receiver is behind).
	ErrWrongInterval = errors.New("message from another interval")
	// ErrOutOfOrder: a replicated entry does not directly follow the log
	// head; the caller waits for the missing ones first.
	ErrOutOfOrder = errors.New("log entry does not follow the log head")
	// ErrDuplicateEntry: a replicated entry is already in the log (a
	// resent RepOp); the caller answers once it is committed.
	ErrDuplicateEntry = errors.New("log entry already applied")
	// ErrBadEntry: a log entry breaks an invariant (version not above the
	// head, empty object name).
	ErrBadEntry = errors.New("invalid log entry")
)
