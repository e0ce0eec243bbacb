package client

import (
	"context"

	"github.com/gorados/gorados/proto/pb"
)

// WriteOp is a compound write on one object (librados' write operation):
// its steps apply in order and atomically, all or none, and the op is
// acknowledged once every replica has it on stable storage. Build it with
// the methods below and run it with IOContext.Operate. A WriteOp may be
// run more than once; each run is a new request.
type WriteOp struct {
	ops []*pb.SubOp
}

// NewWriteOp returns an empty write op.
func NewWriteOp() *WriteOp { return &WriteOp{} }

func (op *WriteOp) add(s *pb.SubOp) *WriteOp {
	op.ops = append(op.ops, s)
	return op
}

// Create creates the object if it does not exist; with exclusive, the op
// fails with ErrExists when it does.
func (op *WriteOp) Create(exclusive bool) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_Create{Create: &pb.CreateOp{Exclusive: exclusive}}})
}

// Write writes data at offset, creating the object and zero-filling any
// gap past its end.
func (op *WriteOp) Write(data []byte, offset uint64) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_Write{Write: &pb.WriteOp{Offset: offset, Data: data}}})
}

// WriteFull replaces the object's data (its xattrs and omap stay).
func (op *WriteOp) WriteFull(data []byte) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: data}}})
}

// Append writes data at the object's end.
func (op *WriteOp) Append(data []byte) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_Append{Append: &pb.AppendOp{Data: data}}})
}

// Truncate sets the object's size, dropping or zero-filling its tail.
func (op *WriteOp) Truncate(size uint64) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_Truncate{Truncate: &pb.TruncateOp{Size: size}}})
}

// Remove deletes the object with its xattrs and omap (ErrNotFound when it
// does not exist).
func (op *WriteOp) Remove() *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_Remove{Remove: &pb.RemoveOp{}}})
}

// SetXattr sets an extended attribute.
func (op *WriteOp) SetXattr(name string, value []byte) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_SetXattr{SetXattr: &pb.SetXattrOp{Name: []byte(name), Value: value}}})
}

// RmXattr removes an extended attribute (ErrNoData when absent).
func (op *WriteOp) RmXattr(name string) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_RmXattr{RmXattr: &pb.RmXattrOp{Name: []byte(name)}}})
}

// SetOmap sets omap keys, creating the object if needed.
func (op *WriteOp) SetOmap(pairs map[string][]byte) *WriteOp {
	keys := sortedKeys(pairs) // a deterministic request, whatever the map order
	entries := make([]*pb.OmapEntry, len(keys))
	for i, k := range keys {
		entries[i] = &pb.OmapEntry{Key: []byte(k), Value: pairs[k]}
	}
	return op.add(&pb.SubOp{Op: &pb.SubOp_OmapSetVals{OmapSetVals: &pb.OmapSetValsOp{Entries: entries}}})
}

// RmOmapKeys removes omap keys; absent keys are ignored.
func (op *WriteOp) RmOmapKeys(keys ...string) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_OmapRmKeys{OmapRmKeys: &pb.OmapRmKeysOp{Keys: toBytes(keys)}}})
}

// ClearOmap removes every omap key and the omap header.
func (op *WriteOp) ClearOmap() *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_OmapClear{OmapClear: &pb.OmapClearOp{}}})
}

// SetOmapHeader sets the omap header blob.
func (op *WriteOp) SetOmapHeader(header []byte) *WriteOp {
	return op.add(&pb.SubOp{Op: &pb.SubOp_OmapSetHeader{OmapSetHeader: &pb.OmapSetHeaderOp{Header: header}}})
}

// Len returns the number of steps.
func (op *WriteOp) Len() int { return len(op.ops) }

// Operate runs op on the object oid. On failure the returned *OpError
// names the failed step; nothing of the op was applied.
func (io *IOContext) Operate(ctx context.Context, oid string, op *WriteOp) error {
	if len(op.ops) == 0 {
		return io.opError("operate", oid, io.loc.Load(), -1, &runError{kind: ErrInvalid, msg: "the write op has no steps"})
	}
	_, err := io.execute(ctx, "operate", oid, op.ops)
	return err
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
