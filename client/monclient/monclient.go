// Package monclient is the client of the monitors' gRPC API, used by
// radosctl, the OSDs and the data client. It connects to a list of
// monitors, sends every command to one of them (followers forward to the
// leader) and moves on to the next monitor when one is down or has no
// quorum, retrying until the caller's context ends. A retried command keeps
// its request id, so the monitors apply it at most once. It also keeps a
// map current through a subscription of incrementals.
//
// Its API uses Go types (package cluster); protobuf stays inside.
package monclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

const (
	// attemptTimeoutMax bounds one attempt on one monitor, so a monitor
	// without quorum does not use up the caller's whole deadline.
	attemptTimeoutMax = 3 * time.Second
	// retryPause is the pause after every monitor failed once.
	retryPause   = 100 * time.Millisecond
	msgSizeLimit = 64 << 20
)

// Client talks to a cluster's monitors. It is safe for concurrent use.
type Client struct {
	addrs    []string
	conns    []*grpc.ClientConn
	clients  []pb.MonClient
	clientID string
	seq      atomic.Uint64
	pref     atomic.Int32 // index of the monitor that answered last

	closeOnce sync.Once
}

// ParseAddrs splits "host:port,host:port" into addresses.
func ParseAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// New returns a client of the monitors at addrs. Connections are made
// lazily, so New does not fail when monitors are down.
func New(addrs []string) (*Client, error) {
	if len(addrs) == 0 {
		return nil, ErrNoMonitors
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	c := &Client{addrs: addrs, clientID: "client." + hex.EncodeToString(id[:])}
	for _, a := range addrs {
		conn, err := grpc.NewClient(a, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(msgSizeLimit), grpc.MaxCallSendMsgSize(msgSizeLimit)))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("monitor address %q: %w", a, err)
		}
		c.conns = append(c.conns, conn)
		c.clients = append(c.clients, pb.NewMonClient(conn))
	}
	return c, nil
}

// Close closes the connections.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		for _, conn := range c.conns {
			conn.Close()
		}
	})
	return nil
}

// Addrs returns the monitor addresses the client uses.
func (c *Client) Addrs() []string { return append([]string(nil), c.addrs...) }

// call runs fn against monitors in turn, starting with the one that
// answered last, until it succeeds, fails for good, or ctx ends.
func (c *Client) call(ctx context.Context, fn func(ctx context.Context, mc pb.MonClient) error) error {
	var last error
	for round := 0; ; round++ {
		start := int(c.pref.Load())
		for k := range c.clients {
			i := (start + k) % len(c.clients)
			actx, cancel := attemptContext(ctx)
			err := fn(actx, c.clients[i])
			cancel()
			if err == nil {
				c.pref.Store(int32(i))
				return nil
			}
			var retry bool
			last, retry = fromStatus(err)
			if !retry {
				return last
			}
			if ctx.Err() != nil {
				return noQuorum(ctx, last)
			}
		}
		select {
		case <-time.After(retryPause):
		case <-ctx.Done():
			return noQuorum(ctx, last)
		}
	}
}

func attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := attemptTimeoutMax
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		d = time.Until(dl)
	}
	return context.WithTimeout(ctx, d)
}

func noQuorum(ctx context.Context, last error) error {
	return fmt.Errorf("%w: no monitor could serve the request before the deadline (%v); last error: %v: check that a majority of monitors is running",
		ErrNoQuorum, ctx.Err(), last)
}

// Result is what a map-changing command reports.
type Result struct {
	// Epoch is the map epoch that holds the change.
	Epoch   cluster.Epoch
	Message string
}

// command sends one map-changing command with a fresh request id.
func (c *Client) command(ctx context.Context, req *pb.MonCommandRequest) (*pb.MonCommandReply, error) {
	req.ClientId, req.Seq = c.clientID, c.seq.Add(1)
	var rep *pb.MonCommandReply
	err := c.call(ctx, func(ctx context.Context, mc pb.MonClient) error {
		var err error
		rep, err = mc.Command(ctx, req)
		return err
	})
	return rep, err
}

func (c *Client) simple(ctx context.Context, req *pb.MonCommandRequest) (Result, error) {
	rep, err := c.command(ctx, req)
	if err != nil {
		return Result{}, err
	}
	return Result{Epoch: cluster.Epoch(rep.GetEpoch()), Message: rep.GetMessage()}, nil
}

// GetMap returns the newest committed map (a linearizable read).
func (c *Client) GetMap(ctx context.Context) (*cluster.OSDMap, error) {
	var rep *pb.MonGetMapReply
	err := c.call(ctx, func(ctx context.Context, mc pb.MonClient) error {
		var err error
		rep, err = mc.GetMap(ctx, &pb.MonGetMapRequest{})
		return err
	})
	if err != nil {
		return nil, err
	}
	m, err := cluster.Unmarshal(rep.GetMap())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMap, err)
	}
	return m, nil
}

// MonStatus is the monitor quorum as the leader sees it.
type MonStatus struct {
	FSID         string
	Leader       string // "" when no leader is known
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64
	Epoch        cluster.Epoch
	Members      []Member
	// QuorumKnown is false when the answer came from a monitor that could
	// not reach a leader; InQuorum is then unknown.
	QuorumKnown bool
	// AnsweredBy is the monitor that answered.
	AnsweredBy string
}

// Member is one monitor in a MonStatus.
type Member struct {
	Name     string
	Addr     string
	InQuorum bool
}

// Status asks the monitors who leads and who is in quorum. It succeeds
// without a quorum too (QuorumKnown false), as long as one monitor answers.
func (c *Client) Status(ctx context.Context) (*MonStatus, error) {
	var rep *pb.MonStatusReply
	err := c.call(ctx, func(ctx context.Context, mc pb.MonClient) error {
		var err error
		rep, err = mc.Status(ctx, &pb.MonStatusRequest{})
		return err
	})
	if err != nil {
		return nil, err
	}
	st := &MonStatus{FSID: rep.GetFsid(), Leader: rep.GetLeader(), Term: rep.GetTerm(), CommitIndex: rep.GetCommitIndex(),
		AppliedIndex: rep.GetAppliedIndex(), Epoch: cluster.Epoch(rep.GetEpoch()), QuorumKnown: rep.GetQuorumKnown(),
		AnsweredBy: rep.GetName()}
	for _, m := range rep.GetMembers() {
		st.Members = append(st.Members, Member{Name: m.GetName(), Addr: m.GetAddr(), InQuorum: m.GetInQuorum()})
	}
	return st, nil
}
