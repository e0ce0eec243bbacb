package osd_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/osd"
	"github.com/gorados/gorados/proto/pb"
)

// rawClient drives the OSD gRPC API directly, as a client library would:
// it computes the primary from its map, refreshes the map when an OSD says
// so, and resends the same request (same reqid) until a final answer.
type rawClient struct {
	c    *testCluster
	pool int64
	mu   sync.Mutex
	m    *cluster.OSDMap
	conn map[string]*grpc.ClientConn
	tid  atomic.Uint64
	id   uint64
}

func (c *testCluster) client(pool int64) *rawClient {
	rc := &rawClient{c: c, pool: pool, conn: map[string]*grpc.ClientConn{}, id: uint64(time.Now().UnixNano())}
	rc.refresh()
	c.t.Cleanup(func() {
		for _, cc := range rc.conn {
			cc.Close()
		}
	})
	return rc
}

func (rc *rawClient) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := rc.c.mc.GetMap(ctx)
	if err == nil {
		rc.mu.Lock()
		rc.m = m
		rc.mu.Unlock()
	}
}

func (rc *rawClient) curMap() *cluster.OSDMap {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.m
}

func (rc *rawClient) osdClient(addr string) pb.ObjectServiceClient {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cc := rc.conn[addr]
	if cc == nil {
		var err error
		cc, err = grpc.NewClient(addr, osd.DialOptions()...)
		if err != nil {
			panic(err)
		}
		rc.conn[addr] = cc
	}
	return pb.NewObjectServiceClient(cc)
}

// request builds an op with a fresh reqid, targeted with the current map.
func (rc *rawClient) request(name string, ops ...*pb.SubOp) *pb.OpRequest {
	return &pb.OpRequest{Reqid: &pb.ReqID{ClientId: rc.id, Incarnation: 1, Tid: rc.tid.Add(1)},
		Pool: rc.pool, Object: &pb.ObjectLocator{Name: []byte(name)}, Ops: ops}
}

// target fills the map-dependent fields of req and returns the primary's
// public address.
func (rc *rawClient) target(req *pb.OpRequest) (string, bool) {
	m := rc.curMap()
	id, err := m.ObjectToPG(rc.pool, string(req.Object.Name), string(req.Object.Namespace), string(req.Object.Key))
	if err != nil {
		return "", false
	}
	_, _, _, primary := m.PGToUpActing(id)
	if primary < 0 || !m.IsUp(primary) {
		return "", false
	}
	req.Fsid, req.Epoch, req.PgSeed = m.FSID.String(), uint64(m.Epoch), id.Seed
	return m.OSDs[primary].PublicAddr, true
}

// send sends req once to addr.
func (rc *rawClient) send(addr string, req *pb.OpRequest) (*pb.OpReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return rc.osdClient(addr).Execute(ctx, req)
}

// do executes req until an answer other than "retry elsewhere or later",
// for up to 60 s.
func (rc *rawClient) do(t testing.TB, req *pb.OpRequest) *pb.OpReply {
	t.Helper()
	r, err := rc.try(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// try is do without a testing.T, for writer goroutines.
func (rc *rawClient) try(req *pb.OpRequest) (*pb.OpReply, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		addr, ok := rc.target(req)
		if ok {
			r, err := rc.send(addr, req)
			if err == nil && !retryable(r.GetResult()) {
				return r, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("op on %q got no final answer within 60s", req.Object.Name)
		}
		time.Sleep(50 * time.Millisecond)
		rc.refresh()
	}
}

func retryable(r pb.Result) bool {
	return r == pb.Result_RESULT_AGAIN || r == pb.Result_RESULT_NOT_PRIMARY || r == pb.Result_RESULT_STALE_EPOCH
}

func mustOK(t testing.TB, what string, r *pb.OpReply) *pb.OpReply {
	t.Helper()
	if r.GetResult() != pb.Result_RESULT_OK {
		t.Fatalf("%s: %s: %s", what, r.GetResult(), r.GetMessage())
	}
	return r
}

func writeFull(data []byte) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: data}}}
}
func appendOp(data []byte) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Append{Append: &pb.AppendOp{Data: data}}}
}
func readAll() *pb.SubOp { return &pb.SubOp{Op: &pb.SubOp_Read{Read: &pb.ReadOp{}}} }
