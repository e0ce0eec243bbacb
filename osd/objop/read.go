package objop

import (
	"errors"

	"github.com/gorados/gorados/proto/pb"
)

// Execute runs a read op (already checked by Validate) through r. It stops
// at the first failing sub-op, like a librados read operation without
// per-op FAILOK: that sub-op's result becomes the op's, later ones are
// NOT_EXECUTED.
func Execute(r Reader, ops []*pb.SubOp, lim Limits) ([]*pb.SubOpResult, *Failure) {
	results := make([]*pb.SubOpResult, len(ops))
	meta, err := r.Stat()
	if err != nil {
		return notExecuted(results, 0), readFailure(err, "stat")
	}
	for i, op := range ops {
		res, f := executeOne(r, meta, op, lim)
		if f != nil {
			results[i] = &pb.SubOpResult{Result: f.Result}
			return notExecuted(results, i+1), f
		}
		results[i] = res
	}
	return results, nil
}

func notExecuted(results []*pb.SubOpResult, from int) []*pb.SubOpResult {
	for i := from; i < len(results); i++ {
		results[i] = &pb.SubOpResult{Result: pb.Result_RESULT_NOT_EXECUTED}
	}
	return results
}

// readFailure maps a Reader error to a result.
func readFailure(err error, what string) *Failure {
	switch {
	case errors.Is(err, ErrNoObject):
		return fail(pb.Result_RESULT_NOT_FOUND, "%s: the object does not exist", what)
	case errors.Is(err, ErrNoXattr):
		return fail(pb.Result_RESULT_NO_DATA, "%s: no such xattr", what)
	}
	return fail(pb.Result_RESULT_IO_ERROR, "%s: %v", what, err)
}

func executeOne(r Reader, meta Meta, op *pb.SubOp, lim Limits) (*pb.SubOpResult, *Failure) {
	switch o := op.GetOp().(type) {
	case *pb.SubOp_Read:
		return read(r, meta, o.Read, lim)
	case *pb.SubOp_Stat:
		return &pb.SubOpResult{Size: meta.Size, MtimeUnixNano: meta.MtimeUnixNano}, nil
	case *pb.SubOp_GetXattr:
		v, err := r.Xattr(string(o.GetXattr.GetName()))
		if err != nil {
			return nil, readFailure(err, "getxattr "+string(o.GetXattr.GetName()))
		}
		return &pb.SubOpResult{Data: v}, nil
	case *pb.SubOp_GetXattrs:
		xs, err := r.Xattrs()
		if err != nil {
			return nil, readFailure(err, "getxattrs")
		}
		return &pb.SubOpResult{Xattrs: xs}, nil
	case *pb.SubOp_OmapGetHeader:
		h, err := r.OmapHeader()
		if err != nil {
			return nil, readFailure(err, "omap header")
		}
		return &pb.SubOpResult{Header: h}, nil
	}
	return executeOmapRead(r, op, lim)
}

func read(r Reader, meta Meta, o *pb.ReadOp, lim Limits) (*pb.SubOpResult, *Failure) {
	if o.GetOffset() >= meta.Size {
		return &pb.SubOpResult{Data: []byte{}}, nil
	}
	n := meta.Size - o.GetOffset()
	if o.GetLength() != 0 && o.GetLength() < n {
		n = o.GetLength()
	}
	n = min(n, lim.ObjectSize)
	data, err := r.Read(o.GetOffset(), n)
	if err != nil {
		return nil, readFailure(err, "read")
	}
	return &pb.SubOpResult{Data: data}, nil
}

func executeOmapRead(r Reader, op *pb.SubOp, lim Limits) (*pb.SubOpResult, *Failure) {
	switch o := op.GetOp().(type) {
	case *pb.SubOp_OmapGetVals:
		max := returnMax(o.OmapGetVals.GetMaxReturn(), lim)
		es, more, err := r.OmapVals(string(o.OmapGetVals.GetStartAfter()), string(o.OmapGetVals.GetPrefix()), max)
		if err != nil {
			return nil, readFailure(err, "omap get vals")
		}
		return &pb.SubOpResult{Entries: es, More: more}, nil
	case *pb.SubOp_OmapGetKeys:
		max := returnMax(o.OmapGetKeys.GetMaxReturn(), lim)
		es, more, err := r.OmapVals(string(o.OmapGetKeys.GetStartAfter()), "", max)
		if err != nil {
			return nil, readFailure(err, "omap get keys")
		}
		keys := make([][]byte, len(es))
		for i, e := range es {
			keys[i] = e.GetKey()
		}
		return &pb.SubOpResult{Keys: keys, More: more}, nil
	case *pb.SubOp_OmapGetValsByKeys:
		if len(o.OmapGetValsByKeys.GetKeys()) > lim.OmapEntries {
			return nil, fail(pb.Result_RESULT_TOO_BIG, "%d keys in one lookup is over the limit of %d",
				len(o.OmapGetValsByKeys.GetKeys()), lim.OmapEntries)
		}
		es, err := r.OmapValsByKeys(bytesToStrings(o.OmapGetValsByKeys.GetKeys()))
		if err != nil {
			return nil, readFailure(err, "omap get vals by keys")
		}
		return &pb.SubOpResult{Entries: es}, nil
	}
	return nil, fail(pb.Result_RESULT_INVALID_ARGUMENT, "not a read sub-op")
}

func returnMax(asked uint32, lim Limits) int {
	if asked == 0 || int(asked) > lim.ReturnMax {
		return lim.ReturnMax
	}
	return int(asked)
}

// bytesToStrings converts wire keys (bytes, which may hold any byte sequence)
// to Go strings, which hold bytes verbatim.
func bytesToStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}
