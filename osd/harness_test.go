package osd

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
	"github.com/gorados/gorados/internal/fastrpc"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// testCluster runs n OSDs in this process, each with a real store in a
// temporary directory and real gRPC servers on loopback (separate public
// and cluster listeners), fed with maps built here instead of by monitors.
type testCluster struct {
	t       testing.TB
	fsid    cluster.UUID
	m       *cluster.OSDMap
	osds    []*testOSD
	clients map[string]pb.ObjectServiceClient
	tid     uint64
	limits  pg.LogLimits // zero: defaults
}

type testOSD struct {
	id      int32
	dir     string
	st      *store.Store
	o       *OSD
	servers []*grpc.Server
	pub     string
	clu     string
}

// crushText builds a CRUSH map with one host per OSD and a rule that puts
// replicas on distinct hosts.
func crushText(n int) string {
	var b strings.Builder
	b.WriteString("tunable choose_total_tries 50\ntunable chooseleaf_descend_once 1\ntunable chooseleaf_vary_r 1\ntunable chooseleaf_stable 1\n")
	for i := range n {
		fmt.Fprintf(&b, "device %d osd.%d class hdd\n", i, i)
	}
	b.WriteString("type 0 osd\ntype 1 host\ntype 2 root\n")
	for i := range n {
		fmt.Fprintf(&b, "host h%d {\n\tid %d\n\talg straw2\n\thash 0\n\titem osd.%d weight 1.000\n}\n", i, -2-i, i)
	}
	fmt.Fprintf(&b, "root default {\n\tid %d\n\talg straw2\n\thash 0\n", -2-n)
	for i := range n {
		fmt.Fprintf(&b, "\titem h%d weight 1.000\n", i)
	}
	b.WriteString("}\nrule replicated_rule {\n\tid 0\n\ttype replicated\n\tmin_size 1\n\tmax_size 10\n\tstep take default\n\tstep chooseleaf firstn 0 type host\n\tstep emit\n}\n")
	return b.String()
}

func newTestCluster(t testing.TB, n int, pgNum uint32) *testCluster {
	return newTestClusterWith(t, n, pgNum, pg.LogLimits{})
}

// newTestClusterWith is newTestCluster with PG log limits.
func newTestClusterWith(t testing.TB, n int, pgNum uint32, limits pg.LogLimits) *testCluster {
	t.Helper()
	c := &testCluster{t: t, fsid: cluster.UUID{1, 2, 3, 4}, clients: map[string]pb.ObjectServiceClient{}, limits: limits}
	cm, err := crush.Compile([]byte(crushText(n)))
	if err != nil {
		t.Fatalf("compile CRUSH map: %v", err)
	}
	m := cluster.New(c.fsid, time.Unix(0, 0))
	m.SetCrush(cm)
	p := cluster.NewReplicatedPool(1, "rbd", 3, 0, pgNum)
	m.Pools[1], m.PoolMax = p, 1
	m.SetMaxOSD(int32(n))
	for i := range n {
		c.osds = append(c.osds, c.startOSD(int32(i), t.TempDir(), true))
	}
	for _, to := range c.osds {
		m.OSDs[to.id] = cluster.OSD{Exists: true, Up: true, Weight: cluster.WeightIn, PrimaryAffinity: cluster.AffinityDefault,
			PublicAddr: to.pub, ClusterAddr: to.clu, Host: fmt.Sprintf("h%d", to.id), UpFrom: 1}
	}
	m.Epoch = 1
	c.setMap(m)
	t.Cleanup(c.stop)
	return c
}

func (c *testCluster) startOSD(id int32, dir string, create bool) *testOSD {
	t := c.t
	open := store.Open
	if create {
		open = store.Create
	}
	st, err := open(dir, store.Options{})
	if err != nil {
		t.Fatalf("osd.%d store: %v", id, err)
	}
	o, err := New(Config{ID: id, FSID: c.fsid, Store: st, Tick: 50 * time.Millisecond, MapWait: time.Second, LogLimits: c.limits,
		Fatal: func(err error) { t.Errorf("osd.%d fatal: %v", id, err) }})
	if err != nil {
		t.Fatalf("osd.%d: %v", id, err)
	}
	o.Start()
	to := &testOSD{id: id, dir: dir, st: st, o: o}
	to.pub = to.serve(t, o.FastPublic(), func(s *grpc.Server) {
		pb.RegisterObjectServiceServer(s, o.ObjectServer())
		pb.RegisterHeartbeatServer(s, o.HeartbeatServer())
	})
	to.clu = to.serve(t, o.FastCluster(), func(s *grpc.Server) {
		pb.RegisterOSDClusterServer(s, o.ClusterServer())
		pb.RegisterHeartbeatServer(s, o.HeartbeatServer())
	})
	return to
}

// serve serves gRPC and fastrpc on a new listener, as the daemon does.
func (to *testOSD) serve(t testing.TB, fast *fastrpc.Server, register func(*grpc.Server)) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(ServerOptions()...)
	register(s)
	rest := fastrpc.Split(lis, fast)
	go func() { _ = s.Serve(rest) }()
	to.servers = append(to.servers, s)
	return lis.Addr().String()
}

func (to *testOSD) stop() {
	if to.o == nil {
		return
	}
	for _, s := range to.servers {
		s.Stop()
	}
	to.o.Stop()
	_ = to.st.Close()
	to.o = nil
}

func (c *testCluster) stop() {
	for _, to := range c.osds {
		to.stop()
	}
}

// setMap publishes m to every running OSD.
func (c *testCluster) setMap(m *cluster.OSDMap) {
	c.m = m
	for _, to := range c.osds {
		if to.o != nil {
			if err := to.o.HandleMap(m); err != nil {
				c.t.Fatalf("osd.%d map e%d: %v", to.id, m.Epoch, err)
			}
		}
	}
}

// nextMap returns a copy of the current map at the next epoch.
func (c *testCluster) nextMap() *cluster.OSDMap {
	m := c.m.Clone()
	m.Epoch++
	return m
}

func (c *testCluster) client(addr string) pb.ObjectServiceClient {
	if cl := c.clients[addr]; cl != nil {
		return cl
	}
	conn, err := grpc.NewClient(addr, DialOptions()...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = conn.Close() })
	cl := pb.NewObjectServiceClient(conn)
	c.clients[addr] = cl
	return cl
}

// locate returns the PG and acting set of an object in the current map.
func (c *testCluster) locate(name string) (cluster.PGID, []int32) {
	id, err := c.m.ObjectToPG(1, name, "", "")
	if err != nil {
		c.t.Fatal(err)
	}
	_, _, acting, _ := c.m.PGToUpActing(id)
	return id, acting
}

// request builds an op on object name with a fresh reqid.
func (c *testCluster) request(name string, ops ...*pb.SubOp) *pb.OpRequest {
	c.tid++
	id, _ := c.locate(name)
	return &pb.OpRequest{Fsid: c.fsid.String(), Reqid: &pb.ReqID{ClientId: 7, Incarnation: 1, Tid: c.tid},
		Epoch: uint64(c.m.Epoch), Pool: 1, PgSeed: id.Seed, Object: &pb.ObjectLocator{Name: []byte(name)}, Ops: ops}
}

// send sends req to OSD osd once.
func (c *testCluster) send(osd int32, req *pb.OpRequest) *pb.OpReply {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := c.client(c.osds[osd].pub).Execute(ctx, req)
	if err != nil {
		c.t.Fatalf("Execute on osd.%d: %v", osd, err)
	}
	return r
}

// do sends req to the object's primary, retrying while the PG is not
// active (RESULT_AGAIN), as a client library would, up to a deadline.
func (c *testCluster) do(req *pb.OpRequest) *pb.OpReply {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, acting := c.locate(string(req.GetObject().GetName()))
		r := c.send(acting[0], req)
		if r.GetResult() != pb.Result_RESULT_AGAIN || time.Now().After(deadline) {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitActive waits until every PG's primary reports active.
func (c *testCluster) waitActive() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !c.allActive() {
		if time.Now().After(deadline) {
			c.t.Fatal("PGs did not become active within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *testCluster) allActive() bool {
	p := c.m.Pools[1]
	for seed := uint32(0); seed < p.PGNum; seed++ {
		id := cluster.PGID{Pool: 1, Seed: seed}
		_, _, _, primary := c.m.PGToUpActing(id)
		to := c.osds[primary]
		if to.o == nil {
			return false
		}
		h := to.o.handle(id)
		if h == nil || h.mapEpoch.Load() != uint64(c.m.Epoch) || pg.State(h.state.Load()) != pg.StateActive {
			return false
		}
	}
	return true
}
