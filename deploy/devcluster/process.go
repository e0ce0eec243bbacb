package devcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// proc is a daemon process this launcher started.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process ended
	err    error         // its exit status, valid after exited
}

// paths of one daemon's files.
func (c *Cluster) dataDir(d *Daemon) string { return filepath.Join(c.dir, d.Name) }
func (c *Cluster) logPath(d *Daemon) string { return filepath.Join(c.dir, "log", d.Name+".log") }
func (c *Cluster) pidPath(d *Daemon) string { return filepath.Join(c.dir, "run", d.Name+".pid") }

// spawn starts bin with args as daemon d: output appended to its log, its
// pid recorded, its exit watched.
func (c *Cluster) spawn(d *Daemon, bin string, args []string) (*proc, error) {
	for _, sub := range []string{"log", "run"} {
		if err := os.MkdirAll(filepath.Join(c.dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := os.OpenFile(c.logPath(d), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	fmt.Fprintf(logf, "==== %s %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), c.cfg.Env...)
	cmd.SysProcAttr = detach(c.cfg.Background)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", d.Name, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := writeFileAtomic(c.pidPath(d), []byte(strconv.Itoa(cmd.Process.Pid)+"\n")); err != nil {
		return nil, err
	}
	return p, nil
}

// runOnce runs a short-lived command (mkfs) for daemon d, logging its
// output, and returns its error with that output.
func (c *Cluster) runOnce(d *Daemon, bin string, args []string) error {
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), c.cfg.Env...)
	err := cmd.Run()
	if logf, lerr := os.OpenFile(c.logPath(d), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); lerr == nil {
		fmt.Fprintf(logf, "==== %s %s %s\n%s", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "), out.Bytes())
		logf.Close()
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
	}
	return nil
}

// PID returns the pid of the named daemon if it runs.
func (c *Cluster) PID(name string) (int, bool) {
	d, err := c.Daemon(name)
	if err != nil {
		return 0, false
	}
	return c.pidOf(d)
}

// pidOf returns the pid of daemon d if it runs, from its pid file. The
// process must still run with d's data directory on its command line, so
// a reused pid is not mistaken for the daemon.
func (c *Cluster) pidOf(d *Daemon) (int, bool) {
	b, err := os.ReadFile(c.pidPath(d))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0, false
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
		!bytes.Contains(cmdline, []byte(c.dataDir(d))) {
		return 0, false
	}
	return pid, true
}

// Tail returns the last lines of the named daemon's log.
func (c *Cluster) Tail(name string, lines int) string {
	d, err := c.Daemon(name)
	if err != nil {
		return err.Error()
	}
	return c.tail(d, lines)
}

// LogPath returns the log file of the named daemon.
func (c *Cluster) LogPath(name string) string { return filepath.Join(c.dir, "log", name+".log") }

// tail returns the last lines of d's log, for error messages.
func (c *Cluster) tail(d *Daemon, lines int) string {
	b, err := os.ReadFile(c.logPath(d))
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// exitError describes a daemon that died, with the end of its log.
func (c *Cluster) exitError(d *Daemon, p *proc) error {
	return fmt.Errorf("%w: %s (%v); last lines of %s:\n%s", ErrDaemonExited, d.Name, p.err, c.logPath(d), c.tail(d, 15))
}

// stopPid sends SIGTERM to pid and waits up to grace for it to end, then
// kills it.
func stopPid(pid int, grace time.Duration, exited <-chan struct{}) error {
	if err := signalPid(pid, sigTerm); err != nil {
		return nil // already gone
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if gone(pid, exited) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := signalPid(pid, sigKill); err != nil {
		return nil
	}
	for range 250 {
		if gone(pid, exited) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("still running after SIGKILL")
}

// gone reports whether pid ended: through its exited channel when this
// process is its parent (a zombie still answers signals), else by probing.
func gone(pid int, exited <-chan struct{}) bool {
	if exited != nil {
		select {
		case <-exited:
			return true
		default:
			return false
		}
	}
	return !alive(pid)
}
