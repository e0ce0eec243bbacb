package mon

// apiServer implements the Mon gRPC service on top of the monitor.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

const (
	// subscribeBatchMax is the most incrementals sent in one update
	// (Ceph's osd_map_message_max).
	subscribeBatchMax = 40
	// defaultRequestTimeout bounds a request without a deadline.
	defaultRequestTimeout = 30 * time.Second
)

type apiServer struct {
	pb.UnimplementedMonServer
	mon *Monitor
}

func withDefaultDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultRequestTimeout)
}

// Command implements pb.MonServer: executed by the leader, forwarded there
// by followers.
func (s *apiServer) Command(ctx context.Context, req *pb.MonCommandRequest) (*pb.MonCommandReply, error) {
	ctx, cancel := withDefaultDeadline(ctx)
	defer cancel()
	cmd, err := commandFromProto(req)
	if err != nil {
		s.mon.metrics.commands.WithLabelValues("invalid").Inc()
		return nil, toStatus(err)
	}
	rep, err := s.command(ctx, req, cmd)
	s.mon.metrics.commands.WithLabelValues(resultLabel(err)).Inc()
	if err != nil {
		return nil, toStatus(err)
	}
	return rep, nil
}

func (s *apiServer) command(ctx context.Context, req *pb.MonCommandRequest, cmd Command) (*pb.MonCommandReply, error) {
	m := s.mon
	for {
		if m.node.isLeader.Load() {
			if f, ok := cmd.(OSDFailure); ok {
				return m.failureReport(ctx, f)
			}
			return m.batch.submit(ctx, &request{cmd: cmd, clientID: req.GetClientId(), seq: req.GetSeq()})
		}
		if req.GetForwarded() {
			return nil, fmt.Errorf("%w: forwarded command reached a follower; retry", ErrNotLeader)
		}
		if err := m.waitLeader(ctx); err != nil {
			return nil, err
		}
		conn, err := m.leaderConn()
		if err != nil {
			continue // we became the leader meanwhile
		}
		fwd := &pb.MonCommandRequest{}
		*fwd = pb.MonCommandRequest{ClientId: req.GetClientId(), Seq: req.GetSeq(), Forwarded: true, Cmd: req.GetCmd()}
		rep, err := pb.NewMonClient(conn).Command(ctx, fwd)
		if err == nil || !retryableForward(err) || ctx.Err() != nil {
			return rep, fromStatus(err)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// GetMap implements pb.MonServer with a linearizable read.
func (s *apiServer) GetMap(ctx context.Context, _ *pb.MonGetMapRequest) (*pb.MonGetMapReply, error) {
	ctx, cancel := withDefaultDeadline(ctx)
	defer cancel()
	if err := s.mon.node.readBarrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	cur, b := s.mon.sm.current()
	if cur == nil {
		return nil, toStatus(fmt.Errorf("%w: the cluster is still being created", ErrNoQuorum))
	}
	return &pb.MonGetMapReply{Epoch: uint64(cur.Epoch), Map: b}, nil
}

// Subscribe implements pb.MonServer: every epoch after from_epoch, as
// incrementals when this monitor still has them, else as one full map.
func (s *apiServer) Subscribe(req *pb.MonSubscribeRequest, stream pb.Mon_SubscribeServer) error {
	from := cluster.Epoch(req.GetFromEpoch())
	ctx := stream.Context()
	for {
		changed := s.mon.sm.epochChanged()
		upd, next := s.nextUpdate(from)
		if upd != nil {
			if err := stream.Send(upd); err != nil {
				return err
			}
			from = next
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		case <-s.mon.stopped:
			return toStatus(ErrStopped)
		}
	}
}

// nextUpdate returns the update that brings a subscriber at epoch from
// forward, and the epoch it will then hold; nil when it is current.
func (s *apiServer) nextUpdate(from cluster.Epoch) (*pb.MonMapUpdate, cluster.Epoch) {
	cur, curBytes := s.mon.sm.current()
	if cur == nil || from >= cur.Epoch {
		return nil, from
	}
	if from > 0 {
		if incs, ok := s.mon.sm.incrementalsAfter(from, subscribeBatchMax); ok {
			return &pb.MonMapUpdate{Incrementals: incs, NewestEpoch: uint64(cur.Epoch)}, from + cluster.Epoch(len(incs))
		}
	}
	return &pb.MonMapUpdate{FullMap: curBytes, NewestEpoch: uint64(cur.Epoch)}, cur.Epoch
}

// Status implements pb.MonServer. A follower asks the leader, which alone
// knows who is in quorum, and falls back to its own view.
func (s *apiServer) Status(ctx context.Context, _ *pb.MonStatusRequest) (*pb.MonStatusReply, error) {
	m := s.mon
	if !m.node.isLeader.Load() {
		if conn, err := m.leaderConn(); err == nil {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			rep, err := pb.NewMonClient(conn).Status(cctx, &pb.MonStatusRequest{})
			cancel()
			if err == nil && rep.GetQuorumKnown() {
				return rep, nil
			}
		}
	}
	return m.localStatus(), nil
}

func (m *Monitor) localStatus() *pb.MonStatusReply {
	st := m.node.node.Status()
	rep := &pb.MonStatusReply{
		Fsid: m.fsid(), Name: m.ident.Self, Term: st.HardState.GetTerm(), CommitIndex: st.HardState.GetCommit(),
		AppliedIndex: m.sm.applied(), QuorumKnown: st.RaftState.String() == "StateLeader",
	}
	if cur, _ := m.sm.current(); cur != nil {
		rep.Epoch = uint64(cur.Epoch)
	}
	if st.Lead != 0 && st.Lead <= uint64(len(m.ident.Members)) {
		rep.Leader = m.ident.Members[st.Lead-1].Name
	}
	for i, mem := range m.ident.Members {
		id := uint64(i + 1)
		in := false
		if rep.QuorumKnown {
			_, ok := st.Progress[id]
			in = id == m.raftID || (ok && m.node.recentlyHeard(id))
		}
		rep.Members = append(rep.Members, &pb.MonMember{Name: mem.Name, RaftId: id, Addr: mem.Addr, InQuorum: in})
	}
	return rep
}

// commandFromProto converts a request into the core's command type.
func commandFromProto(req *pb.MonCommandRequest) (Command, error) {
	switch c := req.GetCmd().(type) {
	case *pb.MonCommandRequest_PoolCreate:
		return poolCreateFromProto(c.PoolCreate), nil
	case *pb.MonCommandRequest_PoolRm:
		return PoolRm{Pool: c.PoolRm.GetName()}, nil
	case *pb.MonCommandRequest_PoolSet:
		p := c.PoolSet
		return PoolSet{Pool: p.GetName(), Key: p.GetKey(), Value: p.GetValue()}, nil
	case *pb.MonCommandRequest_OsdCreate:
		return OSDCreate{UUID: c.OsdCreate.GetUuid()}, nil
	case *pb.MonCommandRequest_OsdBoot:
		b := c.OsdBoot
		return OSDBoot{ID: b.GetId(), UUID: b.GetUuid(), PublicAddr: b.GetPublicAddr(), ClusterAddr: b.GetClusterAddr(),
			HBBackAddr: b.GetHbBackAddr(), HBFront: b.GetHbFrontAddr(), Host: b.GetHost(),
			DeviceClass: b.GetDeviceClass(), CrushWeight: b.GetCrushWeight()}, nil
	case *pb.MonCommandRequest_OsdMark:
		return OSDMark{Op: c.OsdMark.GetOp(), IDs: c.OsdMark.GetIds()}, nil
	case *pb.MonCommandRequest_OsdReweight:
		return OSDReweight{ID: c.OsdReweight.GetId(), Weight: c.OsdReweight.GetWeight()}, nil
	case *pb.MonCommandRequest_OsdPrimaryAffinity:
		return OSDPrimaryAffinity{ID: c.OsdPrimaryAffinity.GetId(), Affinity: c.OsdPrimaryAffinity.GetAffinity()}, nil
	case *pb.MonCommandRequest_OsdFailure:
		f := c.OsdFailure
		return OSDFailure{Target: f.GetTarget(), Reporter: f.GetReporter(), TargetUpFrom: cluster.Epoch(f.GetTargetUpFrom()),
			FailedFor: time.Duration(min(f.GetFailedForMs(), uint64(1<<40))) * time.Millisecond,
			Immediate: f.GetImmediate(), Cancel: f.GetCancel()}, nil
	}
	return crushCommandFromProto(req)
}

func poolCreateFromProto(p *pb.MonPoolCreate) PoolCreate {
	c := PoolCreate{Pool: p.GetName(), PGNum: p.GetPgNum(), CrushRule: p.GetCrushRule()}
	if p.PgpNum != nil {
		c.PGPNum = new(p.GetPgpNum())
	}
	if p.Size != nil {
		c.Size = new(int32(min(p.GetSize(), 1<<20)))
	}
	if p.MinSize != nil {
		c.MinSize = new(int32(min(p.GetMinSize(), 1<<20)))
	}
	return c
}

func crushCommandFromProto(req *pb.MonCommandRequest) (Command, error) {
	switch c := req.GetCmd().(type) {
	case *pb.MonCommandRequest_CrushAddBucket:
		loc, err := parseLocation(c.CrushAddBucket.GetLocation())
		return CrushAddBucket{Bucket: c.CrushAddBucket.GetName(), Type: c.CrushAddBucket.GetType(), Location: loc}, err
	case *pb.MonCommandRequest_CrushMove:
		loc, err := parseLocation(c.CrushMove.GetLocation())
		if err == nil && len(loc) == 0 {
			err = fmt.Errorf("%w: osd crush move needs a location such as root=default", ErrInvalidArgument)
		}
		return CrushMove{Item: c.CrushMove.GetName(), Location: loc}, err
	case *pb.MonCommandRequest_CrushReweight:
		return CrushReweight{Item: c.CrushReweight.GetName(), Weight: c.CrushReweight.GetWeight()}, nil
	case *pb.MonCommandRequest_CrushRuleCreateReplicated:
		r := c.CrushRuleCreateReplicated
		return CrushRuleCreateReplicated{Rule: r.GetName(), Root: r.GetRoot(), FailureDomain: r.GetFailureDomain(), DeviceClass: r.GetDeviceClass()}, nil
	case *pb.MonCommandRequest_CrushRuleRm:
		return CrushRuleRm{Rule: c.CrushRuleRm.GetName()}, nil
	case *pb.MonCommandRequest_SetCrushMap:
		return SetCrushMap{Data: c.SetCrushMap.GetMap()}, nil
	case *pb.MonCommandRequest_SetFlag:
		return SetFlag{Flag: c.SetFlag.GetFlag(), Unset: c.SetFlag.GetUnset()}, nil
	}
	return nil, fmt.Errorf("%w: empty or unknown command: upgrade the client or the monitor", ErrInvalidArgument)
}

// parseLocation parses ["host=h1", "root=default"].
func parseLocation(parts []string) (map[string]string, error) {
	loc := map[string]string{}
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%w: location %q is not TYPE=NAME", ErrInvalidArgument, p)
		}
		if _, dup := loc[k]; dup {
			return nil, fmt.Errorf("%w: location names type %s twice", ErrInvalidArgument, k)
		}
		loc[k] = v
	}
	return loc, nil
}

// failureReport records an OSD's failure report on the leader and, when
// the reports justify it, marks the target down (one epoch). The reply
// says what the leader made of the report.
func (m *Monitor) failureReport(ctx context.Context, f OSDFailure) (*pb.MonCommandReply, error) {
	cur, _ := m.sm.current()
	if cur == nil {
		return nil, fmt.Errorf("%w: the cluster is still being created", ErrNoQuorum)
	}
	if !cur.Exists(f.Target) || !cur.Exists(f.Reporter) {
		return nil, errorf(ErrNotFound, "failure report of osd.%d about osd.%d: no such OSD", f.Reporter, f.Target)
	}
	mark, why := m.failures.report(cur, f, time.Now())
	if mark == nil {
		return &pb.MonCommandReply{Message: why, Epoch: uint64(cur.Epoch), Fsid: cur.FSID.String()}, nil
	}
	m.log.Info("marking an OSD down on failure reports", "osd", mark.ID, "why", mark.Why)
	rep, err := m.batch.submit(ctx, &request{cmd: *mark})
	if err == nil {
		m.failures.forget(mark.ID)
	}
	return rep, err
}
