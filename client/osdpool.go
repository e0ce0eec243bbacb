package client

import (
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/experimental"

	"github.com/gorados/gorados/cluster"
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

// osdPool holds one gRPC connection per OSD public address, shared by all
// operations (gRPC multiplexes concurrent calls on it).
type osdPool struct {
	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

func newOSDPool() *osdPool { return &osdPool{conns: map[string]*grpc.ClientConn{}} }

// client returns the object service client of the OSD at addr, creating the
// connection on first use (grpc.NewClient connects lazily and reconnects
// by itself).
func (p *osdPool) client(addr string) (pb.ObjectServiceClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if cc := p.conns[addr]; cc != nil {
		return pb.NewObjectServiceClient(cc), nil
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
	p.conns[addr] = cc
	return pb.NewObjectServiceClient(cc), nil
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
	for addr, cc := range p.conns {
		if !live[addr] {
			cc.Close()
			delete(p.conns, addr)
		}
	}
}

// close closes every connection; later calls of client fail.
func (p *osdPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, cc := range p.conns {
		cc.Close()
		delete(p.conns, addr)
	}
}
