package client

import (
	"context"
	"time"

	"github.com/gorados/gorados/proto/pb"
)

// ReadOp is a compound read on one object (librados' read operation): its
// steps run in order against one consistent state of the object, served
// by the PG's primary. Each step method returns a value that holds the
// step's answer once IOContext.OperateRead returned without error. The op
// stops at the first failing step.
type ReadOp struct {
	ops   []*pb.SubOp
	fills []func(*pb.SubOpResult)
}

// NewReadOp returns an empty read op.
func NewReadOp() *ReadOp { return &ReadOp{} }

func (op *ReadOp) add(s *pb.SubOp, fill func(*pb.SubOpResult)) {
	op.ops = append(op.ops, s)
	op.fills = append(op.fills, fill)
}

// ReadStep holds the answer of a Read step.
type ReadStep struct {
	// Data holds the bytes read: fewer than asked at the object's end.
	Data []byte
}

// Read reads length bytes at offset (0 reads to the end).
func (op *ReadOp) Read(offset, length uint64) *ReadStep {
	s := &ReadStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_Read{Read: &pb.ReadOp{Offset: offset, Length: length}}},
		func(r *pb.SubOpResult) { s.Data = nonNil(r.GetData()) })
	return s
}

// ObjectStat is an object's size and modification time.
type ObjectStat struct {
	Size    uint64
	ModTime time.Time
}

// StatStep holds the answer of a Stat step.
type StatStep struct{ ObjectStat }

// Stat reads the object's size and modification time.
func (op *ReadOp) Stat() *StatStep {
	s := &StatStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_Stat{Stat: &pb.StatOp{}}}, func(r *pb.SubOpResult) {
		s.Size, s.ModTime = r.GetSize(), time.Unix(0, r.GetMtimeUnixNano())
	})
	return s
}

// XattrStep holds the answer of a GetXattr step.
type XattrStep struct{ Value []byte }

// GetXattr reads one extended attribute (ErrNoData when absent).
func (op *ReadOp) GetXattr(name string) *XattrStep {
	s := &XattrStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_GetXattr{GetXattr: &pb.GetXattrOp{Name: []byte(name)}}},
		func(r *pb.SubOpResult) { s.Value = nonNil(r.GetData()) })
	return s
}

// XattrsStep holds the answer of a GetXattrs step.
type XattrsStep struct{ Xattrs map[string][]byte }

// GetXattrs reads every extended attribute.
func (op *ReadOp) GetXattrs() *XattrsStep {
	s := &XattrsStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_GetXattrs{GetXattrs: &pb.GetXattrsOp{}}}, func(r *pb.SubOpResult) {
		s.Xattrs = make(map[string][]byte, len(r.GetXattrs()))
		for _, x := range r.GetXattrs() {
			s.Xattrs[string(x.GetName())] = nonNil(x.GetValue())
		}
	})
	return s
}

// OmapEntry is one omap key and its value.
type OmapEntry struct {
	Key   string
	Value []byte
}

// OmapValuesStep holds the answer of GetOmapValues or GetOmapValuesByKeys.
type OmapValuesStep struct {
	// Entries are in key order.
	Entries []OmapEntry
	// More is set when the listing stopped at its maximum.
	More bool
}

// GetOmapValues lists up to maxReturn omap pairs (0: the OSD's page limit)
// whose keys sort after startAfter and begin with prefix.
func (op *ReadOp) GetOmapValues(startAfter, prefix string, maxReturn uint32) *OmapValuesStep {
	s := &OmapValuesStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_OmapGetVals{OmapGetVals: &pb.OmapGetValsOp{
		StartAfter: []byte(startAfter), Prefix: []byte(prefix), MaxReturn: maxReturn}}}, s.fill)
	return s
}

// GetOmapValuesByKeys reads the pairs of the given keys that exist.
func (op *ReadOp) GetOmapValuesByKeys(keys ...string) *OmapValuesStep {
	s := &OmapValuesStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_OmapGetValsByKeys{OmapGetValsByKeys: &pb.OmapGetValsByKeysOp{Keys: toBytes(keys)}}}, s.fill)
	return s
}

func (s *OmapValuesStep) fill(r *pb.SubOpResult) {
	s.Entries = make([]OmapEntry, len(r.GetEntries()))
	for i, e := range r.GetEntries() {
		s.Entries[i] = OmapEntry{Key: string(e.GetKey()), Value: nonNil(e.GetValue())}
	}
	s.More = r.GetMore()
}

// OmapKeysStep holds the answer of a GetOmapKeys step.
type OmapKeysStep struct {
	Keys []string
	More bool
}

// GetOmapKeys lists up to maxReturn omap keys (0: the OSD's page limit)
// that sort after startAfter.
func (op *ReadOp) GetOmapKeys(startAfter string, maxReturn uint32) *OmapKeysStep {
	s := &OmapKeysStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_OmapGetKeys{OmapGetKeys: &pb.OmapGetKeysOp{StartAfter: []byte(startAfter), MaxReturn: maxReturn}}},
		func(r *pb.SubOpResult) {
			s.Keys = make([]string, len(r.GetKeys()))
			for i, k := range r.GetKeys() {
				s.Keys[i] = string(k)
			}
			s.More = r.GetMore()
		})
	return s
}

// OmapHeaderStep holds the answer of a GetOmapHeader step.
type OmapHeaderStep struct{ Header []byte }

// GetOmapHeader reads the omap header blob.
func (op *ReadOp) GetOmapHeader() *OmapHeaderStep {
	s := &OmapHeaderStep{}
	op.add(&pb.SubOp{Op: &pb.SubOp_OmapGetHeader{OmapGetHeader: &pb.OmapGetHeaderOp{}}},
		func(r *pb.SubOpResult) { s.Header = nonNil(r.GetHeader()) })
	return s
}

// Len returns the number of steps.
func (op *ReadOp) Len() int { return len(op.ops) }

// OperateRead runs op on the object oid and fills its steps' answers.
func (io *IOContext) OperateRead(ctx context.Context, oid string, op *ReadOp) error {
	if len(op.ops) == 0 {
		return io.opError("operate-read", oid, io.loc.Load(), -1, &runError{kind: ErrInvalid, msg: "the read op has no steps"})
	}
	rep, err := io.execute(ctx, "operate-read", oid, op.ops)
	if err != nil {
		return err
	}
	for i, fill := range op.fills {
		fill(rep.GetResults()[i])
	}
	return nil
}

// nonNil turns a nil slice (protobuf's empty bytes) into an empty one, so
// callers can tell "read, empty" from "not read".
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
