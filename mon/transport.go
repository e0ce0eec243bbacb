package mon

// The raft transport carries raftpb messages between monitors over gRPC.
// Each peer has one sender goroutine that drains a bounded queue into
// batches; a full queue or a failed call drops messages (raft retransmits)
// and reports the peer unreachable so raft probes it gently.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/proto/pb"
)

const (
	peerQueueLen     = 4096
	peerBatchMax     = 512
	peerSendTimeout  = 3 * time.Second
	grpcMsgSizeLimit = 64 << 20
)

type transport struct {
	self  uint64
	fsid  func() string
	log   *slog.Logger
	peers map[uint64]*peer

	mu   sync.Mutex
	node *raftNode
	// onFSIDMismatch is called when a peer refuses our messages because it
	// belongs to another cluster.
	onFSIDMismatch func(peer uint64, err error)
}

type peer struct {
	id     uint64
	addr   string
	t      *transport
	conn   *grpc.ClientConn
	client pb.RaftTransportClient
	queue  chan *raftpb.Message
	stop   chan struct{}
	done   chan struct{}
}

// dialOptions are shared by every monitor-to-monitor connection.
func dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(grpcMsgSizeLimit), grpc.MaxCallSendMsgSize(grpcMsgSizeLimit)),
	}
}

func newTransport(self uint64, members []Member, fsid func() string, log *slog.Logger) (*transport, error) {
	t := &transport{self: self, fsid: fsid, log: log, peers: map[uint64]*peer{}}
	for i, m := range members {
		id := uint64(i + 1)
		if id == self {
			continue
		}
		conn, err := grpc.NewClient(m.Addr, dialOptions()...)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("%w: peer %s address %q: %w", ErrBadConfig, m.Name, m.Addr, err)
		}
		t.peers[id] = &peer{
			id: id, addr: m.Addr, t: t, conn: conn, client: pb.NewRaftTransportClient(conn),
			queue: make(chan *raftpb.Message, peerQueueLen), stop: make(chan struct{}), done: make(chan struct{}),
		}
	}
	return t, nil
}

func (t *transport) start(n *raftNode) {
	t.mu.Lock()
	t.node = n
	t.mu.Unlock()
	for _, p := range t.peers {
		go p.run()
	}
}

// send queues messages for their peers without blocking the raft loop.
func (t *transport) send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		p := t.peers[m.GetTo()]
		if p == nil {
			continue
		}
		select {
		case p.queue <- m:
		default:
			t.reportFailure(m)
		}
	}
}

func (t *transport) reportFailure(m *raftpb.Message) {
	t.mu.Lock()
	n := t.node
	t.mu.Unlock()
	if n == nil {
		return
	}
	n.node.ReportUnreachable(m.GetTo())
	if m.GetType() == raftpb.MsgSnap {
		n.node.ReportSnapshot(m.GetTo(), raft.SnapshotFailure)
	}
}

func (t *transport) close() {
	for _, p := range t.peers {
		select {
		case <-p.stop:
		default:
			close(p.stop)
		}
	}
	for _, p := range t.peers {
		if p.conn != nil {
			p.conn.Close()
		}
	}
}

func (t *transport) wait() {
	t.mu.Lock()
	started := t.node != nil
	t.mu.Unlock()
	if !started {
		return
	}
	for _, p := range t.peers {
		<-p.done
	}
}

func (p *peer) run() {
	defer close(p.done)
	for {
		var first *raftpb.Message
		select {
		case first = <-p.queue:
		case <-p.stop:
			return
		}
		batch := []*raftpb.Message{first}
		for len(batch) < peerBatchMax {
			select {
			case m := <-p.queue:
				batch = append(batch, m)
				continue
			default:
			}
			break
		}
		p.sendBatch(batch)
	}
}

func (p *peer) sendBatch(batch []*raftpb.Message) {
	req := &pb.RaftStepRequest{Fsid: p.t.fsid(), From: p.t.self, To: p.id}
	for _, m := range batch {
		b, err := proto.Marshal(m)
		if err != nil {
			p.t.log.Error("marshal raft message", "err", err)
			continue
		}
		req.Messages = append(req.Messages, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), peerSendTimeout)
	_, err := p.client.Step(ctx, req)
	cancel()
	if err == nil {
		p.reportSnapshots(batch)
		return
	}
	if status.Code(err) == codes.FailedPrecondition && p.t.onFSIDMismatch != nil {
		p.t.onFSIDMismatch(p.id, err)
	}
	for _, m := range batch {
		p.t.reportFailure(m)
	}
}

// reportSnapshots tells raft that snapshots in a delivered batch arrived, so
// the follower's progress leaves the snapshot state.
func (p *peer) reportSnapshots(batch []*raftpb.Message) {
	p.t.mu.Lock()
	n := p.t.node
	p.t.mu.Unlock()
	for _, m := range batch {
		if m.GetType() == raftpb.MsgSnap && n != nil {
			n.node.ReportSnapshot(m.GetTo(), raft.SnapshotFinish)
		}
	}
}

// raftServer is the receiving side of the transport.
type raftServer struct {
	pb.UnimplementedRaftTransportServer
	t *transport
}

// Step implements pb.RaftTransportServer.
func (s *raftServer) Step(ctx context.Context, req *pb.RaftStepRequest) (*pb.RaftStepReply, error) {
	mine := s.t.fsid()
	if mine != "" && req.GetFsid() != "" && mine != req.GetFsid() {
		return nil, status.Errorf(codes.FailedPrecondition,
			"fsid mismatch: monitor %d is in cluster %s, sender %d in %s: the sender's data dir belongs to another cluster",
			s.t.self, mine, req.GetFrom(), req.GetFsid())
	}
	if req.GetTo() != s.t.self {
		return nil, status.Errorf(codes.FailedPrecondition, "message for monitor %d reached monitor %d: check --initial-members", req.GetTo(), s.t.self)
	}
	s.t.mu.Lock()
	n := s.t.node
	s.t.mu.Unlock()
	if n == nil {
		return nil, status.Error(codes.Unavailable, "monitor starting")
	}
	for _, b := range req.GetMessages() {
		m := &raftpb.Message{}
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "bad raft message: %v", err)
		}
		if err := n.step(ctx, m); err != nil {
			if errors.Is(err, raft.ErrStopped) {
				return nil, status.Error(codes.Unavailable, "monitor stopping")
			}
			return nil, status.Errorf(codes.Internal, "step: %v", err)
		}
	}
	return &pb.RaftStepReply{}, nil
}
