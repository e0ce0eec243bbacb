package osd

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

// Heartbeats (ceph-facts section 4): every interval each OSD pings its
// peers (the OSDs it shares PGs with, topped up with id-neighbours to
// heartbeatMinPeers) on their public (front) and cluster (back) addresses,
// and reports to the monitors those that stop answering (hbTracker).

// Ceph's defaults.
const (
	DefaultHeartbeatInterval = 6 * time.Second  // osd_heartbeat_interval
	DefaultHeartbeatGrace    = 20 * time.Second // osd_heartbeat_grace
	heartbeatMinPeers        = 10               // osd_heartbeat_min_peers
	heartbeatReportEvery     = 5 * time.Second  // osd_mon_report_interval
	heartbeatMinSize         = 2000             // osd_heartbeat_min_size
)

// HeartbeatServer answers pings on both of an OSD's addresses.
type HeartbeatServer struct {
	pb.UnimplementedHeartbeatServer
	o *OSD
}

// HeartbeatServer returns the ping server of o.
func (o *OSD) HeartbeatServer() *HeartbeatServer { return &HeartbeatServer{o: o} }

// Ping implements pb.HeartbeatServer.
func (s *HeartbeatServer) Ping(_ context.Context, req *pb.PingRequest) (*pb.PingReply, error) {
	if req.GetFsid() != s.o.cfg.FSID.String() {
		return &pb.PingReply{Result: pb.Result_RESULT_WRONG_CLUSTER, Osd: s.o.cfg.ID, OsdEpoch: s.o.Epoch()}, nil
	}
	return &pb.PingReply{Osd: s.o.cfg.ID, OsdEpoch: s.o.Epoch(), FsUsed: s.o.full.get(s.o.cfg.ID)}, nil
}

// heartbeatConfig tunes a heartbeater.
type heartbeatConfig struct {
	interval, grace time.Duration
	report          func(context.Context, monclient.FailureReport) (monclient.Result, error)
	log             *slog.Logger
}

// heartbeater pings an OSD's peers and reports failures.
type heartbeater struct {
	o     *OSD
	cfg   heartbeatConfig
	track *hbTracker
	pad   []byte

	// peers is cached per map epoch.
	peersEpoch cluster.Epoch
	peers      map[int32]uint64

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn // by address and incarnation
}

func newHeartbeater(o *OSD, cfg heartbeatConfig) *heartbeater {
	return &heartbeater{o: o, cfg: cfg, track: newHBTracker(cfg.grace, heartbeatReportEvery),
		pad: make([]byte, heartbeatMinSize), conns: map[string]*grpc.ClientConn{}}
}

// run pings every interval (randomized by ±25%, so that OSDs started
// together do not ping in step) until ctx ends.
func (h *heartbeater) run(ctx context.Context) {
	defer h.closeConns(nil)
	for {
		d := time.Duration(float64(h.cfg.interval) * (0.75 + rand.Float64()/2))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		h.tick(ctx)
	}
}

// tick pings every peer on both paths, waits for the answers (at most one
// interval) and sends the reports that are due.
func (h *heartbeater) tick(ctx context.Context) {
	m := h.o.Map()
	if m == nil || !m.IsUp(h.o.cfg.ID) {
		return // not up: nobody listens to our reports
	}
	h.o.measureFullness()
	now := time.Now()
	h.track.setPeers(h.peerSet(m), now)
	h.pingAll(ctx, m)
	for _, r := range h.track.due(time.Now()) {
		h.send(ctx, m, r)
	}
}

// pingAll pings every tracked peer on both paths in parallel.
func (h *heartbeater) pingAll(ctx context.Context, m *cluster.OSDMap) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.interval)
	defer cancel()
	type result struct {
		id               int32
		front, ok, refus bool
	}
	var wg sync.WaitGroup
	results := make(chan result, 2*len(h.track.peers))
	for id, p := range h.track.peers {
		o := m.OSDs[id]
		for _, front := range []bool{true, false} {
			addr := o.ClusterAddr
			if front {
				addr = o.PublicAddr
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, refused := h.ping(ctx, addr, p.upFrom, uint64(m.Epoch))
				results <- result{id, front, ok, refused}
			}()
		}
	}
	wg.Wait()
	close(results)
	now := time.Now()
	for r := range results {
		h.track.result(r.id, r.front, r.ok, r.refus, now)
	}
}

// ping sends one ping and tells whether it was answered, or refused (no
// listener at the address).
func (h *heartbeater) ping(ctx context.Context, addr string, upFrom, epoch uint64) (ok, refused bool) {
	if addr == "" {
		return false, false
	}
	cc, err := h.conn(addr, upFrom)
	if err != nil {
		return false, false
	}
	rep, err := pb.NewHeartbeatClient(cc).Ping(ctx, &pb.PingRequest{Fsid: h.o.cfg.FSID.String(), FromOsd: h.o.cfg.ID, Epoch: epoch, Padding: h.pad})
	if err != nil {
		return false, isRefused(err)
	}
	if rep.GetResult() != pb.Result_RESULT_OK {
		return false, false
	}
	h.o.full.set(rep.GetOsd(), rep.GetFsUsed())
	return true, false
}

// isRefused reports a failed RPC whose connection attempt was refused.
func isRefused(err error) bool {
	return status.Code(err) == codes.Unavailable && strings.Contains(err.Error(), "connection refused")
}

// hbConnectParams retry a lost peer within a second, so that a restarted
// OSD answers its peers' next pings.
var hbConnectParams = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
	MinConnectTimeout: 5 * time.Second,
}

// conn returns the connection to addr for the peer incarnation upFrom; a
// new incarnation gets a new connection.
func (h *heartbeater) conn(addr string, upFrom uint64) (*grpc.ClientConn, error) {
	key := fmt.Sprintf("%s/%d", addr, upFrom)
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.conns[key]; c != nil {
		return c, nil
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithConnectParams(hbConnectParams))
	if err != nil {
		return nil, err
	}
	h.conns[key] = c
	return c, nil
}

// closeConns closes the connections not in keep (nil: all).
func (h *heartbeater) closeConns(keep map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, c := range h.conns {
		if !keep[k] {
			_ = c.Close()
			delete(h.conns, k)
		}
	}
}

// peerSet returns the heartbeat peers in m (id -> up_from), computed once
// per epoch; connections to OSDs no longer peers are closed.
func (h *heartbeater) peerSet(m *cluster.OSDMap) map[int32]uint64 {
	if h.peers != nil && h.peersEpoch == m.Epoch {
		return h.peers
	}
	ids := heartbeatPeers(m, h.o.cfg.ID, heartbeatMinPeers)
	h.peers, h.peersEpoch = make(map[int32]uint64, len(ids)), m.Epoch
	keep := map[string]bool{}
	for _, id := range ids {
		o := m.OSDs[id]
		h.peers[id] = uint64(o.UpFrom)
		keep[fmt.Sprintf("%s/%d", o.PublicAddr, o.UpFrom)] = true
		keep[fmt.Sprintf("%s/%d", o.ClusterAddr, o.UpFrom)] = true
	}
	h.closeConns(keep)
	return h.peers
}

// heartbeatPeers returns the up OSDs that share a PG with self in m, plus
// the up OSDs that follow self by id (wrapping around) until there are
// minPeers (or no more up OSDs), sorted.
func heartbeatPeers(m *cluster.OSDMap, self int32, minPeers int) []int32 {
	set := map[int32]bool{}
	var mp cluster.Mapping
	for _, pool := range m.Pools {
		for seed := uint32(0); seed < pool.PGNum; seed++ {
			m.MapPG(cluster.PGID{Pool: pool.ID, Seed: seed}, &mp)
			if slices.Contains(mp.Up, self) || slices.Contains(mp.Acting, self) {
				for _, id := range mp.Up {
					set[id] = true
				}
				for _, id := range mp.Acting {
					set[id] = true
				}
			}
		}
	}
	n := m.MaxOSD()
	for i := int32(1); i < n && len(set) < minPeers+1; i++ {
		if id := (self + i) % n; m.IsUp(id) {
			set[id] = true
		}
	}
	var out []int32
	for id := range set {
		if id != self && id >= 0 && id < n && m.IsUp(id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// send reports one failure (or its end) to the monitors.
func (h *heartbeater) send(ctx context.Context, m *cluster.OSDMap, r hbReport) {
	ctx, cancel := context.WithTimeout(ctx, heartbeatReportEvery)
	defer cancel()
	res, err := h.cfg.report(ctx, monclient.FailureReport{Target: r.target, Reporter: h.o.cfg.ID, TargetUpFrom: r.upFrom,
		FailedFor: r.failedFor, Immediate: r.immediate, Cancel: r.cancel, Epoch: uint64(m.Epoch)})
	switch {
	case err != nil:
		h.cfg.log.Warn("failure report not delivered", "target", r.target, "err", err)
	case r.cancel:
		h.cfg.log.Info("peer answers again", "peer", r.target)
	default:
		h.cfg.log.Warn("peer failed", "peer", r.target, "silent", r.failedFor.Round(time.Millisecond),
			"immediate", r.immediate, "monitor", res.Message)
	}
}
