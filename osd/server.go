package osd

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/fastrpc"
	"github.com/gorados/gorados/osd/objop"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// ObjectServer serves the public object API (pb.ObjectService).
type ObjectServer struct {
	pb.UnimplementedObjectServiceServer
	o *OSD
}

// ClusterServer serves the cluster-network API (pb.OSDClusterServer).
type ClusterServer struct {
	pb.UnimplementedOSDClusterServer
	o *OSD
}

// ObjectServer returns the public API server of o.
func (o *OSD) ObjectServer() *ObjectServer { return &ObjectServer{o: o} }

// FastPublic returns the fastrpc server of o's public address: Execute, as
// ObjectServer serves it over gRPC. Serve it with fastrpc.Split on the
// listener of the gRPC server.
func (o *OSD) FastPublic() *fastrpc.Server {
	s, srv := fastrpc.NewServer(maxMessageBytes, o.log), o.ObjectServer()
	s.Handle(fastrpc.MethodExecute, fastrpc.Handler{New: func() proto.Message { return &pb.OpRequest{} },
		Serve: func(ctx context.Context, m proto.Message) (proto.Message, error) {
			return srv.Execute(ctx, m.(*pb.OpRequest))
		}})
	return s
}

// FastCluster returns the fastrpc server of o's cluster address: RepOp, as
// ClusterServer serves it over gRPC.
func (o *OSD) FastCluster() *fastrpc.Server {
	s, srv := fastrpc.NewServer(maxMessageBytes, o.log), o.ClusterServer()
	s.Handle(fastrpc.MethodRepOp, fastrpc.Handler{New: func() proto.Message { return &pb.RepOpRequest{} },
		Serve: func(ctx context.Context, m proto.Message) (proto.Message, error) {
			return srv.RepOp(ctx, m.(*pb.RepOpRequest))
		}})
	return s
}

// ClusterServer returns the cluster API server of o.
func (o *OSD) ClusterServer() *ClusterServer { return &ClusterServer{o: o} }

// target is where a client request lands after the map checks.
type target struct {
	m    *cluster.OSDMap
	pool *cluster.Pool
	h    *pgHandle
}

// route runs the checks every client request shares: cluster, map epoch,
// pool, PG, primary. A non-nil reply answers the request.
func (o *OSD) route(ctx context.Context, fsid string, epoch uint64, pool int64, seed uint32, name, key, ns []byte) (target, *pb.OpReply) {
	fail := func(r pb.Result, format string, args ...any) (target, *pb.OpReply) {
		return target{}, &pb.OpReply{Result: r, Message: fmt.Sprintf(format, args...), OsdEpoch: o.Epoch()}
	}
	if fsid != o.cfg.FSID.String() {
		return fail(pb.Result_RESULT_WRONG_CLUSTER, "request for cluster %q reached osd.%d of cluster %s: check the monitor addresses", fsid, o.cfg.ID, o.cfg.FSID)
	}
	if epoch > o.Epoch() && !o.waitForEpoch(ctx, epoch) {
		return fail(pb.Result_RESULT_AGAIN, "osd.%d has map e%d, older than the client's e%d: retry shortly", o.cfg.ID, o.Epoch(), epoch)
	}
	m := o.Map()
	if m == nil {
		return fail(pb.Result_RESULT_AGAIN, "osd.%d has no map yet: retry shortly", o.cfg.ID)
	}
	p := m.Pools[pool]
	if p == nil {
		return fail(pb.Result_RESULT_NO_SUCH_POOL, "pool %d does not exist in map e%d", pool, m.Epoch)
	}
	id := cluster.PGID{Pool: pool, Seed: seed}
	if name != nil {
		k := key
		if len(k) == 0 {
			k = name
		}
		id = m.RawPGToPG(cluster.PGID{Pool: pool, Seed: p.HashKey(string(k), string(ns))})
		if id.Seed != seed {
			return fail(pb.Result_RESULT_STALE_EPOCH, "the object is in PG %s in map e%d, not %d.%x: refresh the map and resend", id, m.Epoch, pool, seed)
		}
	} else if seed >= p.PGNum {
		return fail(pb.Result_RESULT_INVALID_ARGUMENT, "pool %d has %d PGs; seed %x is out of range", pool, p.PGNum, seed)
	}
	if _, _, _, primary := m.PGToUpActing(id); primary != o.cfg.ID {
		return fail(pb.Result_RESULT_NOT_PRIMARY, "PG %s's primary in map e%d is osd.%d, not osd.%d: refresh the map and resend", id, m.Epoch, primary, o.cfg.ID)
	}
	h := o.handle(id)
	if h == nil {
		return fail(pb.Result_RESULT_AGAIN, "PG %s is not instantiated on osd.%d yet: retry shortly", id, o.cfg.ID)
	}
	return target{m: m, pool: p, h: h}, nil
}

// Execute implements pb.ObjectServiceServer.
func (s *ObjectServer) Execute(ctx context.Context, req *pb.OpRequest) (*pb.OpReply, error) {
	o := s.o
	start := time.Now()
	loc := req.GetObject()
	kind, f := objop.Validate(loc, req.GetOps(), o.cfg.Limits)
	if f != nil {
		return &pb.OpReply{Result: f.Result, Message: f.Message, OsdEpoch: o.Epoch()}, nil
	}
	if req.GetReqid() == nil && kind == objop.KindWrite {
		return &pb.OpReply{Result: pb.Result_RESULT_INVALID_ARGUMENT, Message: "a write needs a reqid", OsdEpoch: o.Epoch()}, nil
	}
	tg, r := o.route(ctx, req.GetFsid(), req.GetEpoch(), req.GetPool(), req.GetPgSeed(), loc.GetName(), loc.GetKey(), loc.GetNamespace())
	if r != nil {
		return r, nil
	}
	obj := storeObject(tg.pool, loc)
	op := &clientOp{ctx: ctx, req: req, kind: kind, obj: obj, key: objectKey(obj), reply: make(chan *pb.OpReply, 1), start: start,
		admitted: make(chan struct{})}
	tg.h.post(func() { tg.h.handleOp(op) })
	select {
	case r := <-op.reply:
		return r, nil
	case <-op.admitted:
		return tg.h.read(op), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-o.ctx.Done():
		return &pb.OpReply{Result: pb.Result_RESULT_AGAIN, Message: "the OSD is stopping: resend", OsdEpoch: o.Epoch()}, nil
	}
}

func objectKey(o store.ObjectID) string {
	return o.Namespace + "\x00" + o.Key + "\x00" + o.Name
}

// ListObjects implements pb.ObjectServiceServer.
func (s *ObjectServer) ListObjects(ctx context.Context, req *pb.ListObjectsRequest) (*pb.ListObjectsReply, error) {
	o := s.o
	tg, r := o.route(ctx, req.GetFsid(), req.GetEpoch(), req.GetPool(), req.GetPgSeed(), nil, nil, nil)
	if r != nil {
		return &pb.ListObjectsReply{Result: r.Result, Message: r.Message, OsdEpoch: r.OsdEpoch}, nil
	}
	if st := pg.State(tg.h.state.Load()); st != pg.StateActive {
		return &pb.ListObjectsReply{Result: pb.Result_RESULT_AGAIN, OsdEpoch: o.Epoch(),
			Message: fmt.Sprintf("PG %s is %s, not active yet: retry shortly", tg.h.id, st)}, nil
	}
	limit := int(req.GetMaxEntries())
	if limit <= 0 || limit > store.DefaultListLimit {
		limit = store.DefaultListLimit
	}
	page, err := o.st.ListObjects(ctx, tg.h.coll, store.ListCursor(req.GetCursor()), limit)
	if err != nil {
		return &pb.ListObjectsReply{Result: pb.Result_RESULT_IO_ERROR, Message: err.Error(), OsdEpoch: o.Epoch()}, nil
	}
	reply := &pb.ListObjectsReply{OsdEpoch: o.Epoch(), NextCursor: []byte(page.Next)}
	for _, obj := range page.Objects {
		if req.GetAllNamespaces() || obj.Namespace == string(req.GetNamespace()) {
			reply.Objects = append(reply.Objects, &pb.ObjectLocator{
				Namespace: []byte(obj.Namespace), Key: []byte(obj.Key), Name: []byte(obj.Name)})
		}
	}
	return reply, nil
}

// RepOp implements pb.OSDClusterServer.
func (s *ClusterServer) RepOp(ctx context.Context, req *pb.RepOpRequest) (*pb.RepOpReply, error) {
	o := s.o
	refuse := func(r pb.Result, format string, args ...any) (*pb.RepOpReply, error) {
		return &pb.RepOpReply{Result: r, Message: fmt.Sprintf(format, args...), OsdEpoch: o.Epoch()}, nil
	}
	if req.GetFsid() != o.cfg.FSID.String() {
		return refuse(pb.Result_RESULT_WRONG_CLUSTER, "repop from cluster %q reached osd.%d of cluster %s", req.GetFsid(), o.cfg.ID, o.cfg.FSID)
	}
	if !o.waitForEpoch(ctx, req.GetEpoch()) {
		return refuse(pb.Result_RESULT_AGAIN, "osd.%d has map e%d, older than the primary's e%d", o.cfg.ID, o.Epoch(), req.GetEpoch())
	}
	entry, err := pg.DecodeEntry(req.GetLogEntry())
	if err != nil {
		return refuse(pb.Result_RESULT_INVALID_ARGUMENT, "%v", err)
	}
	h := o.handle(cluster.PGID{Pool: req.GetPool(), Seed: req.GetPgSeed()})
	if h == nil {
		return refuse(pb.Result_RESULT_AGAIN, "PG %d.%x is not instantiated on osd.%d", req.GetPool(), req.GetPgSeed(), o.cfg.ID)
	}
	r := &repOp{req: req, entry: entry, reply: make(chan *pb.RepOpReply, 1)}
	h.post(func() { h.handleRepOp(r) })
	select {
	case rep := <-r.reply:
		return rep, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-o.ctx.Done():
		return refuse(pb.Result_RESULT_AGAIN, "osd.%d is stopping", o.cfg.ID)
	}
}

// Peering implements pb.OSDClusterServer.
func (s *ClusterServer) Peering(ctx context.Context, msg *pb.PeeringMessage) (*pb.PeeringAck, error) {
	o := s.o
	if msg.GetFsid() != o.cfg.FSID.String() {
		return &pb.PeeringAck{Result: pb.Result_RESULT_WRONG_CLUSTER, OsdEpoch: o.Epoch(),
			Message: fmt.Sprintf("peering message from cluster %q reached osd.%d of cluster %s", msg.GetFsid(), o.cfg.ID, o.cfg.FSID)}, nil
	}
	if !o.waitForEpoch(ctx, msg.GetEpoch()) {
		return &pb.PeeringAck{Result: pb.Result_RESULT_AGAIN, OsdEpoch: o.Epoch()}, nil
	}
	h := o.handle(cluster.PGID{Pool: msg.GetPool(), Seed: msg.GetPgSeed()})
	if h == nil {
		return &pb.PeeringAck{Result: pb.Result_RESULT_AGAIN, OsdEpoch: o.Epoch(), Message: "PG not instantiated here"}, nil
	}
	h.post(func() { h.peeringEvent(msg) })
	return &pb.PeeringAck{OsdEpoch: o.Epoch()}, nil
}

// Pull implements pb.OSDClusterServer: the whole state of one object.
func (s *ClusterServer) Pull(ctx context.Context, req *pb.PullRequest) (*pb.ObjectState, error) {
	o := s.o
	if req.GetFsid() != o.cfg.FSID.String() {
		return &pb.ObjectState{Result: pb.Result_RESULT_WRONG_CLUSTER, Message: "pull from another cluster"}, nil
	}
	h := o.handle(cluster.PGID{Pool: req.GetPool(), Seed: req.GetPgSeed()})
	if h == nil {
		return &pb.ObjectState{Result: pb.Result_RESULT_AGAIN, Message: "PG not instantiated here"}, nil
	}
	st, err := h.readObjectState(ctx, req.GetObject())
	if err != nil {
		return &pb.ObjectState{Result: pb.Result_RESULT_IO_ERROR, Message: err.Error()}, nil
	}
	return st, nil
}

// Recover implements pb.OSDClusterServer: one recovery step on a replica.
func (s *ClusterServer) Recover(ctx context.Context, req *pb.RecoverRequest) (*pb.RecoverReply, error) {
	o := s.o
	if req.GetFsid() != o.cfg.FSID.String() {
		return &pb.RecoverReply{Result: pb.Result_RESULT_WRONG_CLUSTER, Message: "recovery from another cluster", OsdEpoch: o.Epoch()}, nil
	}
	if !o.waitForEpoch(ctx, req.GetEpoch()) {
		return &pb.RecoverReply{Result: pb.Result_RESULT_AGAIN, OsdEpoch: o.Epoch()}, nil
	}
	h := o.handle(cluster.PGID{Pool: req.GetPool(), Seed: req.GetPgSeed()})
	if h == nil {
		return &pb.RecoverReply{Result: pb.Result_RESULT_AGAIN, Message: "PG not instantiated here", OsdEpoch: o.Epoch()}, nil
	}
	done := make(chan *pb.RecoverReply, 1)
	h.post(func() {
		h.handleRecover(req, func(r pb.Result, msg string) {
			done <- &pb.RecoverReply{Result: r, Message: msg, OsdEpoch: o.Epoch(), LastUpdate: eversionPB(h.core.Info().LastUpdate)}
		})
	})
	select {
	case r := <-done:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-o.ctx.Done():
		return &pb.RecoverReply{Result: pb.Result_RESULT_AGAIN, Message: "stopping", OsdEpoch: o.Epoch()}, nil
	}
}

// ListPG implements pb.OSDClusterServer: one page of this OSD's objects of
// a PG, whatever the PG's state (backfill sources are replicas).
func (s *ClusterServer) ListPG(ctx context.Context, req *pb.ListPGRequest) (*pb.ListPGReply, error) {
	o := s.o
	if req.GetFsid() != o.cfg.FSID.String() {
		return &pb.ListPGReply{Result: pb.Result_RESULT_WRONG_CLUSTER, Message: "list from another cluster"}, nil
	}
	h := o.handle(cluster.PGID{Pool: req.GetPool(), Seed: req.GetPgSeed()})
	if h == nil {
		return &pb.ListPGReply{Result: pb.Result_RESULT_AGAIN, Message: "PG not instantiated here"}, nil
	}
	page, err := o.st.ListObjects(ctx, h.coll, store.ListCursor(req.GetCursor()), 0)
	if err != nil {
		return &pb.ListPGReply{Result: pb.Result_RESULT_IO_ERROR, Message: err.Error()}, nil
	}
	reply := &pb.ListPGReply{NextCursor: []byte(page.Next)}
	for _, obj := range page.Objects {
		reply.Objects = append(reply.Objects, &pb.ObjectLocator{
			Namespace: []byte(obj.Namespace), Key: []byte(obj.Key), Name: []byte(obj.Name)})
	}
	return reply, nil
}
