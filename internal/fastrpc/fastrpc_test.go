package fastrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/internal/wire"
	"github.com/gorados/gorados/proto/pb"
)

const (
	methodEcho  = 1
	methodFail  = 2
	methodBlock = 3
	maxMsg      = 16 << 20
)

// echoServer answers an OpRequest with an OpReply carrying the data of
// its first write_full, and records the address the data arrived at.
type echoServer struct {
	mu      sync.Mutex
	aligned []bool
	blocked chan error
}

func (e *echoServer) register(s *Server) {
	s.Handle(methodEcho, Handler{New: func() proto.Message { return &pb.OpRequest{} },
		Serve: func(_ context.Context, m proto.Message) (proto.Message, error) {
			var data []byte
			if ops := m.(*pb.OpRequest).GetOps(); len(ops) > 0 {
				data = ops[0].GetWriteFull().GetData()
			}
			if len(data) >= wire.LargeField {
				e.mu.Lock()
				e.aligned = append(e.aligned, addrOf(data)%4096 == 0)
				e.mu.Unlock()
			}
			return &pb.OpReply{OsdEpoch: 7, Results: []*pb.SubOpResult{{Data: data}}}, nil
		}})
	s.Handle(methodFail, Handler{New: func() proto.Message { return &pb.OpRequest{} },
		Serve: func(context.Context, proto.Message) (proto.Message, error) {
			return nil, status.Error(codes.FailedPrecondition, "refused on purpose")
		}})
	s.Handle(methodBlock, Handler{New: func() proto.Message { return &pb.OpRequest{} },
		Serve: func(ctx context.Context, _ proto.Message) (proto.Message, error) {
			<-ctx.Done()
			e.blocked <- ctx.Err()
			return nil, ctx.Err()
		}})
}

// start serves fastrpc and gRPC (a bare server) on one listener.
func start(t *testing.T) (string, *echoServer) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{blocked: make(chan error, 1)}
	srv := NewServer(maxMsg, nil)
	e.register(srv)
	g := grpc.NewServer()
	rest := Split(lis, srv)
	go g.Serve(rest)
	t.Cleanup(func() { g.Stop(); rest.Close() })
	return lis.Addr().String(), e
}

func writeReq(data []byte) *pb.OpRequest {
	return &pb.OpRequest{Fsid: "f", Epoch: 3, Ops: []*pb.SubOp{{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: data}}}}}
}

func payload(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*seed + i>>8)
	}
	return b
}

// TestCalls: small and large calls from many goroutines at once get their
// own answers; large payloads arrive aligned on the server.
func TestCalls(t *testing.T) {
	addr, e := start(t)
	c := NewClient(addr, maxMsg)
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				n := []int{0, 100, 4096, wire.LargeField, 4<<20 + 3}[(g+i)%5]
				data := payload(n, g*100+i)
				var reply pb.OpReply
				if err := c.Call(context.Background(), methodEcho, writeReq(data), &reply); err != nil {
					errs <- err
					return
				}
				if got := reply.GetResults()[0].GetData(); !bytes.Equal(got, data) || reply.GetOsdEpoch() != 7 {
					errs <- fmt.Errorf("goroutine %d call %d: %d bytes back, want %d", g, i, len(got), len(data))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, ok := range e.aligned {
		if !ok {
			t.Fatalf("large payload %d arrived unaligned", i)
		}
	}
	if len(e.aligned) == 0 {
		t.Fatal("no large payload reached the server")
	}
}

// TestErrors: handler errors keep their code, unknown methods and
// oversized requests are refused, and a deadline reaches the handler.
func TestErrors(t *testing.T) {
	addr, e := start(t)
	c := NewClient(addr, maxMsg)
	defer c.Close()
	wantCode := func(err error, code codes.Code) {
		t.Helper()
		if status.Code(err) != code {
			t.Fatalf("error %v, want code %v", err, code)
		}
	}
	var reply pb.OpReply
	wantCode(c.Call(context.Background(), methodFail, writeReq(nil), &reply), codes.FailedPrecondition)
	wantCode(c.Call(context.Background(), 99, writeReq(nil), &reply), codes.Unimplemented)
	wantCode(c.Call(context.Background(), methodEcho, writeReq(make([]byte, maxMsg)), &reply), codes.ResourceExhausted)
	big := NewClient(addr, 2*maxMsg) // the server refuses what this client lets through
	defer big.Close()
	wantCode(big.Call(context.Background(), methodEcho, writeReq(make([]byte, maxMsg)), &reply), codes.ResourceExhausted)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	wantCode(c.Call(ctx, methodBlock, writeReq(nil), &reply), codes.DeadlineExceeded)
	select {
	case err := <-e.blocked:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("handler context ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context did not end with the caller's deadline")
	}
	// The connection still works after all that.
	if err := c.Call(context.Background(), methodEcho, writeReq([]byte("ok")), &reply); err != nil {
		t.Fatal(err)
	}
}

// TestGRPCSharesTheListener: a gRPC client reaches the gRPC server behind
// Split, and a fastrpc client of a gRPC-only server learns ErrUnsupported.
func TestGRPCSharesTheListener(t *testing.T) {
	addr, _ := start(t)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The bare gRPC server implements nothing: Unimplemented proves the
	// call reached it through the split listener.
	_, err = pb.NewObjectServiceClient(cc).Execute(ctx, writeReq(nil))
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("gRPC call through the split listener: %v", err)
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	go g.Serve(lis)
	defer g.Stop()
	c := NewClient(lis.Addr().String(), maxMsg)
	defer c.Close()
	var reply pb.OpReply
	if err := c.Call(ctx, methodEcho, writeReq(nil), &reply); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("call to a gRPC-only server: %v, want ErrUnsupported", err)
	}
}

// TestReconnect: calls waiting on a connection that breaks fail with
// Unavailable, and the next call dials again.
func TestReconnect(t *testing.T) {
	addr, e := start(t)
	c := NewClient(addr, maxMsg)
	defer c.Close()
	var reply pb.OpReply
	if err := c.Call(context.Background(), methodEcho, writeReq(nil), &reply); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Call(context.Background(), methodBlock, writeReq(nil), &reply) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		cc := c.cur
		c.mu.Unlock()
		cc.mu.Lock()
		n := len(cc.pending)
		cc.mu.Unlock()
		if n == 1 {
			cc.c.Close() // the network breaks
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the blocking call never became pending")
		}
		time.Sleep(time.Millisecond)
	}
	if err := <-done; status.Code(err) != codes.Unavailable {
		t.Fatalf("call on a broken connection: %v, want Unavailable", err)
	}
	<-e.blocked
	if err := c.Call(context.Background(), methodEcho, writeReq([]byte("again")), &reply); err != nil {
		t.Fatalf("call after the break: %v", err)
	}
}

// FuzzServer feeds arbitrary bytes after the preface to a server: it must
// neither panic nor hang, whatever the frames say.
func FuzzServer(f *testing.F) {
	var ok bytes.Buffer
	body, _ := proto.Marshal(writeReq([]byte("x")))
	h := header{length: uint32(len(body)), kind: kindRequest, method: methodEcho, id: 1}
	ok.Write(h.encode(nil))
	ok.Write(body)
	f.Add(ok.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 1, 0, 1, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		srv := NewServer(1<<20, nil)
		(&echoServer{blocked: make(chan error, 1)}).register(srv)
		a, b := net.Pipe()
		done := make(chan struct{})
		go func() { srv.ServeConn(a); close(done) }()
		go io.Copy(io.Discard, b)
		b.Write(in)
		b.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("server did not end with its connection")
		}
	})
}
