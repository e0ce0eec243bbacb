package mon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"

	"github.com/gorados/gorados/proto/pb"
)

// listSM is a trivial replicated state machine for node tests: it appends
// every payload to a list.
type listSM struct {
	mu    sync.Mutex
	idx   uint64
	items []string
}

func (s *listSM) apply(index uint64, payload []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index <= s.idx {
		return nil, nil
	}
	s.idx = index
	s.items = append(s.items, string(payload))
	return len(s.items), nil
}

func (s *listSM) applied() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx
}

func (s *listSM) noteApplied(index uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index > s.idx {
		s.idx = index
	}
}

func (s *listSM) snapshotData() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []byte(strings.Join(s.items, "\n")), nil
}

func (s *listSM) restore(index uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idx = index
	s.items = nil
	if len(data) > 0 {
		s.items = strings.Split(string(data), "\n")
	}
	return nil
}

func (s *listSM) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.items...)
}

type testNode struct {
	dir  string
	db   *bolt.DB
	sm   *listSM
	node *raftNode
	tr   *transport
	srv  *grpc.Server
}

func startTestNode(t testing.TB, id uint64, dir string, members []Member, lis net.Listener) *testNode {
	t.Helper()
	db, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := readIdentity(db); !ok {
		ident := storedIdentity{Self: members[id-1].Name, Members: members}
		if err := bootstrapStore(db, ident, nil); err != nil {
			t.Fatal(err)
		}
	}
	st, err := openRaftStorage(db)
	if err != nil {
		t.Fatal(err)
	}
	sm := &listSM{idx: 1}
	snap, _ := st.Snapshot()
	if err := sm.restore(snap.GetMetadata().GetIndex(), snap.GetData()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	tr, err := newTransport(id, members, func() string { return "test-fsid" }, log)
	if err != nil {
		t.Fatal(err)
	}
	n := newRaftNode(nodeConfig{ID: id, TickInterval: 10 * time.Millisecond, SnapshotEvery: 20, SnapshotKeep: 5}, st, sm, log)
	n.send = tr.send
	srv := grpc.NewServer()
	pb.RegisterRaftTransportServer(srv, &raftServer{t: tr})
	go srv.Serve(lis)
	tr.start(n)
	n.start()
	return &testNode{dir: dir, db: db, sm: sm, node: n, tr: tr, srv: srv}
}

func (tn *testNode) stop() {
	tn.node.stop()
	tn.srv.Stop()
	tn.tr.close()
	tn.tr.wait()
	tn.db.Close()
}

func listeners(t testing.TB, n int) ([]net.Listener, []Member) {
	t.Helper()
	var ls []net.Listener
	var ms []Member
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ms = append(ms, Member{Name: fmt.Sprintf("m%d", i), Addr: l.Addr().String()})
	}
	return ls, ms
}

func waitLeader(t *testing.T, nodes []*testNode) *testNode {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n != nil && n.node.isLeader.Load() {
				return n
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no leader elected within 10s")
	return nil
}

func proposeN(t *testing.T, leader *testNode, prefix string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := leader.node.propose(ctx, []byte(fmt.Sprintf("%s%d", prefix, i)))
		cancel()
		if err != nil {
			t.Fatalf("propose %s%d: %v", prefix, i, err)
		}
	}
}

func waitItems(t *testing.T, n *testNode, want int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.node.readBarrier(ctx); err != nil {
		t.Fatalf("read barrier: %v", err)
	}
	got := n.sm.snapshot()
	if len(got) != want {
		t.Fatalf("node has %d items after a read barrier, want %d", len(got), want)
	}
	return got
}

// TestRaftNodesReplicateFailoverAndCatchUp runs three nodes on loopback:
// entries replicate in order, a follower's linearizable read sees every
// acknowledged entry, the cluster survives the leader's loss, and the old
// leader restarts from its data dir and catches up through a snapshot
// (the log was compacted past its position meanwhile).
func TestRaftNodesReplicateFailoverAndCatchUp(t *testing.T) {
	lis, members := listeners(t, 3)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	nodes := make([]*testNode, 3)
	for i := range nodes {
		nodes[i] = startTestNode(t, uint64(i+1), dirs[i], members, lis[i])
	}
	defer func() {
		for _, n := range nodes {
			if n != nil {
				n.stop()
			}
		}
	}()
	leader := waitLeader(t, nodes)
	proposeN(t, leader, "a", 30)
	for _, n := range nodes {
		got := waitItems(t, n, 30)
		if got[0] != "a0" || got[29] != "a29" {
			t.Fatalf("order broken: %v", got)
		}
	}

	li := 0
	for i, n := range nodes {
		if n == leader {
			li = i
		}
	}
	leader.stop()
	nodes[li] = nil
	leader = waitLeader(t, nodes)
	proposeN(t, leader, "b", 40)

	l, err := net.Listen("tcp", members[li].Addr)
	if err != nil {
		t.Fatal(err)
	}
	nodes[li] = startTestNode(t, uint64(li+1), dirs[li], members, l)
	got := waitItems(t, nodes[li], 70)
	if got[69] != "b39" {
		t.Fatalf("restarted node ends with %q, want b39", got[69])
	}
	first, _ := nodes[li].node.storage.FirstIndex()
	if first <= 2 {
		t.Fatalf("log was never compacted (first index %d)", first)
	}
}

// TestRaftReadFailsWithoutQuorum checks that a lone survivor of three does
// not hang: its read barrier fails with ErrNoQuorum when the context ends.
func TestRaftReadFailsWithoutQuorum(t *testing.T) {
	lis, members := listeners(t, 3)
	n := startTestNode(t, 1, t.TempDir(), members, lis[0])
	defer n.stop()
	lis[1].Close()
	lis[2].Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := n.node.readBarrier(ctx)
	if err == nil || !strings.Contains(err.Error(), "no quorum") {
		t.Fatalf("read barrier without quorum: %v, want no quorum", err)
	}
	if _, err := n.node.propose(context.Background(), []byte("x")); err == nil {
		t.Fatal("proposal on a non-leader succeeded")
	}
}
