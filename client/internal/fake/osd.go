package fake

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

type objKey struct {
	pool     int64
	ns, name string
	key      string
}

type object struct {
	data   []byte
	mtime  int64
	xattrs map[string][]byte
	omap   map[string][]byte
	header []byte
	// seed caches the object's PG for pgNum (a listing would otherwise
	// hash every object for every page).
	seed, pgNum uint32
}

// Addr returns the OSD's address.
func (o *OSD) Addr() string { return o.addr }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// OSD serves the object API from the shared store, answering as a
// real OSD would about primaries and epochs. hook, when set, may answer a
// request instead (returning nil lets it through).
type OSD struct {
	pb.UnimplementedObjectServiceServer
	id   int32
	fc   *Cluster
	addr string
	srv  *grpc.Server

	mu   sync.Mutex
	hook func(ctx context.Context, req *pb.OpRequest) *pb.OpReply
}

// Start serves the OSD on addr ("127.0.0.1:0" picks a port; a stopped
// OSD restarts on its old address).
func (o *OSD) Start(t testing.TB, addr string) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	o.addr = lis.Addr().String()
	o.srv = grpc.NewServer(grpc.MaxRecvMsgSize(msgSizeMax))
	pb.RegisterObjectServiceServer(o.srv, o)
	go o.srv.Serve(lis)
}

// Stop stops serving (connections are refused until Start).
func (o *OSD) Stop() { o.srv.Stop() }

// SetHook makes h see every Execute first; a non-nil reply answers it.
func (o *OSD) SetHook(h func(ctx context.Context, req *pb.OpRequest) *pb.OpReply) {
	o.mu.Lock()
	o.hook = h
	o.mu.Unlock()
}

// check answers the op-level conditions a real OSD checks before
// executing: fsid, pool, epoch and primary.
func (o *OSD) check(fsid string, pool int64, pgOf func(m *cluster.OSDMap) (cluster.PGID, error)) (pb.Result, uint64) {
	m := o.fc.mon.current()
	if fsid != m.FSID.String() {
		return pb.Result_RESULT_WRONG_CLUSTER, uint64(m.Epoch)
	}
	if m.Pool(pool) == nil {
		return pb.Result_RESULT_NO_SUCH_POOL, uint64(m.Epoch)
	}
	pg, err := pgOf(m)
	if err != nil {
		return pb.Result_RESULT_INVALID_ARGUMENT, uint64(m.Epoch)
	}
	if _, _, _, p := m.PGToUpActing(pg); p != o.id {
		return pb.Result_RESULT_NOT_PRIMARY, uint64(m.Epoch)
	}
	return pb.Result_RESULT_OK, uint64(m.Epoch)
}

// Execute serves a compound op.
func (o *OSD) Execute(ctx context.Context, req *pb.OpRequest) (*pb.OpReply, error) {
	rid := fmt.Sprintf("%d.%d.%d", req.GetReqid().GetClientId(), req.GetReqid().GetIncarnation(), req.GetReqid().GetTid())
	o.fc.mu.Lock()
	o.fc.seen = append(o.fc.seen, Request{OSD: o.id, ReqID: rid, Epoch: req.GetEpoch(), Seed: req.GetPgSeed()})
	o.fc.mu.Unlock()
	o.mu.Lock()
	hook := o.hook
	o.mu.Unlock()
	if hook != nil {
		if rep := hook(ctx, req); rep != nil {
			return rep, nil
		}
	}
	loc := req.GetObject()
	res, epoch := o.check(req.GetFsid(), req.GetPool(), func(m *cluster.OSDMap) (cluster.PGID, error) {
		return m.ObjectToPG(req.GetPool(), string(loc.GetName()), string(loc.GetNamespace()), string(loc.GetKey()))
	})
	if res != pb.Result_RESULT_OK {
		return &pb.OpReply{Result: res, OsdEpoch: epoch, Message: "fake: " + res.String()}, nil
	}
	return o.fc.execute(req, rid, epoch), nil
}

// ListObjects serves a page of a PG listing.
func (o *OSD) ListObjects(ctx context.Context, req *pb.ListObjectsRequest) (*pb.ListObjectsReply, error) {
	pg := cluster.PGID{Pool: req.GetPool(), Seed: req.GetPgSeed()}
	res, epoch := o.check(req.GetFsid(), req.GetPool(), func(*cluster.OSDMap) (cluster.PGID, error) { return pg, nil })
	if res != pb.Result_RESULT_OK {
		return &pb.ListObjectsReply{Result: res, OsdEpoch: epoch}, nil
	}
	return o.fc.list(req, epoch), nil
}

// PageSize is the fake's page size, small so that tests page.
const PageSize = 7

func (fc *Cluster) list(req *pb.ListObjectsRequest, epoch uint64) *pb.ListObjectsReply {
	m := fc.mon.current()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var names []objKey
	for k, o := range fc.objects {
		if o.pgNum != m.Pools[k.pool].PGNum {
			pg, _ := m.ObjectToPG(k.pool, k.name, k.ns, k.key)
			o.seed, o.pgNum = pg.Seed, m.Pools[k.pool].PGNum
		}
		if k.pool == req.GetPool() && o.seed == req.GetPgSeed() && (req.GetAllNamespaces() || k.ns == string(req.GetNamespace())) {
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].ns+"\x00"+names[i].name < names[j].ns+"\x00"+names[j].name })
	rep := &pb.ListObjectsReply{OsdEpoch: epoch}
	for _, k := range names {
		if c := k.ns + "\x00" + k.name; len(req.GetCursor()) > 0 && c <= string(req.GetCursor()) {
			continue
		}
		if len(rep.Objects) == PageSize {
			last := rep.Objects[len(rep.Objects)-1]
			rep.NextCursor = []byte(string(last.Namespace) + "\x00" + string(last.Name))
			break
		}
		rep.Objects = append(rep.Objects, &pb.ObjectLocator{Namespace: []byte(k.ns), Key: []byte(k.key), Name: []byte(k.name)})
	}
	return rep
}

// execute runs an op on the shared store, once per reqid.
func (fc *Cluster) execute(req *pb.OpRequest, rid string, epoch uint64) *pb.OpReply {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if rep, ok := fc.done[rid]; ok {
		dup := proto.Clone(rep).(*pb.OpReply)
		dup.Duplicate = true
		return dup
	}
	loc := req.GetObject()
	key := objKey{pool: req.GetPool(), ns: string(loc.GetNamespace()), name: string(loc.GetName()), key: string(loc.GetKey())}
	var cur *object
	if o := fc.objects[key]; o != nil {
		cur = o.clone()
	}
	rep := &pb.OpReply{OsdEpoch: epoch}
	for i, op := range req.GetOps() {
		r, next := applySubOp(cur, op)
		rep.Results = append(rep.Results, r)
		if r.Result != pb.Result_RESULT_OK {
			rep.Result = r.Result
			for range req.GetOps()[i+1:] {
				rep.Results = append(rep.Results, &pb.SubOpResult{Result: pb.Result_RESULT_NOT_EXECUTED})
			}
			return rep // nothing of the op is applied
		}
		cur = next
	}
	if cur == nil {
		delete(fc.objects, key)
	} else {
		fc.objects[key] = cur
	}
	fc.done[rid] = rep
	return rep
}

func (o *object) clone() *object {
	c := &object{data: bytes.Clone(o.data), mtime: o.mtime, header: bytes.Clone(o.header),
		xattrs: map[string][]byte{}, omap: map[string][]byte{}}
	for k, v := range o.xattrs {
		c.xattrs[k] = v
	}
	for k, v := range o.omap {
		c.omap[k] = v
	}
	return c
}

func newObject() *object {
	return &object{xattrs: map[string][]byte{}, omap: map[string][]byte{}, mtime: 1}
}

// applySubOp applies one sub-op to o (nil: absent) and returns its result
// and the object after it.
func applySubOp(o *object, op *pb.SubOp) (*pb.SubOpResult, *object) {
	ok := &pb.SubOpResult{}
	if r, next, handled := applyRead(o, op); handled {
		return r, next
	}
	if o == nil {
		if _, isRemove := op.GetOp().(*pb.SubOp_Remove); isRemove {
			return &pb.SubOpResult{Result: pb.Result_RESULT_NOT_FOUND}, nil
		}
		if _, isRm := op.GetOp().(*pb.SubOp_RmXattr); isRm {
			return &pb.SubOpResult{Result: pb.Result_RESULT_NOT_FOUND}, nil
		}
		o = newObject()
	} else if c, isCreate := op.GetOp().(*pb.SubOp_Create); isCreate && c.Create.GetExclusive() {
		return &pb.SubOpResult{Result: pb.Result_RESULT_EXISTS}, o
	}
	switch x := op.GetOp().(type) {
	case *pb.SubOp_Write:
		o.data = writeAt(o.data, x.Write.GetData(), x.Write.GetOffset())
	case *pb.SubOp_WriteFull:
		o.data = bytes.Clone(x.WriteFull.GetData())
	case *pb.SubOp_Append:
		o.data = append(o.data, x.Append.GetData()...)
	case *pb.SubOp_Truncate:
		o.data = writeAt(o.data, nil, x.Truncate.GetSize())[:x.Truncate.GetSize()]
	case *pb.SubOp_Remove:
		return ok, nil
	case *pb.SubOp_SetXattr:
		if len(x.SetXattr.GetValue()) > 64<<10 {
			return &pb.SubOpResult{Result: pb.Result_RESULT_TOO_BIG}, o
		}
		o.xattrs[string(x.SetXattr.GetName())] = x.SetXattr.GetValue()
	case *pb.SubOp_RmXattr:
		if _, has := o.xattrs[string(x.RmXattr.GetName())]; !has {
			return &pb.SubOpResult{Result: pb.Result_RESULT_NO_DATA}, o
		}
		delete(o.xattrs, string(x.RmXattr.GetName()))
	case *pb.SubOp_OmapSetVals:
		for _, e := range x.OmapSetVals.GetEntries() {
			o.omap[string(e.GetKey())] = e.GetValue()
		}
	case *pb.SubOp_OmapRmKeys:
		for _, k := range x.OmapRmKeys.GetKeys() {
			delete(o.omap, string(k))
		}
	case *pb.SubOp_OmapClear:
		o.omap, o.header = map[string][]byte{}, nil
	case *pb.SubOp_OmapSetHeader:
		o.header = x.OmapSetHeader.GetHeader()
	}
	o.mtime++
	return ok, o
}

func writeAt(buf, data []byte, off uint64) []byte {
	if end := off + uint64(len(data)); end > uint64(len(buf)) {
		buf = append(buf, make([]byte, end-uint64(len(buf)))...)
	}
	copy(buf[off:], data)
	return buf
}

// applyRead answers the read sub-ops; handled is false for writes.
func applyRead(o *object, op *pb.SubOp) (r *pb.SubOpResult, next *object, handled bool) {
	switch op.GetOp().(type) {
	case *pb.SubOp_Read, *pb.SubOp_Stat, *pb.SubOp_GetXattr, *pb.SubOp_GetXattrs, *pb.SubOp_OmapGetVals,
		*pb.SubOp_OmapGetKeys, *pb.SubOp_OmapGetValsByKeys, *pb.SubOp_OmapGetHeader:
	default:
		return nil, o, false
	}
	if o == nil {
		return &pb.SubOpResult{Result: pb.Result_RESULT_NOT_FOUND}, nil, true
	}
	r = &pb.SubOpResult{}
	switch x := op.GetOp().(type) {
	case *pb.SubOp_Read:
		off, n := min(x.Read.GetOffset(), uint64(len(o.data))), x.Read.GetLength()
		end := uint64(len(o.data))
		if n > 0 && off+n < end {
			end = off + n
		}
		r.Data = o.data[off:end]
	case *pb.SubOp_Stat:
		r.Size, r.MtimeUnixNano = uint64(len(o.data)), o.mtime
	case *pb.SubOp_GetXattr:
		v, has := o.xattrs[string(x.GetXattr.GetName())]
		if !has {
			return &pb.SubOpResult{Result: pb.Result_RESULT_NO_DATA}, o, true
		}
		r.Data = v
	case *pb.SubOp_GetXattrs:
		for _, k := range sortedKeys(o.xattrs) {
			r.Xattrs = append(r.Xattrs, &pb.Xattr{Name: []byte(k), Value: o.xattrs[k]})
		}
	case *pb.SubOp_OmapGetVals:
		r.Entries, r.More = omapPage(o, x.OmapGetVals.GetStartAfter(), x.OmapGetVals.GetPrefix(), x.OmapGetVals.GetMaxReturn())
	case *pb.SubOp_OmapGetKeys:
		var es []*pb.OmapEntry
		es, r.More = omapPage(o, x.OmapGetKeys.GetStartAfter(), nil, x.OmapGetKeys.GetMaxReturn())
		for _, e := range es {
			r.Keys = append(r.Keys, e.Key)
		}
	case *pb.SubOp_OmapGetValsByKeys:
		for _, k := range x.OmapGetValsByKeys.GetKeys() {
			if v, has := o.omap[string(k)]; has {
				r.Entries = append(r.Entries, &pb.OmapEntry{Key: k, Value: v})
			}
		}
	case *pb.SubOp_OmapGetHeader:
		r.Header = o.header
	}
	return r, o, true
}

func omapPage(o *object, after, prefix []byte, max uint32) ([]*pb.OmapEntry, bool) {
	if max == 0 || max > PageSize {
		max = PageSize
	}
	var out []*pb.OmapEntry
	for _, k := range sortedKeys(o.omap) {
		if (len(after) > 0 && k <= string(after)) || !strings.HasPrefix(k, string(prefix)) {
			continue
		}
		if len(out) == int(max) {
			return out, true
		}
		out = append(out, &pb.OmapEntry{Key: []byte(k), Value: o.omap[k]})
	}
	return out, false
}
