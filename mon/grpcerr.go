package mon

// The one place where monitor errors become gRPC status codes and back.

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{ErrInvalidArgument, codes.InvalidArgument},
	{ErrNotFound, codes.NotFound},
	{ErrAlreadyExists, codes.AlreadyExists},
	{ErrFailedPrecondition, codes.FailedPrecondition},
	{ErrFSIDMismatch, codes.FailedPrecondition},
	{ErrNoQuorum, codes.Unavailable},
	{ErrNotLeader, codes.Unavailable},
	{ErrConflict, codes.Unavailable},
	{ErrStopped, codes.Unavailable},
}

// toStatus converts an error of this package into a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, ec := range errorCodes {
		if errors.Is(err, ec.err) {
			return status.Error(ec.code, err.Error())
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return status.Error(codes.Unavailable, ErrNoQuorum.Error()+": "+err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// fromStatus passes a forwarded call's status through unchanged.
func fromStatus(err error) error { return err }

// retryableForward reports whether a forwarded command failed before the
// leader could act on it (so trying again is safe and useful).
func retryableForward(err error) bool {
	return status.Code(err) == codes.Unavailable
}

func resultLabel(err error) string {
	if err == nil {
		return "ok"
	}
	return status.Code(toStatus(err)).String()
}
