package devcluster

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
)

// Errors returned by the package.
var (
	// ErrBadConfig: a Config field is out of range.
	ErrBadConfig = errors.New("invalid dev cluster configuration")
	// ErrNoCluster: the directory holds no dev cluster.
	ErrNoCluster = errors.New("no dev cluster")
	// ErrDaemonExited: a daemon died while the launcher waited for it.
	ErrDaemonExited = errors.New("daemon exited")
	// ErrNotReady: the cluster did not become ready before the timeout.
	ErrNotReady = errors.New("cluster not ready")
	// ErrNoBinaries: mon and osd could not be found or built.
	ErrNoBinaries = errors.New("mon and osd binaries not found")
	// ErrUnsupported: the platform cannot run the launcher.
	ErrUnsupported = errors.New("the dev cluster launcher needs a Unix system")
)

// Config describes a dev cluster. Counts and the pool only matter when the
// cluster is created; an existing cluster restarts with its own layout.
type Config struct {
	// Dir holds everything (default ".dev").
	Dir string
	// Monitors, Hosts and OSDsPerHost size the cluster (defaults 3, 4, 1).
	Monitors, Hosts, OSDsPerHost int
	// Pool is the replicated pool created at the first start (default
	// "data"; "-" creates none) with PGNum PGs (default 32), Size replicas
	// (default 3) and MinSize (default 2).
	Pool    string
	PGNum   uint32
	Size    uint32
	MinSize uint32
	// SharedIP puts every daemon on 127.0.0.1 instead of one loopback
	// address per monitor and host (the default on Linux; other systems
	// only have 127.0.0.1 unless configured).
	SharedIP bool
	// BinDir holds mon and osd; empty finds or builds them (see Binaries).
	BinDir string
	// Env is added to every daemon's environment (e.g. GORADOS_FAILPOINTS).
	Env []string
	// OSDArgs are extra flags for every OSD run (not mkfs), MonArgs for
	// every monitor run.
	OSDArgs, MonArgs []string
	// Background starts the daemons in their own sessions so that they
	// outlive the launcher; Stop or Down stops them.
	Background bool
	// Timeout bounds each wait of Up (quorum, OSDs up, PGs active;
	// default 2 minutes).
	Timeout time.Duration
	// Out receives progress messages (default: none).
	Out io.Writer
}

func (cfg Config) withDefaults() (Config, error) {
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	if cfg.Dir == "" {
		cfg.Dir = ".dev"
	}
	setInt(&cfg.Monitors, 3)
	setInt(&cfg.Hosts, 4)
	setInt(&cfg.OSDsPerHost, 1)
	if cfg.Pool == "" {
		cfg.Pool = "data"
	}
	if cfg.PGNum == 0 {
		cfg.PGNum = 32
	}
	if cfg.Size == 0 {
		cfg.Size = 3
	}
	if cfg.MinSize == 0 {
		cfg.MinSize = cfg.Size - cfg.Size/2
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if runtime.GOOS != "linux" {
		cfg.SharedIP = true
	}
	return cfg, cfg.validate()
}

func (cfg Config) validate() error {
	switch {
	case cfg.Monitors < 1 || cfg.Monitors > 9:
		return fmt.Errorf("%w: %d monitors: use 1 to 9 (an odd number tolerates the most failures)", ErrBadConfig, cfg.Monitors)
	case cfg.Hosts < 1 || cfg.Hosts > 200:
		return fmt.Errorf("%w: %d hosts: use 1 to 200", ErrBadConfig, cfg.Hosts)
	case cfg.OSDsPerHost < 1 || cfg.OSDsPerHost > 16:
		return fmt.Errorf("%w: %d OSDs per host: use 1 to 16", ErrBadConfig, cfg.OSDsPerHost)
	case cfg.Pool != "-" && (cfg.Size < 1 || cfg.MinSize < 1 || cfg.MinSize > cfg.Size):
		return fmt.Errorf("%w: pool size %d, min_size %d: need 1 <= min_size <= size", ErrBadConfig, cfg.Size, cfg.MinSize)
	case cfg.Pool != "-" && int(cfg.Size) > cfg.Hosts:
		return fmt.Errorf("%w: pool size %d needs at least %d hosts (one replica per host), have %d: pass more hosts or a smaller size",
			ErrBadConfig, cfg.Size, cfg.Size, cfg.Hosts)
	case cfg.Timeout < 0:
		return fmt.Errorf("%w: negative timeout", ErrBadConfig)
	}
	return nil
}
