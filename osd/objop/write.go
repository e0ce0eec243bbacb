package objop

import (
	"errors"

	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/proto/pb"
)

// Plan is a write op resolved against the object's current state.
type Plan struct {
	// Txn is the resolved transaction to apply (on the primary and, as
	// is, on every replica).
	Txn []*pb.TxOp
	// Results holds one result per sub-op.
	Results []*pb.SubOpResult
	// LogOp is OpDelete when the op leaves a formerly existing object
	// removed, OpModify otherwise.
	LogOp pg.OpType
	// Size is the object's size after the op.
	Size uint64
}

// sim tracks the object's state as the op's sub-ops change it, reading the
// committed state through r only for what the op has not overwritten yet.
type sim struct {
	r        Reader
	lim      Limits
	mtime    int64
	existed  bool
	exists   bool
	size     uint64
	cleared  bool            // removed during this op: no committed xattrs
	xattrs   map[string]bool // presence overlay
	dataLen  uint64
	omapKeys int
	txn      []*pb.TxOp
}

// PlanWrite resolves a write op (already checked by Validate). mtime is the
// modification time the primary stamps on the object. On failure nothing
// is to be applied: the failing sub-op carries the result, later ones
// NOT_EXECUTED.
func PlanWrite(r Reader, ops []*pb.SubOp, lim Limits, mtime int64) (*Plan, *Failure) {
	s := &sim{r: r, lim: lim, mtime: mtime, xattrs: map[string]bool{}}
	meta, err := r.Stat()
	switch {
	case err == nil:
		s.existed, s.exists, s.size = true, true, meta.Size
	case !errors.Is(err, ErrNoObject):
		return nil, readFailure(err, "stat before write")
	}
	results := make([]*pb.SubOpResult, len(ops))
	for i, op := range ops {
		if f := s.apply(op); f != nil {
			results[i] = &pb.SubOpResult{Result: f.Result}
			notExecuted(results, i+1)
			return &Plan{Results: results}, f
		}
		results[i] = &pb.SubOpResult{}
	}
	logOp := pg.OpModify
	if s.existed && !s.exists {
		logOp = pg.OpDelete
	}
	return &Plan{Txn: s.txn, Results: results, LogOp: logOp, Size: s.size}, nil
}

func (s *sim) emit(op *pb.TxOp) {
	op.MtimeUnixNano = s.mtime
	s.txn = append(s.txn, op)
}

// touch creates the object if the op has not made it exist yet.
func (s *sim) touch() {
	if !s.exists {
		s.emit(&pb.TxOp{Op: &pb.TxOp_Touch{Touch: &pb.TouchTx{}}})
		s.exists = true
		s.size = 0
	}
}

func (s *sim) apply(op *pb.SubOp) *Failure {
	switch o := op.GetOp().(type) {
	case *pb.SubOp_Write:
		return s.write(o.Write.GetOffset(), o.Write.GetData(), "write")
	case *pb.SubOp_WriteFull:
		return s.writeFull(o.WriteFull.GetData())
	case *pb.SubOp_Append:
		return s.write(s.size, o.Append.GetData(), "append")
	case *pb.SubOp_Truncate:
		return s.truncate(o.Truncate.GetSize())
	case *pb.SubOp_Remove:
		return s.remove()
	case *pb.SubOp_Create:
		return s.create(o.Create.GetExclusive())
	case *pb.SubOp_SetXattr:
		return s.setXattr(o.SetXattr)
	case *pb.SubOp_RmXattr:
		return s.rmXattr(string(o.RmXattr.GetName()))
	}
	return s.applyOmap(op)
}

// addData counts the op's data bytes against the per-op write limit.
func (s *sim) addData(n int) *Failure {
	s.dataLen += uint64(n)
	if s.dataLen > s.lim.WriteSize {
		return fail(pb.Result_RESULT_TOO_BIG, "op carries %d data bytes, over the %d-byte write limit: split it", s.dataLen, s.lim.WriteSize)
	}
	return nil
}

func (s *sim) write(off uint64, data []byte, what string) *Failure {
	end := off + uint64(len(data))
	if end < off || end > s.lim.ObjectSize {
		return fail(pb.Result_RESULT_TOO_BIG, "%s of %d bytes at offset %d would end past the %d-byte object size limit",
			what, len(data), off, s.lim.ObjectSize)
	}
	if f := s.addData(len(data)); f != nil {
		return f
	}
	s.touch()
	if len(data) > 0 {
		s.emit(&pb.TxOp{Op: &pb.TxOp_Write{Write: &pb.WriteOp{Offset: off, Data: data}}})
		s.size = max(s.size, end)
	}
	return nil
}

func (s *sim) writeFull(data []byte) *Failure {
	if uint64(len(data)) > s.lim.ObjectSize {
		return fail(pb.Result_RESULT_TOO_BIG, "write_full of %d bytes is over the %d-byte object size limit", len(data), s.lim.ObjectSize)
	}
	if f := s.addData(len(data)); f != nil {
		return f
	}
	s.touch()
	if s.size > 0 {
		s.emit(&pb.TxOp{Op: &pb.TxOp_Truncate{Truncate: &pb.TruncateOp{Size: 0}}})
		s.size = 0
	}
	return s.write(0, data, "write_full")
}

func (s *sim) truncate(size uint64) *Failure {
	if size > s.lim.ObjectSize {
		return fail(pb.Result_RESULT_TOO_BIG, "truncate to %d bytes is over the %d-byte object size limit", size, s.lim.ObjectSize)
	}
	s.touch()
	s.emit(&pb.TxOp{Op: &pb.TxOp_Truncate{Truncate: &pb.TruncateOp{Size: size}}})
	s.size = size
	return nil
}

func (s *sim) remove() *Failure {
	if !s.exists {
		return fail(pb.Result_RESULT_NOT_FOUND, "remove: the object does not exist")
	}
	s.emit(&pb.TxOp{Op: &pb.TxOp_Remove{Remove: &pb.RemoveOp{}}})
	s.exists, s.size, s.cleared = false, 0, true
	s.xattrs = map[string]bool{}
	return nil
}

func (s *sim) create(exclusive bool) *Failure {
	if s.exists && exclusive {
		return fail(pb.Result_RESULT_EXISTS, "exclusive create: the object already exists")
	}
	s.touch()
	return nil
}

func (s *sim) setXattr(o *pb.SetXattrOp) *Failure {
	name := string(o.GetName())
	if f := s.checkXattrName(name); f != nil {
		return f
	}
	if len(o.GetValue()) > s.lim.XattrValueLen {
		return fail(pb.Result_RESULT_TOO_BIG, "xattr %q value of %d bytes is over the %d-byte limit", o.GetName(), len(o.GetValue()), s.lim.XattrValueLen)
	}
	s.touch()
	s.emit(&pb.TxOp{Op: &pb.TxOp_SetXattr{SetXattr: &pb.SetXattrOp{Name: o.GetName(), Value: o.GetValue()}}})
	s.xattrs[name] = true
	return nil
}

func (s *sim) checkXattrName(name string) *Failure {
	if name == "" {
		return fail(pb.Result_RESULT_INVALID_ARGUMENT, "xattr name is empty")
	}
	if len(name) > s.lim.XattrNameLen {
		return fail(pb.Result_RESULT_TOO_BIG, "xattr name of %d bytes is over the %d-byte limit", len(name), s.lim.XattrNameLen)
	}
	return nil
}

func (s *sim) rmXattr(name string) *Failure {
	if f := s.checkXattrName(name); f != nil {
		return f
	}
	if !s.exists {
		return fail(pb.Result_RESULT_NOT_FOUND, "rmxattr %q: the object does not exist", name)
	}
	present, known := s.xattrs[name]
	if !known && !s.cleared {
		_, err := s.r.Xattr(name)
		switch {
		case err == nil:
			present = true
		case !errors.Is(err, ErrNoXattr) && !errors.Is(err, ErrNoObject):
			return readFailure(err, "rmxattr "+name)
		}
	}
	if !present {
		return fail(pb.Result_RESULT_NO_DATA, "rmxattr %q: no such xattr", name)
	}
	s.emit(&pb.TxOp{Op: &pb.TxOp_RmXattr{RmXattr: &pb.RmXattrOp{Name: []byte(name)}}})
	s.xattrs[name] = false
	return nil
}
