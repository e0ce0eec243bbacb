package client

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the Config fields left zero.
const (
	// DefaultAttemptTimeout bounds one RPC to one OSD. An OSD that hangs
	// (stopped, overloaded, partitioned without a reset) is given up on
	// after it, and the same request is sent again to whatever OSD the
	// newest map names. It is long enough for a 128 MiB write on a slow
	// disk.
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultMapWait is how long an operation waits for the map
	// subscription to deliver an epoch an OSD told it about before asking
	// the monitors directly.
	DefaultMapWait = 300 * time.Millisecond
	// DefaultBackoffMin and DefaultBackoffMax bound the pause before
	// resending after a transient failure (connection refused or reset,
	// PG not active yet). The pause doubles per failure, with jitter.
	DefaultBackoffMin = 5 * time.Millisecond
	DefaultBackoffMax = time.Second
)

// Config configures a connection to a cluster.
type Config struct {
	// Monitors lists the monitor addresses (host:port). One reachable
	// monitor that is in quorum is enough.
	Monitors []string
	// FSID, when set, is the cluster id the client expects; Connect fails
	// with ErrWrongCluster when the monitors belong to another cluster.
	// When empty, the client adopts the monitors' fsid and sends it with
	// every op, so an OSD of another cluster refuses the op.
	FSID string
	// OpTimeout bounds every operation in addition to the caller's context
	// (librados' rados_osd_op_timeout). Zero means no bound beyond the
	// context: an operation on a cluster that cannot serve it waits for the
	// cluster to recover, as librados does by default.
	OpTimeout time.Duration
	// AttemptTimeout bounds one RPC to one OSD (default
	// DefaultAttemptTimeout).
	AttemptTimeout time.Duration
	// MapWait is how long to wait for the subscription to deliver a newer
	// map before polling the monitors (default DefaultMapWait).
	MapWait time.Duration
	// BackoffMin and BackoffMax bound the pause between resends after a
	// transient failure (defaults DefaultBackoffMin, DefaultBackoffMax).
	BackoffMin, BackoffMax time.Duration
	// ClientID is the client's global id, the first part of every request
	// id. Zero draws a random one. Two live clients must never share an
	// id and incarnation; the incarnation is drawn at every Connect.
	ClientID uint64
	// Logger receives the library's debug and warning logs (default: none).
	Logger *slog.Logger
}

// withDefaults returns cfg with zero fields set to their defaults, or an
// error naming the first unusable field.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Monitors) == 0 {
		return cfg, fmt.Errorf("%w: set Config.Monitors (radosctl: --mon host:port[,...] or GORADOS_MON)", ErrNoMonitors)
	}
	for _, d := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{
		{&cfg.AttemptTimeout, DefaultAttemptTimeout, "AttemptTimeout"},
		{&cfg.MapWait, DefaultMapWait, "MapWait"},
		{&cfg.BackoffMin, DefaultBackoffMin, "BackoffMin"},
		{&cfg.BackoffMax, DefaultBackoffMax, "BackoffMax"},
	} {
		if *d.v < 0 {
			return cfg, fmt.Errorf("%w: Config.%s is negative (%v); use 0 for the default", ErrInvalid, d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.OpTimeout < 0 {
		return cfg, fmt.Errorf("%w: Config.OpTimeout is negative (%v); use 0 for no timeout", ErrInvalid, cfg.OpTimeout)
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		return cfg, fmt.Errorf("%w: Config.BackoffMax (%v) is below BackoffMin (%v)", ErrInvalid, cfg.BackoffMax, cfg.BackoffMin)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}
