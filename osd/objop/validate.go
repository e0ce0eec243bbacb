package objop

import (
	"fmt"

	"github.com/gorados/gorados/proto/pb"
)

// Failure is an op-level outcome other than success: the result code and a
// message that says what was wrong and what to do.
type Failure struct {
	Result  pb.Result
	Message string
}

func (f *Failure) Error() string { return f.Result.String() + ": " + f.Message }

func fail(r pb.Result, format string, args ...any) *Failure {
	return &Failure{Result: r, Message: fmt.Sprintf(format, args...)}
}

// Kind says whether an op reads or writes.
type Kind uint8

// Op kinds.
const (
	KindRead Kind = iota + 1
	KindWrite
)

// Validate checks the parts of a request that do not depend on the
// object's state: the object's name, key and namespace lengths, the number
// of sub-ops, that each sub-op is known, and that reads and writes are not
// mixed. It returns the op's kind.
func Validate(loc *pb.ObjectLocator, ops []*pb.SubOp, lim Limits) (Kind, *Failure) {
	if f := validateLocator(loc, lim); f != nil {
		return 0, f
	}
	if len(ops) == 0 || len(ops) > lim.SubOps {
		return 0, fail(pb.Result_RESULT_INVALID_ARGUMENT, "an op needs 1 to %d sub-ops, got %d", lim.SubOps, len(ops))
	}
	var kind Kind
	for i, op := range ops {
		k := subOpKind(op)
		if k == 0 {
			return 0, fail(pb.Result_RESULT_INVALID_ARGUMENT, "sub-op %d is empty or unknown to this OSD: upgrade the OSD or fix the client", i)
		}
		if kind != 0 && k != kind {
			return 0, fail(pb.Result_RESULT_INVALID_ARGUMENT, "sub-op %d mixes reads and writes in one op: send them as separate ops", i)
		}
		kind = k
	}
	return kind, nil
}

func validateLocator(loc *pb.ObjectLocator, lim Limits) *Failure {
	switch {
	case loc == nil || len(loc.GetName()) == 0:
		return fail(pb.Result_RESULT_INVALID_ARGUMENT, "the object name is empty: name the object")
	case len(loc.GetName()) > lim.NameLen:
		return fail(pb.Result_RESULT_TOO_BIG, "object name of %d bytes is over the %d-byte limit", len(loc.GetName()), lim.NameLen)
	case len(loc.GetKey()) > lim.KeyLen:
		return fail(pb.Result_RESULT_TOO_BIG, "locator key of %d bytes is over the %d-byte limit", len(loc.GetKey()), lim.KeyLen)
	case len(loc.GetNamespace()) > lim.NamespaceLen:
		return fail(pb.Result_RESULT_TOO_BIG, "namespace of %d bytes is over the %d-byte limit", len(loc.GetNamespace()), lim.NamespaceLen)
	}
	return nil
}

// subOpKind classifies one sub-op; 0 means empty or unknown.
func subOpKind(op *pb.SubOp) Kind {
	switch op.GetOp().(type) {
	case *pb.SubOp_Write, *pb.SubOp_WriteFull, *pb.SubOp_Append, *pb.SubOp_Truncate,
		*pb.SubOp_Remove, *pb.SubOp_Create, *pb.SubOp_SetXattr, *pb.SubOp_RmXattr,
		*pb.SubOp_OmapSetVals, *pb.SubOp_OmapRmKeys, *pb.SubOp_OmapClear, *pb.SubOp_OmapSetHeader:
		return KindWrite
	case *pb.SubOp_Read, *pb.SubOp_Stat, *pb.SubOp_GetXattr, *pb.SubOp_GetXattrs,
		*pb.SubOp_OmapGetVals, *pb.SubOp_OmapGetKeys, *pb.SubOp_OmapGetValsByKeys, *pb.SubOp_OmapGetHeader:
		return KindRead
	}
	return 0
}
