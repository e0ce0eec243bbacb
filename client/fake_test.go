package client

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
	"github.com/gorados/gorados/proto/pb"
)

// This file holds the test doubles of the client's unit tests: a map
// source standing for the monitors, and in-process gRPC OSDs sharing one
// in-memory store (replication is not what these tests are about). The
// end-to-end tests under test/e2e use the real daemons.

// fakeMons is a mapSource whose map the test controls. publish installs a
// new authoritative map and, unless held, delivers it to subscribers.
type fakeMons struct {
	mu      sync.Mutex
	m       *cluster.OSDMap
	subs    []chan monclient.MapUpdate
	getMaps int
}

func (f *fakeMons) GetMap(ctx context.Context) (*cluster.OSDMap, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getMaps++
	return f.m, nil
}

func (f *fakeMons) Subscribe(ctx context.Context, have *cluster.OSDMap) <-chan monclient.MapUpdate {
	ch := make(chan monclient.MapUpdate, 16)
	f.mu.Lock()
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, c := range f.subs {
			if c == ch {
				f.subs = append(f.subs[:i], f.subs[i+1:]...)
			}
		}
		close(ch)
	}()
	return ch
}

func (f *fakeMons) Close() error { return nil }

// current returns the authoritative map.
func (f *fakeMons) current() *cluster.OSDMap {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m
}

// publish makes m (its epoch must be the next) the authoritative map and,
// when deliver is set, sends it to the subscribers.
func (f *fakeMons) publish(m *cluster.OSDMap, deliver bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m = m
	if deliver {
		for _, ch := range f.subs {
			ch <- monclient.MapUpdate{Map: m}
		}
	}
}

// edit publishes a copy of the current map changed by fn at the next epoch.
func (f *fakeMons) edit(deliver bool, fn func(m *cluster.OSDMap)) *cluster.OSDMap {
	m := f.current().Clone()
	m.Epoch++
	fn(m)
	f.publish(m, deliver)
	return m
}

const testPool = "data"

// testCrush returns a map of n hosts holding one OSD each and the usual
// replicated rule (one replica per host).
func testCrush(t testing.TB, n int) *crush.Map {
	var b strings.Builder
	b.WriteString("tunable choose_local_tries 0\ntunable choose_local_fallback_tries 0\ntunable choose_total_tries 50\n" +
		"tunable chooseleaf_descend_once 1\ntunable chooseleaf_vary_r 1\ntunable chooseleaf_stable 1\n" +
		"tunable straw_calc_version 1\ntunable allowed_bucket_algs 54\n")
	for i := range n {
		fmt.Fprintf(&b, "device %d osd.%d class hdd\n", i, i)
	}
	b.WriteString("type 0 osd\ntype 1 host\ntype 10 root\n")
	for i := range n {
		fmt.Fprintf(&b, "host host%d {\n\tid %d\n\talg straw2\n\thash 0\n\titem osd.%d weight 1.000\n}\n", i, -2-i, i)
	}
	b.WriteString("root default {\n\tid -1\n\talg straw2\n\thash 0\n")
	for i := range n {
		fmt.Fprintf(&b, "\titem host%d weight 1.000\n", i)
	}
	b.WriteString("}\nrule replicated_rule {\n\tid 0\n\ttype replicated\n\tmin_size 1\n\tmax_size 10\n" +
		"\tstep take default\n\tstep chooseleaf firstn 0 type host\n\tstep emit\n}\n")
	c, err := crush.Compile([]byte(b.String()))
	if err != nil {
		t.Fatalf("compile test CRUSH map: %v\n%s", err, b.String())
	}
	return c
}

// fakeCluster is n fake OSDs behind one fake monitor.
type fakeCluster struct {
	t    testing.TB
	mons *fakeMons
	osds []*fakeOSD

	mu      sync.Mutex
	objects map[objKey]*fakeObject
	done    map[string]*pb.OpReply // executed reqids
	seen    []seenReq              // every Execute received
}

type objKey struct {
	pool     int64
	ns, name string
	key      string
}

type fakeObject struct {
	data   []byte
	mtime  int64
	xattrs map[string][]byte
	omap   map[string][]byte
	header []byte
}

type seenReq struct {
	osd   int32
	reqid string
	epoch uint64
	seed  uint32
}

func newFakeCluster(t testing.TB, n int) *fakeCluster {
	fc := &fakeCluster{t: t, objects: map[objKey]*fakeObject{}, done: map[string]*pb.OpReply{}}
	m := cluster.New(cluster.UUID{1, 2, 3, 4}, time.Unix(1700000000, 0))
	m.Epoch = 1
	m.SetCrush(testCrush(t, n))
	m.SetMaxOSD(int32(n))
	for i := range n {
		o := &fakeOSD{id: int32(i), fc: fc}
		o.start(t, "127.0.0.1:0")
		fc.osds = append(fc.osds, o)
		m.OSDs[i] = cluster.OSD{Exists: true, Up: true, Weight: cluster.WeightIn, PrimaryAffinity: cluster.AffinityDefault,
			Host: fmt.Sprintf("host%d", i), PublicAddr: o.addr}
	}
	p := cluster.NewReplicatedPool(1, testPool, 3, 0, 16)
	m.Pools[p.ID], m.PoolMax = p, p.ID
	fc.mons = &fakeMons{m: m}
	t.Cleanup(func() {
		for _, o := range fc.osds {
			o.stop()
		}
	})
	return fc
}

// connect returns a client of the fake cluster with fast test timings.
func (fc *fakeCluster) connect(cfg Config) *Conn {
	fc.t.Helper()
	if cfg.Monitors == nil {
		cfg.Monitors = []string{"fake:0"}
	}
	if cfg.MapWait == 0 {
		cfg.MapWait = 20 * time.Millisecond
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMin, cfg.BackoffMax = time.Millisecond, 20*time.Millisecond
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		fc.t.Fatal(err)
	}
	c, err := connect(context.Background(), cfg, fc.mons)
	if err != nil {
		fc.t.Fatal(err)
	}
	fc.t.Cleanup(func() { c.Close() })
	return c
}

// primaryOf returns the acting primary of an object in the authoritative map.
func (fc *fakeCluster) primaryOf(name string) int32 {
	m := fc.mons.current()
	pg, err := m.ObjectToPG(1, name, "", "")
	if err != nil {
		fc.t.Fatal(err)
	}
	_, _, _, p := m.PGToUpActing(pg)
	return p
}

func (fc *fakeCluster) requests() []seenReq {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]seenReq(nil), fc.seen...)
}

// fakeOSD serves the object API from the shared store, answering as a
// real OSD would about primaries and epochs. hook, when set, may answer a
// request instead (returning nil lets it through).
type fakeOSD struct {
	pb.UnimplementedObjectServiceServer
	id   int32
	fc   *fakeCluster
	addr string
	srv  *grpc.Server

	mu   sync.Mutex
	hook func(ctx context.Context, req *pb.OpRequest) *pb.OpReply
}

func (o *fakeOSD) start(t testing.TB, addr string) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	o.addr = lis.Addr().String()
	o.srv = grpc.NewServer(grpc.MaxRecvMsgSize(msgSizeMax))
	pb.RegisterObjectServiceServer(o.srv, o)
	go o.srv.Serve(lis)
}

func (o *fakeOSD) stop() { o.srv.Stop() }

func (o *fakeOSD) setHook(h func(ctx context.Context, req *pb.OpRequest) *pb.OpReply) {
	o.mu.Lock()
	o.hook = h
	o.mu.Unlock()
}

// check answers the op-level conditions a real OSD checks before
// executing: fsid, pool, epoch and primary.
func (o *fakeOSD) check(fsid string, pool int64, pgOf func(m *cluster.OSDMap) (cluster.PGID, error)) (pb.Result, uint64) {
	m := o.fc.mons.current()
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

func (o *fakeOSD) Execute(ctx context.Context, req *pb.OpRequest) (*pb.OpReply, error) {
	rid := fmt.Sprintf("%d.%d.%d", req.GetReqid().GetClientId(), req.GetReqid().GetIncarnation(), req.GetReqid().GetTid())
	o.fc.mu.Lock()
	o.fc.seen = append(o.fc.seen, seenReq{osd: o.id, reqid: rid, epoch: req.GetEpoch(), seed: req.GetPgSeed()})
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

func (o *fakeOSD) ListObjects(ctx context.Context, req *pb.ListObjectsRequest) (*pb.ListObjectsReply, error) {
	pg := cluster.PGID{Pool: req.GetPool(), Seed: req.GetPgSeed()}
	res, epoch := o.check(req.GetFsid(), req.GetPool(), func(*cluster.OSDMap) (cluster.PGID, error) { return pg, nil })
	if res != pb.Result_RESULT_OK {
		return &pb.ListObjectsReply{Result: res, OsdEpoch: epoch}, nil
	}
	return o.fc.list(req, epoch), nil
}

// fakePage is the fake's page size, small so that tests page.
const fakePage = 7

func (fc *fakeCluster) list(req *pb.ListObjectsRequest, epoch uint64) *pb.ListObjectsReply {
	m := fc.mons.current()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var names []objKey
	for k := range fc.objects {
		pg, _ := m.ObjectToPG(k.pool, k.name, k.ns, k.key)
		if k.pool == req.GetPool() && pg.Seed == req.GetPgSeed() && (req.GetAllNamespaces() || k.ns == string(req.GetNamespace())) {
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].ns+"\x00"+names[i].name < names[j].ns+"\x00"+names[j].name })
	rep := &pb.ListObjectsReply{OsdEpoch: epoch}
	for _, k := range names {
		if c := k.ns + "\x00" + k.name; len(req.GetCursor()) > 0 && c <= string(req.GetCursor()) {
			continue
		}
		if len(rep.Objects) == fakePage {
			last := rep.Objects[len(rep.Objects)-1]
			rep.NextCursor = []byte(string(last.Namespace) + "\x00" + string(last.Name))
			break
		}
		rep.Objects = append(rep.Objects, &pb.ObjectLocator{Namespace: []byte(k.ns), Key: []byte(k.key), Name: []byte(k.name)})
	}
	return rep
}

// execute runs an op on the shared store, once per reqid.
func (fc *fakeCluster) execute(req *pb.OpRequest, rid string, epoch uint64) *pb.OpReply {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if rep, ok := fc.done[rid]; ok {
		dup := proto.Clone(rep).(*pb.OpReply)
		dup.Duplicate = true
		return dup
	}
	loc := req.GetObject()
	key := objKey{pool: req.GetPool(), ns: string(loc.GetNamespace()), name: string(loc.GetName()), key: string(loc.GetKey())}
	var cur *fakeObject
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

func (o *fakeObject) clone() *fakeObject {
	c := &fakeObject{data: bytes.Clone(o.data), mtime: o.mtime, header: bytes.Clone(o.header),
		xattrs: map[string][]byte{}, omap: map[string][]byte{}}
	for k, v := range o.xattrs {
		c.xattrs[k] = v
	}
	for k, v := range o.omap {
		c.omap[k] = v
	}
	return c
}

func newFakeObject() *fakeObject {
	return &fakeObject{xattrs: map[string][]byte{}, omap: map[string][]byte{}, mtime: 1}
}

// applySubOp applies one sub-op to o (nil: absent) and returns its result
// and the object after it.
func applySubOp(o *fakeObject, op *pb.SubOp) (*pb.SubOpResult, *fakeObject) {
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
		o = newFakeObject()
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
func applyRead(o *fakeObject, op *pb.SubOp) (r *pb.SubOpResult, next *fakeObject, handled bool) {
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

func omapPage(o *fakeObject, after, prefix []byte, max uint32) ([]*pb.OmapEntry, bool) {
	if max == 0 || max > fakePage {
		max = fakePage
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
