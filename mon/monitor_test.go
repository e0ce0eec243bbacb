package mon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

type testCluster struct {
	t       testing.TB
	members []Member
	dirs    []string
	mons    []*Monitor
	conns   []*grpc.ClientConn
}

func startTestCluster(t testing.TB, n int, tweak func(*Config)) *testCluster {
	t.Helper()
	lis, members := listeners(t, n)
	tc := &testCluster{t: t, members: members}
	for i := 0; i < n; i++ {
		tc.dirs = append(tc.dirs, t.TempDir())
		tc.mons = append(tc.mons, nil)
		conn, err := grpc.NewClient(members[i].Addr, dialOptions()...)
		if err != nil {
			t.Fatal(err)
		}
		tc.conns = append(tc.conns, conn)
	}
	for i := 0; i < n; i++ {
		tc.start(i, lis[i], tweak)
	}
	t.Cleanup(tc.stopAll)
	return tc
}

func (tc *testCluster) start(i int, lis net.Listener, tweak func(*Config)) {
	tc.t.Helper()
	cfg := Config{
		Name: tc.members[i].Name, DataDir: tc.dirs[i], Members: tc.members,
		TickInterval: 10 * time.Millisecond, BatchWindow: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := Open(cfg)
	if err != nil {
		tc.t.Fatal(err)
	}
	if lis == nil {
		if lis, err = net.Listen("tcp", tc.members[i].Addr); err != nil {
			tc.t.Fatal(err)
		}
	}
	if err := m.StartOn(lis); err != nil {
		tc.t.Fatal(err)
	}
	tc.mons[i] = m
}

func (tc *testCluster) stop(i int) {
	if tc.mons[i] != nil {
		tc.mons[i].Stop()
		tc.mons[i] = nil
	}
}

func (tc *testCluster) stopAll() {
	for i := range tc.mons {
		tc.stop(i)
	}
	for _, c := range tc.conns {
		c.Close()
	}
}

func (tc *testCluster) client(i int) pb.MonClient { return pb.NewMonClient(tc.conns[i]) }

// getMap reads the map through monitor i, waiting for the cluster to be
// created.
func (tc *testCluster) getMap(i int) *cluster.OSDMap {
	tc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		rep, err := tc.client(i).GetMap(ctx, &pb.MonGetMapRequest{})
		cancel()
		if err == nil {
			m, err := cluster.Unmarshal(rep.GetMap())
			if err != nil {
				tc.t.Fatal(err)
			}
			return m
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("GetMap via mon %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tc *testCluster) command(i int, req *pb.MonCommandRequest) (*pb.MonCommandReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tc.client(i).Command(ctx, req)
}

func poolCreateReq(name string, pgNum uint32) *pb.MonCommandRequest {
	return &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_PoolCreate{PoolCreate: &pb.MonPoolCreate{Name: name, PgNum: pgNum}}}
}

func (tc *testCluster) leaderIndex() int {
	for i, m := range tc.mons {
		if m != nil && m.node.isLeader.Load() {
			return i
		}
	}
	return -1
}

// TestMonitorsBootstrapCommandsAndForwarding: three monitors create the
// cluster (epoch 1, one fsid), a command sent to a follower is forwarded
// and lands in exactly one new epoch seen by every monitor, bad input is
// refused with the right code and changes nothing.
func TestMonitorsBootstrapCommandsAndForwarding(t *testing.T) {
	tc := startTestCluster(t, 3, nil)
	m0 := tc.getMap(0)
	if m0.Epoch != 1 || m0.FSID.IsZero() {
		t.Fatalf("bootstrap map: epoch %d fsid %s", m0.Epoch, m0.FSID)
	}
	follower := (tc.leaderIndex() + 1) % 3
	rep, err := tc.command(follower, poolCreateReq("rbd", 16))
	if err != nil {
		t.Fatalf("pool create via follower: %v", err)
	}
	if rep.GetEpoch() != 2 {
		t.Fatalf("pool create landed in epoch %d, want 2", rep.GetEpoch())
	}
	for i := range tc.mons {
		m := tc.getMap(i)
		if m.Epoch != 2 || m.PoolByName("rbd") == nil || m.FSID != m0.FSID {
			t.Fatalf("mon %d: epoch %d, pool rbd %v", i, m.Epoch, m.PoolByName("rbd"))
		}
	}
	cases := []struct {
		req  *pb.MonCommandRequest
		code codes.Code
	}{
		{poolCreateReq("rbd", 16), codes.AlreadyExists},
		{poolCreateReq("bad name", 16), codes.InvalidArgument},
		{poolCreateReq("zero", 0), codes.InvalidArgument},
		{poolCreateReq("huge", 1<<20), codes.InvalidArgument},
		{&pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_PoolRm{PoolRm: &pb.MonPoolRm{Name: "nope"}}}, codes.NotFound},
		{&pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_PoolSet{PoolSet: &pb.MonPoolSet{Name: "rbd", Key: "size", Value: "1"}}}, codes.InvalidArgument},
		{&pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_SetCrushMap{SetCrushMap: &pb.MonSetCrushMap{Map: []byte("rule {")}}}, codes.InvalidArgument},
		{&pb.MonCommandRequest{}, codes.InvalidArgument},
	}
	for _, c := range cases {
		_, err := tc.command(follower, c.req)
		if status.Code(err) != c.code {
			t.Errorf("%v: got %v, want %v", c.req, err, c.code)
		}
	}
	if m := tc.getMap(0); m.Epoch != 2 {
		t.Fatalf("refused commands changed the map: epoch %d", m.Epoch)
	}
}

// TestMonitorRetriedRequestAppliedOnce: the same client id and sequence
// sent twice is answered from the first execution.
func TestMonitorRetriedRequestAppliedOnce(t *testing.T) {
	tc := startTestCluster(t, 1, nil)
	tc.getMap(0)
	req := poolCreateReq("p1", 8)
	req.ClientId, req.Seq = "client.test", 7
	r1, err := tc.command(0, req)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := tc.command(0, req)
	if err != nil {
		t.Fatalf("retry of an applied request: %v", err)
	}
	if r1.GetEpoch() != r2.GetEpoch() {
		t.Fatalf("retry answered epoch %d, first %d", r2.GetEpoch(), r1.GetEpoch())
	}
	if m := tc.getMap(0); uint64(m.Epoch) != r1.GetEpoch() {
		t.Fatalf("retry made a new epoch: %d", m.Epoch)
	}
}

// TestMonitorNoQuorumFailsFast: with 2 of 3 monitors down, commands and
// reads fail with Unavailable "no quorum" within their deadline.
func TestMonitorNoQuorumFailsFast(t *testing.T) {
	tc := startTestCluster(t, 3, nil)
	tc.getMap(0)
	tc.stop(1)
	tc.stop(2)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := tc.client(0).Command(ctx, poolCreateReq("x", 8))
	if status.Code(err) != codes.Unavailable && status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("command without quorum: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	_, err = tc.client(0).GetMap(ctx2, &pb.MonGetMapRequest{})
	if status.Code(err) != codes.Unavailable && status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("read without quorum: %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("no-quorum errors took %v", el)
	}
}

// TestMonitorSubscriberBehindTrimGetsFullMap: with a history of 3 epochs, a
// subscriber from epoch 1 receives a full map, then incrementals.
func TestMonitorSubscriberBehindTrimGetsFullMap(t *testing.T) {
	tc := startTestCluster(t, 1, func(c *Config) { c.HistoryEpochs = 3 })
	tc.getMap(0)
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if _, err := tc.command(0, poolCreateReq(name, 4)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := tc.client(0).Subscribe(ctx, &pb.MonSubscribeRequest{FromEpoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	upd, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(upd.GetFullMap()) == 0 || upd.GetNewestEpoch() != 6 {
		t.Fatalf("first update: full map %d bytes, newest %d; want a full map at 6", len(upd.GetFullMap()), upd.GetNewestEpoch())
	}
	held, err := cluster.Unmarshal(upd.GetFullMap())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.command(0, poolCreateReq("f", 4)); err != nil {
		t.Fatal(err)
	}
	upd, err = stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(upd.GetIncrementals()) != 1 {
		t.Fatalf("second update has %d incrementals, want 1", len(upd.GetIncrementals()))
	}
	inc, err := cluster.UnmarshalIncremental(upd.GetIncrementals()[0])
	if err != nil {
		t.Fatal(err)
	}
	next, err := cluster.Apply(held, inc)
	if err != nil || next.Epoch != 7 || next.PoolByName("f") == nil {
		t.Fatalf("applying the incremental: %v", err)
	}
}

func TestOpenRejectsMismatchedMembers(t *testing.T) {
	dir := t.TempDir()
	members := []Member{{"a", "127.0.0.1:1"}, {"b", "127.0.0.1:2"}, {"c", "127.0.0.1:3"}}
	m, err := Open(Config{Name: "a", DataDir: dir, Members: members, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	m.db.Close()
	_, err = Open(Config{DataDir: dir, Members: members[:2], Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, ErrMembersMismatch) {
		t.Fatalf("restart with another member list: %v", err)
	}
	_, err = Open(Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, ErrBadConfig) {
		t.Fatalf("first start without --id: %v", err)
	}
	m2, err := Open(Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("restart with --data alone: %v", err)
	}
	if m2.Name() != "a" {
		t.Fatalf("restarted as %q", m2.Name())
	}
	m2.db.Close()
}

// TestLaggingMonitorCatchesUpFromSnapshot: while one monitor is down the
// others compact their logs past its position; on restart it receives a
// snapshot (the full map), serves the same map, and its own log is bounded.
func TestLaggingMonitorCatchesUpFromSnapshot(t *testing.T) {
	tc := startTestCluster(t, 3, func(c *Config) { c.SnapshotEvery, c.SnapshotKeep = 10, 5 })
	tc.getMap(0)
	down := (tc.leaderIndex() + 1) % 3
	tc.stop(down)
	up := (down + 1) % 3
	for i := 0; i < 40; i++ {
		if _, err := tc.command(up, poolCreateReq(fmt.Sprintf("p%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	want := tc.getMap(up)
	tc.start(down, nil, func(c *Config) { c.SnapshotEvery, c.SnapshotKeep = 10, 5 })
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur, _ := tc.mons[down].sm.current()
		if cur != nil && cur.Epoch == want.Epoch {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted monitor stuck at %v, want epoch %d", cur, want.Epoch)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := tc.getMap(down)
	a, _ := got.Marshal()
	b, _ := want.Marshal()
	if string(a) != string(b) {
		t.Fatal("caught-up monitor holds a different map")
	}
	for i, m := range tc.mons {
		if first, _ := m.storage.FirstIndex(); first < 20 {
			t.Errorf("mon %d log starts at %d: not compacted", i, first)
		}
	}
}

// TestOpenRestoresStateBehindSnapshot: a store whose raft snapshot is newer
// than its applied state (a crash between the two writes) is brought to the
// snapshot when opened.
func TestOpenRestoresStateBehindSnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Name: "a", DataDir: dir, Members: []Member{{"a", "127.0.0.1:1"}}, Logger: slog.New(slog.DiscardHandler)}
	m, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Write a leader's snapshot at index 50 into the raft store only.
	src := openTestState(t, 10)
	if _, err := src.apply(2, bootstrapEntry(t, newTestMap(t))); err != nil {
		t.Fatal(err)
	}
	data, err := src.snapshotData()
	if err != nil {
		t.Fatal(err)
	}
	snap := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
		Index: new(uint64(50)), Term: new(uint64(3)), ConfState: &raftpb.ConfState{Voters: []uint64{1}}}}
	if err := m.storage.Save(&raftpb.HardState{Term: new(uint64(3)), Commit: new(uint64(50))}, nil, snap); err != nil {
		t.Fatal(err)
	}
	m.db.Close()
	m2, err := Open(Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.db.Close()
	if m2.sm.applied() != 50 {
		t.Fatalf("applied %d after reopening, want the snapshot's 50", m2.sm.applied())
	}
	if cur, _ := m2.sm.current(); cur == nil || cur.Epoch != 1 {
		t.Fatalf("map after reopening: %v", cur)
	}
}

// TestMonitorFailureReports: failure reports sent to a follower reach the
// leader; a report about an unknown OSD is NotFound, one from a reporter
// that is down changes nothing, an immediate report from an up OSD marks
// the target down in one epoch.
func TestMonitorFailureReports(t *testing.T) {
	tc := startTestCluster(t, 3, nil)
	tc.getMap(0) // the cluster exists
	follower := (tc.leaderIndex() + 1) % 3
	for i := range 2 {
		uuid := fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i+1)
		if _, err := tc.command(follower, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdCreate{OsdCreate: &pb.MonOsdCreate{Uuid: uuid}}}); err != nil {
			t.Fatal(err)
		}
		boot := &pb.MonOsdBoot{Id: int32(i), Uuid: uuid, PublicAddr: fmt.Sprintf("127.0.0.1:%d", 7000+i),
			ClusterAddr: fmt.Sprintf("127.0.0.1:%d", 7100+i), Host: fmt.Sprintf("h%d", i)}
		if _, err := tc.command(follower, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdBoot{OsdBoot: boot}}); err != nil {
			t.Fatal(err)
		}
	}
	m := tc.getMap(0)
	report := func(f *pb.MonOsdFailure) (*pb.MonCommandReply, error) {
		return tc.command(follower, &pb.MonCommandRequest{Cmd: &pb.MonCommandRequest_OsdFailure{OsdFailure: f}})
	}
	if _, err := report(&pb.MonOsdFailure{Target: 9, Reporter: 0, Immediate: true}); status.Code(err) != codes.NotFound {
		t.Fatalf("report about osd.9: %v", err)
	}
	upFrom := uint64(m.OSDs[1].UpFrom)
	rep, err := report(&pb.MonOsdFailure{Target: 1, Reporter: 0, TargetUpFrom: upFrom - 1, Immediate: true})
	if err != nil || tc.getMap(0).Epoch != m.Epoch || !strings.Contains(rep.GetMessage(), "up from") {
		t.Fatalf("report about an earlier incarnation: %v %q", err, rep.GetMessage())
	}
	rep, err = report(&pb.MonOsdFailure{Target: 1, Reporter: 0, TargetUpFrom: upFrom, Immediate: true})
	if err != nil || rep.GetEpoch() != uint64(m.Epoch)+1 {
		t.Fatalf("immediate report: %v %+v", err, rep)
	}
	if after := tc.getMap(0); after.IsUp(1) || after.OSDs[1].DownAt != after.Epoch {
		t.Fatalf("osd.1 after the immediate report: %+v", after.OSDs[1])
	}
	if _, err := report(&pb.MonOsdFailure{Target: 0, Reporter: 1, TargetUpFrom: uint64(m.OSDs[0].UpFrom), Immediate: true}); err != nil {
		t.Fatal(err)
	}
	if !tc.getMap(0).IsUp(0) {
		t.Fatal("a down reporter marked osd.0 down")
	}
}
