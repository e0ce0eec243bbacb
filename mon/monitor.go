package mon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"

	"github.com/gorados/gorados/proto/pb"
)

// Config configures a monitor. On the first start of a data directory Name
// and Members are required and are stored; later starts may leave them
// empty (they are read from the store) but must agree with it when given.
type Config struct {
	Name    string
	DataDir string
	Members []Member
	// ListenAddr defaults to this member's address in Members.
	ListenAddr string
	// HTTPAddr serves /metrics and /healthz; empty disables it.
	HTTPAddr string

	// BatchWindow is how long the leader gathers commands into one epoch
	// (default 20ms).
	BatchWindow time.Duration
	// HistoryEpochs is how many incrementals are kept (default 500).
	HistoryEpochs uint64
	// SnapshotEvery is the number of applied raft entries between
	// snapshots (default 1000).
	SnapshotEvery uint64
	// SnapshotKeep is the number of log entries kept behind a snapshot for
	// followers that are slightly behind (default 200).
	SnapshotKeep uint64
	// TickInterval and ElectionTicks set raft's clock (defaults 50ms, 20).
	TickInterval  time.Duration
	ElectionTicks int
	Limits        Limits
	// Failure is when OSD failure reports mark an OSD down (zero:
	// DefaultFailurePolicy).
	Failure FailurePolicy
	Logger  *slog.Logger
}

func (c *Config) setDefaults() {
	if c.BatchWindow == 0 {
		c.BatchWindow = 20 * time.Millisecond
	}
	if c.Limits == (Limits{}) {
		c.Limits = DefaultLimits()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Failure == (FailurePolicy{}) {
		c.Failure = DefaultFailurePolicy()
	}
}

// Monitor is one running monitor: raft node, map state machine, gRPC and
// HTTP servers.
type Monitor struct {
	cfg      Config
	ident    storedIdentity
	raftID   uint64
	db       *bolt.DB
	sm       *mapState
	storage  *raftStorage
	node     *raftNode
	tr       *transport
	batch    *batcher
	failures *failureTracker
	downOut  downOutTracker
	metrics  *metrics
	log      *slog.Logger

	grpcSrv *grpc.Server
	lis     net.Listener
	httpSrv *http.Server
	httpLis net.Listener

	peersMu sync.Mutex
	peers   map[uint64]*grpc.ClientConn

	stopOnce sync.Once
	stopped  chan struct{}
	fatal    chan error
}

// Open opens (or, on the first start, initializes) a monitor's data
// directory and checks it against cfg. It does not start serving.
func Open(cfg Config) (*Monitor, error) {
	cfg.setDefaults()
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("%w: --data is required", ErrBadConfig)
	}
	db, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	m, err := openWithStore(cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

func openWithStore(cfg Config, db *bolt.DB) (*Monitor, error) {
	ident, err := resolveIdentity(cfg, db)
	if err != nil {
		return nil, err
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = ident.ListenAddr
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = ident.HTTPAddr
	}
	m := &Monitor{
		cfg: cfg, ident: ident, raftID: memberID(ident.Members, ident.Self), db: db,
		log: cfg.Logger.With("mon", ident.Self), peers: map[uint64]*grpc.ClientConn{},
		stopped: make(chan struct{}), fatal: make(chan error, 4),
	}
	if m.sm, err = loadMapState(db, cfg.HistoryEpochs); err != nil {
		return nil, err
	}
	if m.storage, err = openRaftStorage(db); err != nil {
		return nil, err
	}
	if err := m.restoreIfBehindSnapshot(); err != nil {
		return nil, err
	}
	m.metrics = newMetrics(m)
	m.batch = &batcher{mon: m, in: make(chan *request, batchMax)}
	m.failures = newFailureTracker(cfg.Failure)
	return m, nil
}

// restoreIfBehindSnapshot covers a crash between saving a snapshot received
// from the leader and applying it: raft's log then starts after the
// snapshot, so the state machine must be brought to the snapshot first.
func (m *Monitor) restoreIfBehindSnapshot() error {
	snap, _ := m.storage.Snapshot()
	idx := snap.GetMetadata().GetIndex()
	if idx <= m.sm.applied() {
		return nil
	}
	m.log.Warn("state machine behind the stored snapshot; restoring it", "applied", m.sm.applied(), "snapshot", idx)
	return m.sm.restore(idx, snap.GetData())
}

// resolveIdentity bootstraps a fresh store from cfg or checks cfg against
// the stored identity.
func resolveIdentity(cfg Config, db *bolt.DB) (storedIdentity, error) {
	stored, ok, err := readIdentity(db)
	if err != nil {
		return stored, err
	}
	if ok {
		return stored, checkIdentity(cfg, stored)
	}
	if cfg.Name == "" || len(cfg.Members) == 0 {
		return stored, fmt.Errorf("%w: %s holds no monitor yet: the first start needs --id and --initial-members", ErrBadConfig, cfg.DataDir)
	}
	if memberID(cfg.Members, cfg.Name) == 0 {
		return stored, fmt.Errorf("%w: --id %s is not in --initial-members %s", ErrBadConfig, cfg.Name, FormatMembers(cfg.Members))
	}
	id := storedIdentity{Self: cfg.Name, Members: cfg.Members, ListenAddr: cfg.ListenAddr, HTTPAddr: cfg.HTTPAddr}
	if id.ListenAddr == "" {
		id.ListenAddr = cfg.Members[memberID(cfg.Members, cfg.Name)-1].Addr
	}
	if err := bootstrapStore(db, id, nil); err != nil {
		return stored, fmt.Errorf("initialize %s: %w", cfg.DataDir, err)
	}
	return id, nil
}

func checkIdentity(cfg Config, stored storedIdentity) error {
	if cfg.Name != "" && cfg.Name != stored.Self {
		return fmt.Errorf("%w: --id %s but %s belongs to monitor %s", ErrBadConfig, cfg.Name, cfg.DataDir, stored.Self)
	}
	if len(cfg.Members) > 0 && FormatMembers(cfg.Members) != FormatMembers(stored.Members) {
		return fmt.Errorf("%w: --initial-members %s, stored %s: restart with `mon --data %s` alone",
			ErrMembersMismatch, FormatMembers(cfg.Members), FormatMembers(stored.Members), cfg.DataDir)
	}
	return nil
}

// Name returns the monitor's name.
func (m *Monitor) Name() string { return m.ident.Self }

// Members returns the cluster's monitors.
func (m *Monitor) Members() []Member { return append([]Member(nil), m.ident.Members...) }

// Start listens on the configured addresses and starts raft. Errors that
// stop the monitor later are reported on Done.
func (m *Monitor) Start() error {
	lis, err := net.Listen("tcp", m.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("%w: listen on %s: %w", ErrBadConfig, m.cfg.ListenAddr, err)
	}
	return m.StartOn(lis)
}

// StartOn is Start with a listener the caller already opened.
func (m *Monitor) StartOn(lis net.Listener) error {
	m.lis = lis
	if err := m.startHTTP(); err != nil {
		lis.Close()
		return err
	}
	tr, err := newTransport(m.raftID, m.ident.Members, m.fsid, m.log)
	if err != nil {
		return err
	}
	tr.onFSIDMismatch = func(peer uint64, err error) {
		m.log.Error("peer refuses our raft messages", "peer", peer, "err", err)
	}
	m.tr = tr
	m.node = newRaftNode(nodeConfig{
		ID: m.raftID, TickInterval: m.cfg.TickInterval, ElectionTicks: m.cfg.ElectionTicks,
		SnapshotEvery: m.cfg.SnapshotEvery, SnapshotKeep: m.cfg.SnapshotKeep,
	}, m.storage, m.sm, m.log)
	m.node.send = tr.send
	m.node.onLeader = m.onLeaderChange
	m.grpcSrv = grpc.NewServer(grpc.MaxRecvMsgSize(grpcMsgSizeLimit), grpc.MaxSendMsgSize(grpcMsgSizeLimit))
	pb.RegisterRaftTransportServer(m.grpcSrv, &raftServer{t: tr})
	pb.RegisterMonServer(m.grpcSrv, &apiServer{mon: m})
	go m.grpcSrv.Serve(lis)
	tr.start(m.node)
	m.node.start()
	go m.batch.run()
	go m.watchNode()
	go m.checkPeerFSIDs()
	go m.markDownOSDsOut()
	m.log.Info("monitor started", "addr", lis.Addr().String(), "members", FormatMembers(m.ident.Members))
	return nil
}

// Addr returns the gRPC address the monitor listens on.
func (m *Monitor) Addr() string { return m.lis.Addr().String() }

// HTTPAddr returns the metrics address, or "" when disabled.
func (m *Monitor) HTTPAddr() string {
	if m.httpLis == nil {
		return ""
	}
	return m.httpLis.Addr().String()
}

// Done reports a fatal error (e.g. the disk failed) after which the
// monitor stopped participating.
func (m *Monitor) Done() <-chan error { return m.fatal }

func (m *Monitor) watchNode() {
	select {
	case <-m.node.done:
		if err := m.node.err(); err != nil {
			m.fatal <- err
		}
	case <-m.stopped:
	}
}

func (m *Monitor) fsid() string {
	cur, _ := m.sm.current()
	if cur == nil {
		return ""
	}
	return cur.FSID.String()
}

// markDownOSDsOut is the leader's periodic check for OSDs down longer than
// the down-out interval (Ceph's OSDMonitor::tick), which it marks out.
func (m *Monitor) markDownOSDsOut() {
	p := m.cfg.Failure
	if p.DownOut <= 0 {
		return
	}
	every := min(max(p.DownOut/10, 100*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stopped:
			return
		case <-t.C:
		}
		cur, _ := m.sm.current()
		if !m.node.isLeader.Load() || cur == nil {
			m.downOut.reset() // a later leadership counts afresh
			continue
		}
		ids := m.downOut.due(cur, p, time.Now())
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), proposalDeadline)
		rep, err := m.batch.submit(ctx, &request{cmd: OSDAutoOut{IDs: ids}})
		cancel()
		if err != nil {
			m.log.Warn("marking down OSDs out failed; retrying", "osds", ids, "err", err)
		} else if rep.GetMessage() != "" {
			m.log.Info(rep.GetMessage(), "epoch", rep.GetEpoch())
		}
	}
}

// onLeaderChange bootstraps the cluster when this monitor becomes the first
// leader.
func (m *Monitor) onLeaderChange(leader bool) {
	if !leader {
		return
	}
	go func() {
		if cur, _ := m.sm.current(); cur != nil {
			return
		}
		if err := m.batch.bootstrapCluster(); err != nil {
			m.log.Warn("cluster bootstrap proposal failed; the next leader retries", "err", err)
			return
		}
		cur, _ := m.sm.current()
		if cur != nil {
			m.log.Info("cluster created", "fsid", cur.FSID.String(), "epoch", cur.Epoch)
		}
	}()
}

// Stop stops serving and closes the store.
func (m *Monitor) Stop() {
	m.stopOnce.Do(func() {
		close(m.stopped)
		if m.grpcSrv != nil {
			stopGRPC(m.grpcSrv)
		}
		if m.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = m.httpSrv.Shutdown(ctx)
			cancel()
		}
		if m.node != nil {
			m.node.stop()
		}
		if m.tr != nil {
			m.tr.close()
			m.tr.wait()
		}
		m.closePeers()
		m.db.Close()
	})
}

// stopGRPC stops gracefully but gives up on long-lived streams.
func stopGRPC(s *grpc.Server) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(500 * time.Millisecond):
		s.Stop()
	}
}

// leaderConn returns a connection to the current leader, or an error when
// no leader is known.
func (m *Monitor) leaderConn() (*grpc.ClientConn, error) {
	lead := m.node.lead.Load()
	if lead == 0 || lead > uint64(len(m.ident.Members)) {
		return nil, ErrNoQuorum
	}
	if lead == m.raftID {
		return nil, errors.New("this monitor is the leader")
	}
	return m.peerConn(lead)
}

// peerConn returns the (cached) API connection to member id.
func (m *Monitor) peerConn(id uint64) (*grpc.ClientConn, error) {
	m.peersMu.Lock()
	defer m.peersMu.Unlock()
	if c := m.peers[id]; c != nil {
		return c, nil
	}
	c, err := grpc.NewClient(m.ident.Members[id-1].Addr, dialOptions()...)
	if err != nil {
		return nil, err
	}
	m.peers[id] = c
	return c, nil
}

func (m *Monitor) closePeers() {
	m.peersMu.Lock()
	defer m.peersMu.Unlock()
	for _, c := range m.peers {
		c.Close()
	}
}

// waitLeader waits until some leader is known or ctx ends.
func (m *Monitor) waitLeader(ctx context.Context) error {
	for {
		ch := m.node.leaderChanged()
		if m.node.lead.Load() != 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: no leader elected: %w", ErrNoQuorum, ctx.Err())
		case <-m.stopped:
			return ErrStopped
		}
	}
}
