package client

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gorados/gorados/proto/pb"
)

// Errors returned by the library. Every error of an operation wraps exactly
// one of them, so callers branch with errors.Is; the full message says what
// went wrong and what to do about it.
var (
	// ErrNotFound: the object does not exist (ENOENT).
	ErrNotFound = errors.New("object not found")
	// ErrExists: an exclusive create found the object already there (EEXIST).
	ErrExists = errors.New("object already exists")
	// ErrNoData: the named xattr does not exist (ENODATA).
	ErrNoData = errors.New("no such attribute")
	// ErrTimeout: the operation did not complete before the context's
	// deadline or the configured operation timeout.
	ErrTimeout = errors.New("operation timed out")
	// ErrTooBig: the operation would exceed a size limit (object size,
	// write size, xattr or omap value size, offset past the object size
	// limit).
	ErrTooBig = errors.New("over the size limit")
	// ErrInvalid: the request is malformed (empty or over-long name, bad
	// argument); resending it unchanged fails again.
	ErrInvalid = errors.New("invalid argument")
	// ErrIO: an OSD could not read or write its store, or the data failed
	// its checksum; corrupt data is never returned.
	ErrIO = errors.New("I/O error")
	// ErrPoolNotFound: the pool is not in the cluster map.
	ErrPoolNotFound = errors.New("pool not found")
	// ErrWrongCluster: the monitors or OSDs belong to another cluster
	// (fsid) than the one the client was configured for or first reached.
	ErrWrongCluster = errors.New("wrong cluster")
	// ErrClosed: the connection was closed.
	ErrClosed = errors.New("connection closed")
	// ErrNoMonitors: the configuration names no monitor.
	ErrNoMonitors = errors.New("no monitor addresses")
	// ErrNoSpace: an OSD of the object's PG is full (at or above the
	// cluster's full ratio); the write was not applied. Removes still work
	// (ENOSPC).
	ErrNoSpace = errors.New("no space left")
)

// OpError is the error of an object operation: which operation, on which
// object, what kind of failure (one of the Err* values, reachable with
// errors.Is) and the explanation the OSD or the library gave.
type OpError struct {
	// Op names the operation ("write", "read", "operate", ...).
	Op string
	// Pool, Namespace and Object name the target.
	Pool      string
	Namespace string
	Object    string
	// Step is the index of the failed step of a compound operation, or -1
	// when the failure concerns the operation as a whole.
	Step int
	// Kind is the Err* value the error wraps.
	Kind error
	// Msg explains the failure.
	Msg string
	// Cause is the underlying error when there is one (the context's
	// error of a timeout, a transport error), also reachable with
	// errors.Is.
	Cause error
}

// Error returns "op pool/ns/object: kind: message".
func (e *OpError) Error() string {
	target := e.Pool + "/"
	if e.Namespace != "" {
		target += e.Namespace + "/"
	}
	target += shortName(e.Object)
	step := ""
	if e.Step >= 0 && strings.HasPrefix(e.Op, "operate") { // single-step ops have only step 0
		step = fmt.Sprintf(" (step %d)", e.Step)
	}
	if e.Msg == "" {
		return fmt.Sprintf("%s %s%s: %v", e.Op, target, step, e.Kind)
	}
	return fmt.Sprintf("%s %s%s: %v: %s", e.Op, target, step, e.Kind, e.Msg)
}

// shortName quotes an object name for a message, eliding the middle of a
// long one (names may have 2,048 bytes and more).
func shortName(s string) string {
	const keep = 48
	if len(s) <= 2*keep {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...(%d bytes)...%q", s[:keep], len(s), s[len(s)-keep:])
}

// Unwrap returns Kind and Cause, so errors.Is(err, client.ErrNotFound)
// and errors.Is(err, context.DeadlineExceeded) work.
func (e *OpError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// resultKind maps a final (non-retryable) OSD result to its sentinel.
// Results the retry loop handles itself never reach it; if one does (an
// OSD answering out of protocol), it is reported as an I/O error.
func resultKind(r pb.Result) error {
	switch r {
	case pb.Result_RESULT_NOT_FOUND:
		return ErrNotFound
	case pb.Result_RESULT_EXISTS:
		return ErrExists
	case pb.Result_RESULT_NO_DATA:
		return ErrNoData
	case pb.Result_RESULT_INVALID_ARGUMENT:
		return ErrInvalid
	case pb.Result_RESULT_TOO_BIG:
		return ErrTooBig
	case pb.Result_RESULT_WRONG_CLUSTER:
		return ErrWrongCluster
	case pb.Result_RESULT_NO_SUCH_POOL:
		return ErrPoolNotFound
	case pb.Result_RESULT_NO_SPACE:
		return ErrNoSpace
	}
	return ErrIO
}

// resultHint adds what the user can do to an OSD's message for the
// results whose remedy is not obvious.
func resultHint(r pb.Result) string {
	switch r {
	case pb.Result_RESULT_IO_ERROR:
		return "; the OSD's store failed or its data is corrupt: check the OSD's log, then scrub or repair the PG"
	case pb.Result_RESULT_WRONG_CLUSTER:
		return "; check the monitor addresses in the client configuration"
	case pb.Result_RESULT_NO_SUCH_POOL:
		return "; the pool was deleted: reopen the pool or create it again"
	}
	return ""
}
