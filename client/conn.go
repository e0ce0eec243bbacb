package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/failpoint"
	"github.com/gorados/gorados/proto/pb"
)

// FailpointMapUpdate is evaluated before the client installs a map
// delivered by its subscription; when it returns an error the update is
// dropped. Tests use it to hold a client on a stale map: the client then
// learns of newer epochs only from OSD redirects, and fetches them from
// the monitors directly.
const FailpointMapUpdate = "clientMapUpdate"

// mapSource is what the client needs from the monitors; *monclient.Client
// implements it, unit tests substitute a fake.
type mapSource interface {
	GetMap(ctx context.Context) (*cluster.OSDMap, error)
	Subscribe(ctx context.Context, have *cluster.OSDMap) <-chan monclient.MapUpdate
	Close() error
}

// Conn is a connection to one cluster: the monitors (for the map) and a
// pool of connections to OSDs. It is safe for concurrent use; open pools
// with OpenPool and close the Conn when done.
type Conn struct {
	cfg  Config
	mons mapSource
	fsid string
	osds *osdPool

	clientID    uint64
	incarnation uint64
	tid         atomic.Uint64

	mu      sync.Mutex
	cur     atomic.Pointer[cluster.OSDMap]
	changed chan struct{} // closed and replaced when a newer map is installed

	refreshMu sync.Mutex // one direct map fetch at a time

	placements placements // PG placements computed in the current map

	stats   counters
	stop    context.CancelFunc
	done    chan struct{} // closed by Close
	subDone chan struct{} // closed when the subscription goroutine ends
	closed  sync.Once
}

// Connect reaches the monitors of cfg, fetches the current map and keeps
// it current through a subscription until Close. It fails when no monitor
// answers before ctx ends (check the addresses and that a majority of
// monitors runs) or when the cluster is not cfg.FSID.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	mc, err := monclient.New(cfg.Monitors)
	if err != nil {
		return nil, fmt.Errorf("connect to monitors %v: %w", cfg.Monitors, err)
	}
	return connect(ctx, cfg, mc)
}

// connect finishes Connect with any map source.
func connect(ctx context.Context, cfg Config, mons mapSource) (*Conn, error) {
	m, err := mons.GetMap(ctx)
	if err != nil {
		mons.Close()
		return nil, fmt.Errorf("connect: fetch the cluster map from monitors %v: %w", cfg.Monitors, err)
	}
	fsid := m.FSID.String()
	if cfg.FSID != "" && cfg.FSID != fsid {
		mons.Close()
		return nil, fmt.Errorf("%w: the monitors %v serve cluster %s, not the configured %s: check the monitor addresses",
			ErrWrongCluster, cfg.Monitors, fsid, cfg.FSID)
	}
	c := &Conn{
		cfg: cfg, mons: mons, fsid: fsid, osds: newOSDPool(),
		clientID: cfg.ClientID, incarnation: randomUint64(),
		changed: make(chan struct{}), done: make(chan struct{}), subDone: make(chan struct{}),
	}
	if c.clientID == 0 {
		c.clientID = randomUint64()
	}
	c.cur.Store(m)
	subCtx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.follow(subCtx, m)
	return c, nil
}

// randomUint64 returns a non-zero random value.
func randomUint64() uint64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:])
		if v := binary.LittleEndian.Uint64(b[:]); v != 0 {
			return v
		}
	}
}

// Close stops the map subscription and closes every connection. Operations
// in progress fail with ErrClosed.
func (c *Conn) Close() error {
	c.closed.Do(func() {
		close(c.done)
		c.stop()
		<-c.subDone
		c.osds.close()
		c.mons.Close()
	})
	return nil
}

// FSID returns the id of the cluster the client is connected to.
func (c *Conn) FSID() string { return c.fsid }

// ClientID returns the client's global id (the first part of its request
// ids).
func (c *Conn) ClientID() uint64 { return c.clientID }

// MapEpoch returns the epoch of the map the client holds.
func (c *Conn) MapEpoch() uint32 { return uint32(c.cur.Load().Epoch) }

// Map returns the map the client holds. It is shared: do not modify it.
func (c *Conn) Map() *cluster.OSDMap { return c.cur.Load() }

// WaitForLatestMap fetches the newest map from the monitors and installs
// it (librados' rados_wait_for_latest_osdmap): operations started
// afterwards see every change committed before the call.
func (c *Conn) WaitForLatestMap(ctx context.Context) error {
	m, err := c.mons.GetMap(ctx)
	if err != nil {
		return fmt.Errorf("fetch the newest map: %w", err)
	}
	c.install(m)
	return nil
}

// follow installs the maps of the subscription until ctx ends.
func (c *Conn) follow(ctx context.Context, have *cluster.OSDMap) {
	defer close(c.subDone)
	for upd := range c.mons.Subscribe(ctx, have) {
		if failpoint.Eval(FailpointMapUpdate) != nil {
			continue
		}
		c.install(upd.Map)
	}
}

// install makes m the current map if it is newer than the current one and
// of the same cluster, and wakes the operations waiting for a map.
func (c *Conn) install(m *cluster.OSDMap) bool {
	if m == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.cur.Load()
	if m.Epoch <= cur.Epoch {
		return false
	}
	if m.FSID != cur.FSID {
		c.cfg.Logger.Warn("ignoring a map of another cluster", "fsid", m.FSID.String(), "want", c.fsid)
		return false
	}
	c.cur.Store(m)
	close(c.changed)
	c.changed = make(chan struct{})
	c.osds.prune(m)
	return true
}

// snapshot returns the current map and the channel closed when it is
// replaced.
func (c *Conn) snapshot() (*cluster.OSDMap, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.Load(), c.changed
}

// waitForEpoch returns once the client holds a map of at least epoch e. It
// waits for the subscription first and asks the monitors directly every
// MapWait, since a subscription can lag or be reconnecting.
func (c *Conn) waitForEpoch(ctx context.Context, e cluster.Epoch) error {
	for {
		m, changed := c.snapshot()
		if m.Epoch >= e {
			return nil
		}
		t := time.NewTimer(c.cfg.MapWait)
		select {
		case <-changed:
		case <-t.C:
			c.refresh(ctx, m.Epoch)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.done:
			t.Stop()
			return ErrClosed
		}
		t.Stop()
	}
}

// refresh fetches the newest map from the monitors unless a map newer than
// seen was installed meanwhile. Concurrent callers share one fetch.
func (c *Conn) refresh(ctx context.Context, seen cluster.Epoch) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	if c.cur.Load().Epoch > seen {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, 5*c.cfg.MapWait+time.Second)
	defer cancel()
	m, err := c.mons.GetMap(fctx)
	if err != nil {
		c.cfg.Logger.Debug("map refresh failed", "err", err)
		return
	}
	c.install(m)
}

// newReqID returns the id of a new request.
func (c *Conn) newReqID() *pb.ReqID {
	return &pb.ReqID{ClientId: c.clientID, Incarnation: c.incarnation, Tid: c.tid.Add(1)}
}

// OpenPool returns an IO context on the named pool, in the default
// namespace without a locator key. It refreshes the map once when the pool
// is unknown, so a pool created just before is found.
func (c *Conn) OpenPool(ctx context.Context, name string) (*IOContext, error) {
	if p := c.cur.Load().PoolByName(name); p != nil {
		return newIOContext(c, p.ID, name), nil
	}
	if err := c.WaitForLatestMap(ctx); err != nil {
		return nil, err
	}
	if p := c.cur.Load().PoolByName(name); p != nil {
		return newIOContext(c, p.ID, name), nil
	}
	return nil, fmt.Errorf("%w: pool %q does not exist in map epoch %d: list pools with `radosctl osd pool ls`, create one with `radosctl osd pool create %s 32`",
		ErrPoolNotFound, name, c.cur.Load().Epoch, name)
}

// isClosed reports whether Close was called.
func (c *Conn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

var errNoPrimary = errors.New("no acting primary")
