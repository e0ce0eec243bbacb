package monclient

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors returned by the client. Every error of a command wraps one of them,
// so callers branch with errors.Is; the message is the monitor's.
var (
	// ErrNoQuorum means no monitor could get the request committed (or
	// read) before the context ended: fewer than a majority of monitors
	// are up or reachable.
	ErrNoQuorum = errors.New("no quorum")
	// ErrInvalidArgument means the command's arguments were refused.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound means a named pool, OSD, bucket or rule does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means the command would create a name that is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrFailedPrecondition means the cluster's state forbids the command.
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrNoMonitors means the client was given no monitor address.
	ErrNoMonitors = errors.New("no monitor addresses: pass --mon host:port[,...] or set GORADOS_MON")
	// ErrBadMap means a monitor sent a map the client cannot decode.
	ErrBadMap = errors.New("undecodable map from monitor")
)

// Error is a monitor's refusal: the sentinel kind plus the monitor's
// message, which already says what to do.
type Error struct {
	Kind error
	Msg  string
}

// Error returns the monitor's message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }

// fromStatus converts a gRPC error into an *Error; retry reports whether
// another monitor (or a later attempt) may succeed.
func fromStatus(err error) (out error, retry bool) {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%w: %w", ErrNoQuorum, err), true
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.OutOfRange:
		return &Error{Kind: ErrInvalidArgument, Msg: st.Message()}, false
	case codes.NotFound:
		return &Error{Kind: ErrNotFound, Msg: st.Message()}, false
	case codes.AlreadyExists:
		return &Error{Kind: ErrAlreadyExists, Msg: st.Message()}, false
	case codes.FailedPrecondition:
		return &Error{Kind: ErrFailedPrecondition, Msg: st.Message()}, false
	}
	return &Error{Kind: ErrNoQuorum, Msg: st.Message()}, true
}
