package devcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/monclient"
)

// Cluster is a dev cluster: its layout, and the daemons this launcher
// started (a Cluster opened with Open manages daemons through their pid
// files only).
type Cluster struct {
	cfg    Config
	dir    string // absolute
	bin    string
	layout *Layout

	mu    sync.Mutex
	procs map[string]*proc
}

// Up starts the cluster of cfg.Dir, creating it first if the directory
// holds none, and returns once the monitors have a quorum, every OSD is up
// and every PG of the pool is active, and an I/O check wrote, read back and
// removed data in the pool. On error every daemon it started is
// stopped again.
func Up(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c, fresh, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.start(ctx, fresh); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// prepare resolves the directory, the layout (new or existing) and the
// binaries.
func prepare(cfg Config) (c *Cluster, fresh bool, err error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	l, err := readLayout(dir)
	if errors.Is(err, ErrNoCluster) {
		fresh = true
		if l, err = newLayout(cfg); err == nil {
			err = l.write(dir)
		}
	}
	if err != nil {
		return nil, false, err
	}
	if !fresh {
		fmt.Fprintf(cfg.Out, "%s holds a cluster already: restarting it as it was created (size flags do not apply; `dev down --purge` starts over)\n", dir)
	}
	bin := cfg.BinDir
	if bin == "" {
		if bin, err = Binaries(dir, cfg.Out); err != nil {
			return nil, false, err
		}
	}
	return &Cluster{cfg: cfg, dir: dir, bin: bin, layout: l, procs: map[string]*proc{}}, fresh, nil
}

// Open returns the cluster recorded in dir, to inspect or stop it.
func Open(dir string) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	l, err := readLayout(abs)
	if err != nil {
		return nil, err
	}
	// Daemons started through an opened cluster (dev start) must outlive
	// the short-lived command that starts them.
	cfg, _ := Config{Dir: abs, Background: true}.withDefaults()
	return &Cluster{cfg: cfg, dir: abs, layout: l, procs: map[string]*proc{}}, nil
}

// Dir returns the cluster's directory.
func (c *Cluster) Dir() string { return c.dir }

// Layout returns the cluster's layout (do not modify it).
func (c *Cluster) Layout() *Layout { return c.layout }

// MonAddrs returns the monitor addresses.
func (c *Cluster) MonAddrs() []string { return c.layout.MonAddrs() }

// ConfPath returns the radosctl config file of the cluster.
func (c *Cluster) ConfPath() string { return filepath.Join(c.dir, ConfFile) }

// DataDir returns the data directory of the named daemon ("osd.2").
func (c *Cluster) DataDir(name string) string { return filepath.Join(c.dir, name) }

// BinDir returns the directory holding the mon and osd executables.
func (c *Cluster) BinDir() string { return c.bin }

func (c *Cluster) logf(format string, args ...any) { fmt.Fprintf(c.cfg.Out, format+"\n", args...) }

// start brings every daemon up and waits for the cluster to be usable.
func (c *Cluster) start(ctx context.Context, fresh bool) error {
	for _, d := range c.layout.Daemons {
		if pid, ok := c.pidOf(d); ok {
			return fmt.Errorf("the cluster in %s already runs (%s has pid %d): see `radosctl dev status`, stop it with `radosctl dev down`", c.dir, d.Name, pid)
		}
	}
	verb := "restarting"
	if fresh {
		verb = "creating"
	}
	c.logf("%s a cluster of %d monitors and %d OSDs in %s", verb, len(c.layout.Mons()), len(c.layout.OSDs()), c.dir)
	for _, d := range c.layout.Mons() {
		if err := c.StartDaemon(d.Name); err != nil {
			return err
		}
	}
	if err := c.WaitQuorum(ctx); err != nil {
		return err
	}
	for _, d := range c.layout.OSDs() {
		if err := c.StartDaemon(d.Name); err != nil {
			return err
		}
	}
	if err := c.WaitOSDsUp(ctx); err != nil {
		return err
	}
	if err := c.ensurePool(ctx); err != nil {
		return err
	}
	if err := c.WaitActive(ctx); err != nil {
		return err
	}
	return c.SmokeTest(ctx)
}

// Daemon returns the named daemon of the layout.
func (c *Cluster) Daemon(name string) (*Daemon, error) {
	for _, d := range c.layout.Daemons {
		if d.Name == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: no daemon %q in %s", ErrBadConfig, name, c.dir)
}

// StartDaemon starts one daemon (an OSD is created with `osd mkfs` first
// if its data directory does not exist). It does not wait for it to be
// ready.
func (c *Cluster) StartDaemon(name string) error {
	d, err := c.Daemon(name)
	if err != nil {
		return err
	}
	if pid, ok := c.pidOf(d); ok {
		return fmt.Errorf("%s already runs (pid %d)", d.Name, pid)
	}
	if c.bin == "" {
		if c.bin, err = Binaries(c.dir, c.cfg.Out); err != nil {
			return err
		}
	}
	args, err := c.args(d)
	if err != nil {
		return err
	}
	p, err := c.spawn(d, filepath.Join(c.bin, d.Kind), args)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[d.Name] = p
	c.mu.Unlock()
	return nil
}

// args returns the command line of d, running mkfs first for a new OSD.
func (c *Cluster) args(d *Daemon) ([]string, error) {
	data := c.dataDir(d)
	_, statErr := os.Stat(data)
	exists := statErr == nil
	if d.Kind == KindMon {
		if exists {
			return append([]string{"--data", data}, c.cfg.MonArgs...), nil
		}
		var members []string
		for _, m := range c.layout.Mons() {
			members = append(members, monID(m)+"="+m.Addr)
		}
		return append([]string{"--id", monID(d), "--data", data, "--addr", d.Addr,
			"--initial-members", strings.Join(members, ","), "--http", d.HTTPAddr}, c.cfg.MonArgs...), nil
	}
	if !exists {
		c.logf("creating %s on %s (osd mkfs)", d.Name, d.Host)
		if err := c.runOnce(d, filepath.Join(c.bin, "osd"), []string{"mkfs", "--data", data,
			"--mon", strings.Join(c.MonAddrs(), ","), "--host", d.Host}); err != nil {
			return nil, err
		}
	}
	return append([]string{"--data", data, "--public-addr", d.Addr, "--cluster-addr", d.ClusterAddr,
		"--metrics-addr", d.HTTPAddr}, c.cfg.OSDArgs...), nil
}

// monID is the monitor's name without the "mon." prefix.
func monID(d *Daemon) string { return strings.TrimPrefix(d.Name, "mon.") }

// Kill sends SIGKILL to the named daemon (a crash: nothing is flushed)
// and waits until it is gone.
func (c *Cluster) Kill(name string) error {
	d, err := c.Daemon(name)
	if err != nil {
		return err
	}
	pid, ok := c.pidOf(d)
	if !ok {
		return nil
	}
	if err := signalPid(pid, sigKill); err != nil {
		return err
	}
	return c.waitGone(d, pid)
}

// StopDaemon stops the named daemon with SIGTERM (it tells the monitors
// it goes down), killing it if it has not ended within 15 s.
func (c *Cluster) StopDaemon(name string) error {
	d, err := c.Daemon(name)
	if err != nil {
		return err
	}
	return c.stopOne(d)
}

func (c *Cluster) stopOne(d *Daemon) error {
	pid, ok := c.pidOf(d)
	if !ok {
		os.Remove(c.pidPath(d))
		return nil
	}
	c.mu.Lock()
	p := c.procs[d.Name]
	c.mu.Unlock()
	var exited <-chan struct{}
	if p != nil && p.cmd.Process.Pid == pid {
		exited = p.exited
	}
	if err := stopPid(pid, 15*time.Second, exited); err != nil {
		return fmt.Errorf("stop %s (pid %d): %w", d.Name, pid, err)
	}
	os.Remove(c.pidPath(d))
	return nil
}

// waitGone waits until d's process (pid) ended; a process this launcher
// did not start is only seen to end once its parent reaps it, so the wait
// is bounded.
func (c *Cluster) waitGone(d *Daemon, pid int) error {
	c.mu.Lock()
	p := c.procs[d.Name]
	c.mu.Unlock()
	var exited <-chan struct{}
	if p != nil && p.cmd.Process.Pid == pid {
		exited = p.exited
	}
	for deadline := time.Now().Add(10 * time.Second); !gone(pid, exited); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) still exists 10s after SIGKILL: is its parent reaping it?", d.Name, pid)
		}
	}
	os.Remove(c.pidPath(d))
	return nil
}

// Stop stops every daemon: the OSDs first, in parallel, so that they can
// still tell the monitors they are going down, then the monitors.
func (c *Cluster) Stop() error {
	var errs []error
	for _, group := range [][]*Daemon{c.layout.OSDs(), c.layout.Mons()} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, d := range group {
			wg.Go(func() {
				if err := c.stopOne(d); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

// Down stops the cluster recorded in dir; with purge it also removes the
// directory.
func Down(dir string, purge bool) error {
	c, err := Open(dir)
	if err != nil {
		if purge && errors.Is(err, ErrNoCluster) {
			return nil
		}
		return err
	}
	if err := c.Stop(); err != nil {
		return err
	}
	if purge {
		return os.RemoveAll(c.dir)
	}
	return nil
}

// checkAlive returns an error naming the first daemon started by this
// launcher that died.
func (c *Cluster) checkAlive() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.layout.Daemons {
		if p := c.procs[d.Name]; p != nil {
			select {
			case <-p.exited:
				return c.exitError(d, p)
			default:
			}
		}
	}
	return nil
}

// DaemonExit reports a daemon that ended.
type DaemonExit struct {
	Name string
	// Status is its exit status ("signal: killed", ...).
	Status error
}

// Exited returns a channel that receives the first of the running daemons
// this launcher started to end (daemons already gone are not reported
// again).
func (c *Cluster) Exited() <-chan DaemonExit {
	ch := make(chan DaemonExit, 1)
	c.mu.Lock()
	procs := make(map[string]*proc, len(c.procs))
	for k, v := range c.procs {
		procs[k] = v
	}
	c.mu.Unlock()
	for name, p := range procs {
		select {
		case <-p.exited:
			continue
		default:
		}
		go func() {
			<-p.exited
			select {
			case ch <- DaemonExit{Name: name, Status: p.err}:
			default:
			}
		}()
	}
	return ch
}

// MonClient returns a client of the cluster's monitors.
func (c *Cluster) MonClient() (*monclient.Client, error) { return monclient.New(c.MonAddrs()) }

// Connect returns a data client of the cluster.
func (c *Cluster) Connect(ctx context.Context, cfg client.Config) (*client.Conn, error) {
	cfg.Monitors = c.MonAddrs()
	return client.Connect(ctx, cfg)
}

// SetOutput sets where progress messages go.
func (c *Cluster) SetOutput(w io.Writer) { c.cfg.Out = w }
