package monclient

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gorados/gorados/proto/pb"
)

func TestParseAddrs(t *testing.T) {
	got := ParseAddrs(" a:1, ,b:2,")
	if strings.Join(got, "|") != "a:1|b:2" {
		t.Fatalf("ParseAddrs = %q", got)
	}
	if _, err := New(nil); !errors.Is(err, ErrNoMonitors) {
		t.Fatalf("New(nil) = %v", err)
	}
}

func TestStatusCodesBecomeTypedErrors(t *testing.T) {
	cases := []struct {
		code  codes.Code
		kind  error
		retry bool
	}{
		{codes.InvalidArgument, ErrInvalidArgument, false},
		{codes.NotFound, ErrNotFound, false},
		{codes.AlreadyExists, ErrAlreadyExists, false},
		{codes.FailedPrecondition, ErrFailedPrecondition, false},
		{codes.Unavailable, ErrNoQuorum, true},
		{codes.DeadlineExceeded, ErrNoQuorum, true},
	}
	for _, c := range cases {
		err, retry := fromStatus(status.Error(c.code, "pool 'x' says why"))
		if !errors.Is(err, c.kind) || retry != c.retry || err.Error() != "pool 'x' says why" {
			t.Errorf("%v: %v (retry %v)", c.code, err, retry)
		}
	}
}

// fakeMon answers Command with a scripted sequence of errors, then success,
// and records the request ids it saw.
type fakeMon struct {
	pb.UnimplementedMonServer
	fail []codes.Code
	seen []string
}

func (f *fakeMon) Command(_ context.Context, req *pb.MonCommandRequest) (*pb.MonCommandReply, error) {
	f.seen = append(f.seen, req.GetClientId()+"/"+string(rune('0'+req.GetSeq())))
	if len(f.fail) > 0 {
		c := f.fail[0]
		f.fail = f.fail[1:]
		return nil, status.Error(c, "scripted")
	}
	return &pb.MonCommandReply{Epoch: 9, Message: "ok"}, nil
}

func serveFake(t *testing.T, f *fakeMon) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	pb.RegisterMonServer(s, f)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return l.Addr().String()
}

// TestRetriesKeepTheRequestID: an Unavailable monitor is skipped for the
// next one, and every attempt carries the same client id and sequence so
// the monitors can answer a retry of an applied command from its record.
func TestRetriesKeepTheRequestID(t *testing.T) {
	down := &fakeMon{fail: []codes.Code{codes.Unavailable, codes.Unavailable}}
	up := &fakeMon{fail: []codes.Code{codes.Unavailable}}
	c, err := New([]string{serveFake(t, down), serveFake(t, up)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := c.PoolRm(ctx, "x")
	if err != nil || r.Epoch != 9 {
		t.Fatalf("PoolRm = %v, %v", r, err)
	}
	ids := append(append([]string(nil), down.seen...), up.seen...)
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("request ids differ across retries: %v", ids)
		}
	}
	if len(ids) < 3 {
		t.Fatalf("only %d attempts: %v", len(ids), ids)
	}
	_, err = c.PoolRm(ctx, "y")
	if err != nil {
		t.Fatal(err)
	}
	if last := up.seen[len(up.seen)-1]; last == ids[0] {
		t.Fatal("a new command reused the previous request id")
	}
}

// TestNoQuorumWithinDeadline: when every monitor keeps answering
// Unavailable the call ends at the caller's deadline with ErrNoQuorum.
func TestNoQuorumWithinDeadline(t *testing.T) {
	f := &fakeMon{fail: make([]codes.Code, 1000)}
	for i := range f.fail {
		f.fail[i] = codes.Unavailable
	}
	c, err := New([]string{serveFake(t, f)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.SetFlag(ctx, "noout", false)
	if !errors.Is(err, ErrNoQuorum) || !strings.Contains(err.Error(), "majority") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("took %v past a 300ms deadline", el)
	}
	inv := &fakeMon{fail: []codes.Code{codes.InvalidArgument}}
	c2, _ := New([]string{serveFake(t, inv)})
	defer c2.Close()
	if _, err := c2.SetFlag(context.Background(), "bogus", false); !errors.Is(err, ErrInvalidArgument) || len(inv.seen) != 1 {
		t.Fatalf("invalid argument: %v after %d attempts (want no retry)", err, len(inv.seen))
	}
}
