package store

import (
	"errors"
	"fmt"
)

// Errors returned by the object store. Callers branch on them with
// errors.Is; the wrapping message names the collection, object or key and
// says what to do. A transaction that fails with any of them leaves the
// store exactly as it was.
var (
	// ErrNotFound means the object, collection entry or key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means an exclusive create (object, collection, log entry)
	// found the name taken.
	ErrExists = errors.New("already exists")
	// ErrNoCollection means the collection (PG) does not exist in this
	// store; create it first (the PG layer creates a PG's collection when
	// the PG is instantiated on this OSD).
	ErrNoCollection = errors.New("no such collection")
	// ErrCollectionNotEmpty means a collection still holds objects; remove
	// them first (PurgeCollection does it in bounded batches).
	ErrCollectionNotEmpty = errors.New("collection is not empty")
	// ErrNoXattr means an xattr to remove does not exist.
	ErrNoXattr = errors.New("no such xattr")
	// ErrTooLarge means an object, offset, name, xattr or omap entry is
	// over the store's configured limits (Options.Limits).
	ErrTooLarge = errors.New("over the configured limit")
	// ErrInvalid means a request is malformed (empty name, wrong pool for
	// the collection, nil transaction, ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrCorrupt means stored bytes failed their crc32c or could not be
	// decoded; the store returns this error instead of the bad bytes. The
	// error is a *CorruptError naming the object and block. Recover the
	// object from a replica.
	ErrCorrupt = errors.New("corrupt object store data")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("object store is closed")
	// ErrFailed means a commit failed (disk error or injected fault); the
	// store refuses further writes because the state of unsynced pages is
	// unknown. Restart the OSD to reopen the store from its last commit.
	ErrFailed = errors.New("object store failed a commit and refuses writes; restart the OSD")
	// ErrNoStore means the directory holds no object store; run mkfs first.
	ErrNoStore = errors.New("no object store in this directory (run osd mkfs first)")
	// ErrStoreExists means Create found a store already in the directory.
	ErrStoreExists = errors.New("an object store already exists in this directory")
	// ErrFormat means the store was written by an incompatible version.
	ErrFormat = errors.New("unsupported object store format")
	// ErrLocked means another process (a running OSD or a store tool) has
	// the store open; stop it first.
	ErrLocked = errors.New("object store is in use by another process (stop the OSD first)")
	// ErrIncomplete means a collection was left half-imported by an
	// interrupted import; remove it with PurgeCollection and import again.
	ErrIncomplete = errors.New("collection is incomplete (an import was interrupted)")
	// ErrBadExport means an export stream is malformed, truncated, of an
	// unknown version or fails its checksums.
	ErrBadExport = errors.New("bad export stream")
)

// CorruptError describes bytes that failed verification. It wraps
// ErrCorrupt.
type CorruptError struct {
	// Coll and Object name the object the bytes belong to, when known.
	Coll   CollID
	Object ObjectID
	// Block is the data block index of a corrupt data block, or -1 when the
	// corrupt value is metadata (onode, xattr, omap, log, info).
	Block int64
	// What names the value ("data block", "onode", "xattr \"_\"", ...) and
	// the check that failed.
	What string
}

// Error implements error.
func (e *CorruptError) Error() string {
	where := "collection " + e.Coll.String()
	if e.Object.Name != "" {
		where += " object " + e.Object.String()
	}
	if e.Block >= 0 {
		where += fmt.Sprintf(" block %d", e.Block)
	}
	return fmt.Sprintf("%v: %s: %s; recover the object from a replica", ErrCorrupt, where, e.What)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
