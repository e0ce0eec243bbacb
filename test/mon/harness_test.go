// Package mon_test runs the real mon and radosctl binaries on loopback: a
// three-monitor bootstrap, leader kills under load, full restarts, loss of
// quorum, subscribers behind the trimmed history and bad input.
package mon_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/testutil"
)

var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping monitor process tests in -short mode")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "gorados-mon-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "github.com/gorados/gorados/cmd/mon", "github.com/gorados/gorados/cmd/radosctl")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// monProc is one monitor process.
type monProc struct {
	name, addr, dir string
	cmd             *exec.Cmd
	log             *bytes.Buffer
	exited          chan struct{}
}

type monCluster struct {
	t       testing.TB
	members string
	procs   []*monProc
	extra   []string // flags for the first start
	env     []string // extra environment of the processes (failpoints)
}

func newMonCluster(t testing.TB, n int, extra ...string) *monCluster {
	t.Helper()
	addrs := testutil.FreeAddrs(t, n)
	c := &monCluster{t: t, extra: extra}
	var parts []string
	for i, a := range addrs {
		name := string(rune('a' + i))
		parts = append(parts, name+"="+a)
		c.procs = append(c.procs, &monProc{name: name, addr: a, dir: filepath.Join(t.TempDir(), "mon-"+name)})
	}
	c.members = strings.Join(parts, ",")
	t.Cleanup(c.killAll)
	return c
}

// startFirst starts monitor i with the first-start flags.
func (c *monCluster) startFirst(i int) {
	p := c.procs[i]
	args := append([]string{"--id", p.name, "--data", p.dir, "--addr", p.addr, "--initial-members", c.members, "--log-level", "warn"}, c.extra...)
	c.run(p, args...)
}

// restart starts monitor i again from its data dir alone.
func (c *monCluster) restart(i int) {
	p := c.procs[i]
	c.run(p, "--data", p.dir, "--log-level", "warn")
}

func (c *monCluster) run(p *monProc, args ...string) {
	c.t.Helper()
	p.cmd = exec.Command(filepath.Join(binDir, "mon"), args...)
	if len(c.env) > 0 {
		p.cmd.Env = append(os.Environ(), c.env...)
	}
	p.log = &bytes.Buffer{}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, ch chan struct{}) { _ = cmd.Wait(); close(ch) }(p.cmd, p.exited)
}

func (c *monCluster) startAll() {
	for i := range c.procs {
		c.startFirst(i)
	}
}

// kill sends SIGKILL to monitor i and waits for it to exit.
func (c *monCluster) kill(i int) {
	p := c.procs[i]
	if p.cmd == nil {
		return
	}
	select {
	case <-p.exited:
		p.cmd = nil
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// stop sends SIGTERM and waits.
func (c *monCluster) stop(i int) {
	p := c.procs[i]
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		c.t.Errorf("mon.%s did not stop on SIGTERM; killing it", p.name)
		c.kill(i)
	}
	p.cmd = nil
}

func (c *monCluster) killAll() {
	for i := range c.procs {
		c.kill(i)
	}
	if c.t.Failed() {
		for _, p := range c.procs {
			if p.log != nil {
				c.t.Logf("mon.%s log:\n%s", p.name, testutil.Tail(p.log.String(), 3000))
			}
		}
	}
}

// dead reports whether monitor i's process has exited.
func (c *monCluster) dead(i int) bool {
	p := c.procs[i]
	if p.cmd == nil {
		return true
	}
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (c *monCluster) addrs() []string {
	var out []string
	for _, p := range c.procs {
		out = append(out, p.addr)
	}
	return out
}

func (c *monCluster) client() *monclient.Client {
	c.t.Helper()
	cl, err := monclient.New(c.addrs())
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// waitMap polls until a linearizable read succeeds.
func (c *monCluster) waitMap(cl *monclient.Client, within time.Duration) *cluster.OSDMap {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	m, err := cl.GetMap(ctx)
	if err != nil {
		c.t.Fatalf("no map within %v: %v", within, err)
	}
	return m
}

// leader returns the index of the current leader as the monitors report.
func (c *monCluster) leader(cl *monclient.Client, within time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := cl.Status(ctx)
		cancel()
		if err == nil && st.Leader != "" && st.QuorumKnown {
			for i, p := range c.procs {
				if p.name == st.Leader && p.cmd != nil {
					return i
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no leader within %v", within)
	return -1
}

// radosctl runs the radosctl binary against the cluster.
func (c *monCluster) radosctl(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(filepath.Join(binDir, "radosctl"), append([]string{"--mon", strings.Join(c.addrs(), ",")}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func (c *monCluster) mustRadosctl(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.radosctl(args...)
	if err != nil {
		c.t.Fatalf("radosctl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}
