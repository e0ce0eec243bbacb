package osd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/fastrpc"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// MkfsConfig is the input of Mkfs.
type MkfsConfig struct {
	DataDir     string
	Monitors    []string
	Host        string
	DeviceClass string
}

// Mkfs prepares a data directory: it asks the monitors for an OSD id and
// the cluster fsid, creates the object store, and writes the superblock.
func Mkfs(ctx context.Context, cfg MkfsConfig) (*Superblock, error) {
	if cfg.DataDir == "" || len(cfg.Monitors) == 0 {
		return nil, fmt.Errorf("%w: mkfs needs --data and --mon", ErrBadConfig)
	}
	if cfg.Host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("%w: no --host given and the hostname is unknown: %v", ErrBadConfig, err)
		}
		cfg.Host = h
	}
	switch cfg.DeviceClass {
	case "":
		cfg.DeviceClass = "hdd"
	case "hdd", "ssd", "nvme":
	default:
		return nil, fmt.Errorf("%w: --class %q: use hdd, ssd or nvme", ErrBadConfig, cfg.DeviceClass)
	}
	if _, err := ReadSuperblock(cfg.DataDir); err == nil {
		return nil, fmt.Errorf("%w: %s already holds an OSD (remove it to start over)", ErrBadConfig, cfg.DataDir)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	mc, err := monclient.New(cfg.Monitors)
	if err != nil {
		return nil, err
	}
	defer mc.Close()
	sb := &Superblock{UUID: newUUID(), Monitors: cfg.Monitors, Host: cfg.Host, DeviceClass: cfg.DeviceClass, Created: time.Now().UTC()}
	ctx, cancel := context.WithTimeout(ctx, monitorTimeout)
	defer cancel()
	if sb.ID, sb.FSID, err = mc.OSDCreate(ctx, sb.UUID); err != nil {
		return nil, fmt.Errorf("osd create: %w", err)
	}
	st, err := store.Create(cfg.DataDir, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("create object store: %w", err)
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	return sb, writeSuperblock(cfg.DataDir, sb)
}

// RunConfig is the input of Run.
type RunConfig struct {
	DataDir     string
	PublicAddr  string
	ClusterAddr string
	// MetricsAddr serves /metrics and /healthz over HTTP when set.
	MetricsAddr string
	// Monitors overrides the superblock's monitor addresses when set.
	Monitors []string
	Logger   *slog.Logger
	// KeepCrushLocation leaves the OSD's CRUSH location alone at boot
	// (Ceph's osd_crush_update_on_start=false): for clusters whose CRUSH
	// map an operator manages.
	KeepCrushLocation bool
	// Ready, if set, is called once the OSD has booted (listening,
	// announced to the monitors).
	Ready func(*OSD)
	// CacheBytes is the memory for recently read block file data
	// (store.Options.CacheBytes).
	CacheBytes int64
	// HeartbeatInterval and HeartbeatGrace: how often peers are pinged and
	// how long one may stay silent before it is reported failed (defaults
	// DefaultHeartbeatInterval and DefaultHeartbeatGrace).
	HeartbeatInterval, HeartbeatGrace time.Duration
}

// daemon is a running OSD process: listeners, monitor client, core.
type daemon struct {
	cfg      RunConfig
	sb       *Superblock
	log      *slog.Logger
	st       *store.Store
	mc       *monclient.Client
	o        *OSD
	grpcPub  *grpc.Server
	grpcClu  *grpc.Server
	http     *http.Server
	fatalErr chan error
	// booted is set once the first boot is committed; rebooting while a
	// boot after a mark-down is in flight; markdowns are their times.
	booted    atomic.Bool
	bootEpoch atomic.Uint64
	rebooting atomic.Bool
	markdowns []time.Time
}

// Run runs an OSD until ctx ends (SIGTERM), then tells the monitors it is
// going down and stops cleanly. A data directory of another cluster than
// the monitors' is refused.
func Run(ctx context.Context, cfg RunConfig) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PublicAddr == "" || cfg.ClusterAddr == "" {
		return fmt.Errorf("%w: --public-addr and --cluster-addr are required", ErrBadConfig)
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.HeartbeatGrace <= 0 {
		cfg.HeartbeatGrace = DefaultHeartbeatGrace
	}
	sb, err := ReadSuperblock(cfg.DataDir)
	if err != nil {
		return err
	}
	d := &daemon{cfg: cfg, sb: sb, log: cfg.Logger.With("osd", sb.ID), fatalErr: make(chan error, 1)}
	defer d.close()
	if err := d.start(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-d.fatalErr:
		return err
	}
	d.markDown()
	return nil
}

func (d *daemon) start(ctx context.Context) error {
	if len(d.cfg.Monitors) > 0 {
		d.sb.Monitors = d.cfg.Monitors
	}
	var err error
	if d.mc, err = monclient.New(d.sb.Monitors); err != nil {
		return err
	}
	m, err := d.firstMap(ctx)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := NewMetrics(reg)
	if d.st, err = store.Open(d.cfg.DataDir, store.Options{OnCommit: metrics.OnCommit, Logger: d.log, CacheBytes: d.cfg.CacheBytes}); err != nil {
		return fmt.Errorf("open object store: %w", err)
	}
	RegisterStoreStats(reg, d.st)
	d.o, err = New(Config{ID: d.sb.ID, FSID: m.FSID, Store: d.st, Logger: d.log, Metrics: metrics, Fatal: d.fatal})
	if err != nil {
		return err
	}
	if err := d.o.HandleMap(m); err != nil {
		return err
	}
	d.o.Start()
	if err := d.listen(reg); err != nil {
		return err
	}
	go d.followMaps(ctx, m)
	go newHeartbeater(d.o, heartbeatConfig{interval: d.cfg.HeartbeatInterval, grace: d.cfg.HeartbeatGrace,
		report: d.mc.ReportFailure, log: d.log}).run(ctx)
	return d.boot(ctx)
}

// firstMap fetches the current map and checks that the data directory
// belongs to the monitors' cluster.
func (d *daemon) firstMap(ctx context.Context) (*cluster.OSDMap, error) {
	ctx, cancel := context.WithTimeout(ctx, monitorTimeout)
	defer cancel()
	m, err := d.mc.GetMap(ctx)
	if err != nil {
		return nil, fmt.Errorf("get the cluster map from %v: %w", d.sb.Monitors, err)
	}
	if m.FSID.String() != d.sb.FSID {
		return nil, fmt.Errorf("data directory %s is of cluster %s but the monitors run cluster %s: %w (use the right --mon or data directory)",
			d.cfg.DataDir, d.sb.FSID, m.FSID, ErrWrongCluster)
	}
	return m, nil
}

func (d *daemon) listen(reg *prometheus.Registry) error {
	pub, err := net.Listen("tcp", d.cfg.PublicAddr)
	if err != nil {
		return fmt.Errorf("listen on the public address: %w", err)
	}
	clu, err := net.Listen("tcp", d.cfg.ClusterAddr)
	if err != nil {
		pub.Close()
		return fmt.Errorf("listen on the cluster address: %w", err)
	}
	d.grpcPub, d.grpcClu = grpc.NewServer(ServerOptions()...), grpc.NewServer(ServerOptions()...)
	pb.RegisterObjectServiceServer(d.grpcPub, d.o.ObjectServer())
	pb.RegisterOSDClusterServer(d.grpcClu, d.o.ClusterServer())
	pb.RegisterHeartbeatServer(d.grpcPub, d.o.HeartbeatServer())
	pb.RegisterHeartbeatServer(d.grpcClu, d.o.HeartbeatServer())
	// Execute and RepOp also come over fastrpc on the same addresses.
	pubRest, cluRest := fastrpc.Split(pub, d.o.FastPublic()), fastrpc.Split(clu, d.o.FastCluster())
	go func() { _ = d.grpcPub.Serve(pubRest) }()
	go func() { _ = d.grpcClu.Serve(cluRest) }()
	d.cfg.PublicAddr, d.cfg.ClusterAddr = pub.Addr().String(), clu.Addr().String()
	if d.cfg.MetricsAddr != "" {
		return d.serveHTTP(reg)
	}
	return nil
}

func (d *daemon) serveHTTP(reg *prometheus.Registry) error {
	lis, err := net.Listen("tcp", d.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on the metrics address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", d.healthz)
	// Go profiles, for finding where an OSD spends its time under load.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	d.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = d.http.Serve(lis) }()
	return nil
}

// healthz answers 200 while the OSD is up in its own newest map.
func (d *daemon) healthz(w http.ResponseWriter, _ *http.Request) {
	m := d.o.Map()
	if m == nil || !m.IsUp(d.sb.ID) {
		http.Error(w, fmt.Sprintf("osd.%d is not up in its map yet", d.sb.ID), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "ok osd.%d epoch %d\n", d.sb.ID, m.Epoch)
}

// followMaps feeds every new epoch to the core.
func (d *daemon) followMaps(ctx context.Context, have *cluster.OSDMap) {
	for upd := range d.mc.Subscribe(ctx, have) {
		d.log.Debug("map", "epoch", upd.Map.Epoch, "incremental", upd.Incremental != nil)
		if err := d.o.HandleMap(upd.Map); err != nil {
			d.fatal(err)
			return
		}
		d.checkMarkedDown(ctx, upd.Map)
	}
}

// Ceph's limits for an OSD marked down while alive: it boots again, but
// after osd_max_markdown_count mark-downs within osd_max_markdown_period
// it gives up (a flapping OSD hurts the cluster more than a dead one).
const (
	markdownCountMax = 5
	markdownPeriod   = 10 * time.Minute
)

// checkMarkedDown boots again when a map marks this running OSD down
// (an operator's `osd down`, or a monitor's mistake), as Ceph OSDs do.
func (d *daemon) checkMarkedDown(ctx context.Context, m *cluster.OSDMap) {
	// Maps up to the epoch of the last boot may still show the OSD down.
	if !d.booted.Load() || m.IsUp(d.sb.ID) || uint64(m.Epoch) <= d.bootEpoch.Load() || ctx.Err() != nil ||
		d.rebooting.Swap(true) {
		return
	}
	now := time.Now()
	d.markdowns = append(d.markdowns, now)
	for len(d.markdowns) > 0 && now.Sub(d.markdowns[0]) > markdownPeriod {
		d.markdowns = d.markdowns[1:]
	}
	if len(d.markdowns) > markdownCountMax {
		d.fatal(fmt.Errorf("osd.%d was marked down %d times within %v while running: exiting as Ceph does (check the network and the heartbeats)",
			d.sb.ID, len(d.markdowns), markdownPeriod))
		return
	}
	d.log.Warn("the map marks this running OSD down; booting again", "epoch", m.Epoch)
	go func() {
		defer d.rebooting.Store(false)
		if err := d.boot(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("boot after a mark-down failed; will retry on the next map", "err", err)
		}
	}()
}

// monitorTimeout bounds the monitor calls of mkfs and start-up, so that a
// wrong --mon or a cluster without quorum gives an error instead of a hang.
const monitorTimeout = 60 * time.Second

// boot announces the OSD to the monitors with its addresses.
func (d *daemon) boot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, monitorTimeout)
	defer cancel()
	host := d.sb.Host
	if d.cfg.KeepCrushLocation {
		host = ""
	}
	res, err := d.mc.OSDBoot(ctx, monclient.BootInfo{ID: d.sb.ID, UUID: d.sb.UUID,
		PublicAddr: d.cfg.PublicAddr, ClusterAddr: d.cfg.ClusterAddr,
		HeartbeatFront: d.cfg.PublicAddr, HeartbeatBack: d.cfg.ClusterAddr,
		Host: host, DeviceClass: d.sb.DeviceClass})
	if err != nil {
		return fmt.Errorf("osd boot: %w", err)
	}
	d.bootEpoch.Store(uint64(res.Epoch))
	d.log.Info("booted", "epoch", res.Epoch, "public", d.cfg.PublicAddr, "cluster", d.cfg.ClusterAddr, "host", d.sb.Host)
	if !d.booted.Swap(true) && d.cfg.Ready != nil {
		d.cfg.Ready(d.o)
	}
	return nil
}

// markDown tells the monitors this OSD is going down, so clients and peers
// stop waiting for it (best effort, bounded).
func (d *daemon) markDown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.mc.OSDMark(ctx, "down", d.sb.ID); err != nil {
		d.log.Warn("could not mark this OSD down", "err", err)
		return
	}
	d.log.Info("marked down; stopping")
}

func (d *daemon) fatal(err error) {
	select {
	case d.fatalErr <- err:
	default:
	}
}

func (d *daemon) close() {
	if d.grpcPub != nil {
		d.grpcPub.Stop()
		d.grpcClu.Stop()
	}
	if d.http != nil {
		_ = d.http.Close()
	}
	if d.o != nil {
		d.o.Stop()
	}
	if d.st != nil {
		if err := d.st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			d.log.Warn("closing the store", "err", err)
		}
	}
	if d.mc != nil {
		d.mc.Close()
	}
}
