package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/experimental"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/fastrpc"
	"github.com/gorados/gorados/internal/wire"
	"github.com/gorados/gorados/proto/pb"
)

const (
	// msgSizeMax bounds one gRPC message either way. It is above the
	// largest legal op (a 128 MiB object read back whole) so that an
	// over-limit write still reaches the OSD and earns its TOO_BIG answer
	// rather than a transport error.
	msgSizeMax = 160 << 20
	// Flow-control windows sized for many 4 MiB ops in flight on one
	// connection; gRPC's 64 KiB default would cap a stream's throughput
	// at one window per round trip.
	streamWindow = 16 << 20
	connWindow   = 64 << 20
)

// reconnectParams make a connection to a restarted OSD come back within
// tens of milliseconds; gRPC's default first backoff is a whole second,
// during which every resend would fail at once.
var reconnectParams = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
	MinConnectTimeout: 5 * time.Second,
}

// osdPool holds, per OSD public address, one gRPC connection and one
// fastrpc client, shared by all operations (both multiplex concurrent
// calls on one connection).
type osdPool struct {
	mu     sync.Mutex
	conns  map[string]*osdConn
	closed bool
}

// osdConn is the connections to one OSD.
type osdConn struct {
	grpc *grpc.ClientConn
	fast *fastrpc.Client
}

func (c *osdConn) close() {
	c.grpc.Close()
	c.fast.Close()
}

func newOSDPool() *osdPool { return &osdPool{conns: map[string]*osdConn{}} }

// osdClient sends Execute, the op of every data call, over fastrpc, and
// over gRPC to an OSD that does not speak fastrpc; ListObjects goes over
// gRPC.
type osdClient struct {
	pb.ObjectServiceClient
	fast *fastrpc.Client
}

// Execute implements pb.ObjectServiceClient.
func (c osdClient) Execute(ctx context.Context, in *pb.OpRequest, opts ...grpc.CallOption) (*pb.OpReply, error) {
	reply := &pb.OpReply{}
	err := c.fast.Call(ctx, fastrpc.MethodExecute, in, reply)
	switch {
	case errors.Is(err, fastrpc.ErrUnsupported):
		return c.ObjectServiceClient.Execute(ctx, in, opts...)
	case err != nil:
		return nil, err
	}
	return reply, nil
}

// client returns the object service client of the OSD at addr, creating the
// connections on first use (they connect lazily and reconnect by
// themselves).
func (p *osdPool) client(addr string) (pb.ObjectServiceClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if c := p.conns[addr]; c != nil {
		return osdClient{ObjectServiceClient: pb.NewObjectServiceClient(c.grpc), fast: c.fast}, nil
	}
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(streamWindow),
		grpc.WithConnectParams(reconnectParams),
		experimental.WithBufferPool(wire.Buffers),
		grpc.WithInitialConnWindowSize(connWindow),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(msgSizeMax), grpc.MaxCallSendMsgSize(msgSizeMax),
			grpc.ForceCodecV2(wire.Codec{})))
	if err != nil {
		return nil, err
	}
	c := &osdConn{grpc: cc, fast: fastrpc.NewClient(addr, msgSizeMax)}
	p.conns[addr] = c
	return osdClient{ObjectServiceClient: pb.NewObjectServiceClient(cc), fast: c.fast}, nil
}

// prune closes the connections to addresses that no OSD of m uses any
// more (an OSD that moved or was removed); calls still running on them
// fail and are resent to the new target.
func (p *osdPool) prune(m *cluster.OSDMap) {
	live := make(map[string]bool, len(m.OSDs))
	for i := range m.OSDs {
		if m.OSDs[i].Exists && m.OSDs[i].PublicAddr != "" {
			live[m.OSDs[i].PublicAddr] = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.conns {
		if !live[addr] {
			c.close()
			delete(p.conns, addr)
		}
	}
}

// close closes every connection; later calls of client fail.
func (p *osdPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, c := range p.conns {
		c.close()
		delete(p.conns, addr)
	}
}
