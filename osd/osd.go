package osd

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/osd/objop"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
)

// Config configures an OSD daemon core.
type Config struct {
	// ID and FSID identify this OSD and its cluster (from the superblock).
	ID   int32
	FSID cluster.UUID
	// Store is the OSD's open object store.
	Store *store.Store
	// Limits bound client ops; zero means objop.DefaultLimits capped by
	// the store's limits.
	Limits objop.Limits
	// LogLimits bound PG logs; zero means pg.DefaultLogLimits.
	LogLimits pg.LogLimits
	// Shards is the number of op queues; zero means twice GOMAXPROCS.
	Shards int
	// MapWait is how long an op from a client with a newer map waits for
	// this OSD to get that map before the client is told to retry.
	MapWait time.Duration
	// Tick is the PG timer period (peering query retries).
	Tick time.Duration
	// Logger receives the daemon's logs; default slog.Default().
	Logger *slog.Logger
	// Metrics, if set, receives op and PG metrics.
	Metrics *Metrics
	// Fatal is called when the OSD cannot go on safely (a store commit
	// failed after the PG log moved); the daemon exits. Default: panic.
	Fatal func(error)
}

func (c *Config) setDefaults() error {
	if c.Store == nil || c.ID < 0 || c.FSID.IsZero() {
		return fmt.Errorf("%w: need a store, an OSD id >= 0 and an fsid", ErrBadConfig)
	}
	if c.Limits == (objop.Limits{}) {
		c.Limits = limitsFromStore(c.Store.Limits())
	}
	if c.LogLimits == (pg.LogLimits{}) {
		c.LogLimits = pg.DefaultLogLimits()
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if err := c.LogLimits.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if c.Shards <= 0 {
		c.Shards = 2 * runtime.GOMAXPROCS(0)
	}
	if c.MapWait <= 0 {
		c.MapWait = 3 * time.Second
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Fatal == nil {
		c.Fatal = func(err error) { panic(err) }
	}
	return nil
}

// limitsFromStore returns objop's defaults, lowered where the store is
// stricter, so that a planned op never fails in the store.
func limitsFromStore(s store.Limits) objop.Limits {
	l := objop.DefaultLimits()
	l.ObjectSize = min(l.ObjectSize, s.ObjectSize)
	l.WriteSize = min(l.WriteSize, l.ObjectSize)
	l.NameLen = min(l.NameLen, s.NameLen)
	l.NamespaceLen = min(l.NamespaceLen, s.NamespaceLen)
	l.KeyLen = min(l.KeyLen, s.KeyLen)
	l.XattrNameLen = min(l.XattrNameLen, s.XattrNameLen)
	l.XattrValueLen = min(l.XattrValueLen, s.XattrValueLen)
	l.OmapKeyLen = min(l.OmapKeyLen, s.OmapKeyLen)
	l.OmapValueLen = min(l.OmapValueLen, s.OmapValueLen)
	return l
}

// OSD is the daemon core: PGs, their op queues, the map, the peers. The
// gRPC servers (server.go) and the process wiring (cmd/osd) wrap it.
type OSD struct {
	cfg    Config
	log    *slog.Logger
	st     *store.Store
	shards []*shard
	peers  *peerSet
	full   fullness // file system use of this OSD and its peers

	mapMu      sync.Mutex
	curMap     atomic.Pointer[cluster.OSDMap]
	mapChanged chan struct{} // closed and replaced on every new map

	pgsMu sync.RWMutex
	pgs   map[cluster.PGID]*pgHandle

	ctx    context.Context // canceled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New loads every PG found in the store and returns a stopped OSD; call
// Start, then feed maps with HandleMap.
func New(cfg Config) (*OSD, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := &OSD{cfg: cfg, log: cfg.Logger.With("osd", cfg.ID), st: cfg.Store,
		mapChanged: make(chan struct{}), pgs: map[cluster.PGID]*pgHandle{}, ctx: ctx, cancel: cancel}
	o.peers = newPeerSet(o)
	for range cfg.Shards {
		o.shards = append(o.shards, newShard())
	}
	if err := o.loadPGs(); err != nil {
		o.Stop()
		return nil, err
	}
	return o, nil
}

// loadPGs instantiates every PG collection of the store.
func (o *OSD) loadPGs() error {
	colls, err := o.st.ListCollections(o.ctx)
	if err != nil {
		return fmt.Errorf("list PGs: %w", err)
	}
	for _, c := range colls {
		if c.ID.IsMeta() {
			continue
		}
		if c.Incomplete {
			o.log.Warn("skipping incomplete (half-imported) PG", "pg", c.ID)
			continue
		}
		id := cluster.PGID{Pool: c.ID.Pool, Seed: c.ID.Seed}
		core, err := loadPG(o.ctx, o.st, o.pgConfig(id))
		if err != nil {
			return err
		}
		o.pgs[id] = newPGHandle(o, id, core)
	}
	o.log.Info("loaded PGs", "count", len(o.pgs))
	return nil
}

func (o *OSD) pgConfig(id cluster.PGID) pg.Config {
	return pg.Config{Whoami: o.cfg.ID, PG: id, Limits: o.cfg.LogLimits, QueryRetryTicks: 3}
}

// shardOf picks the shard of a PG by hashing its id.
func (o *OSD) shardOf(id cluster.PGID) *shard {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d.%d", id.Pool, id.Seed)
	return o.shards[int(h.Sum32())%len(o.shards)]
}

// Start starts the PG timer.
func (o *OSD) Start() {
	o.wg.Add(1)
	go o.tickLoop()
}

func (o *OSD) tickLoop() {
	defer o.wg.Done()
	t := time.NewTicker(o.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-t.C:
			for _, h := range o.handles() {
				h.post(h.tick)
			}
		}
	}
}

// Stop ends the timer, fails waiting ops, drains the shards and closes
// peer connections. The store stays open (the caller owns it).
func (o *OSD) Stop() {
	o.cancel()
	o.wg.Wait()
	for _, s := range o.shards {
		s.stop()
	}
	o.peers.close()
}

// handles returns the PG handles, sorted by PG id.
func (o *OSD) handles() []*pgHandle {
	o.pgsMu.RLock()
	out := make([]*pgHandle, 0, len(o.pgs))
	for _, h := range o.pgs {
		out = append(out, h)
	}
	o.pgsMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id.Less(out[j].id) })
	return out
}

func (o *OSD) handle(id cluster.PGID) *pgHandle {
	o.pgsMu.RLock()
	defer o.pgsMu.RUnlock()
	return o.pgs[id]
}

// Map returns the newest map, or nil before the first.
func (o *OSD) Map() *cluster.OSDMap { return o.curMap.Load() }

// Epoch returns the newest map's epoch (0 before the first map).
func (o *OSD) Epoch() uint64 {
	if m := o.curMap.Load(); m != nil {
		return uint64(m.Epoch)
	}
	return 0
}

// waitForEpoch waits until the OSD has a map of at least epoch e, up to
// MapWait or ctx's end; it reports whether it got there.
func (o *OSD) waitForEpoch(ctx context.Context, e uint64) bool {
	deadline := time.NewTimer(o.cfg.MapWait)
	defer deadline.Stop()
	for {
		o.mapMu.Lock()
		ch := o.mapChanged
		o.mapMu.Unlock()
		if o.Epoch() >= e {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		case <-o.ctx.Done():
			return false
		}
	}
}
