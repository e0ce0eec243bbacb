// Package osd_test runs the real mon and osd binaries on loopback: replicated
// writes checked on disk with the offline store tool, kill -9 of every OSD
// after acknowledged writes, stale clients, resent ops, corruption on disk,
// and data directories of another cluster.
package osd_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/testutil"
)

var binDir string

// logTail is how much of each daemon log a failed test prints.
var logTail = 20000

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping OSD process tests in -short mode")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "gorados-osd-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"github.com/gorados/gorados/cmd/mon", "github.com/gorados/gorados/cmd/osd")
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

// proc is one daemon process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(filepath.Join(binDir, bin), args...), log: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	return p
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) kill() {
	if p.running() {
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
}

// term sends SIGTERM and waits for a clean exit.
func (p *proc) term(t testing.TB) {
	t.Helper()
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("%s exited with %v after SIGTERM\n%s", p.name, p.err, testutil.Tail(p.log.String(), 2000))
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not stop within 15s of SIGTERM; killing it", p.name)
		p.kill()
	}
}

// osdProc is one OSD: its data directory, addresses and process.
type osdProc struct {
	id               int32
	host, dir        string
	pub, clu, metric string
	p                *proc
}

// testCluster is one monitor and n OSDs on n hosts.
type testCluster struct {
	t    testing.TB
	mon  *proc
	mons string
	mc   *monclient.Client
	osds []*osdProc
	// bootPlacement leaves CRUSH placement to the monitors (OSDs boot with
	// --crush-update-on-start=true) instead of a map set by the test.
	bootPlacement bool
}

func newCluster(t testing.TB, n int) *testCluster {
	return newClusterWith(t, n, false)
}

// newClusterWith is newCluster; with bootPlacement the monitors place the
// booting OSDs under their hosts.
func newClusterWith(t testing.TB, n int, bootPlacement bool) *testCluster {
	t.Helper()
	c := &testCluster{t: t, bootPlacement: bootPlacement}
	addr := testutil.FreeAddrs(t, 1)[0]
	c.mons = addr
	c.mon = start(t, "mon.a", "mon", "--id", "a", "--data", filepath.Join(t.TempDir(), "mon-a"),
		"--addr", addr, "--initial-members", "a="+addr, "--log-level", "warn")
	t.Cleanup(c.cleanup)
	mc, err := monclient.New([]string{addr})
	if err != nil {
		t.Fatal(err)
	}
	c.mc = mc
	c.waitMap(func(*cluster.OSDMap) bool { return true }, "the monitor answers")
	for i := range n {
		c.osds = append(c.osds, c.mkfs(fmt.Sprintf("host%d", i)))
	}
	if !bootPlacement {
		c.setCrush()
	}
	for _, o := range c.osds {
		c.startOSD(o)
	}
	c.waitMap(func(m *cluster.OSDMap) bool {
		for _, o := range c.osds {
			if !m.IsUp(o.id) || !m.IsIn(o.id) {
				return false
			}
		}
		return true
	}, "every OSD up and in")
	return c
}

func (c *testCluster) cleanup() {
	for _, o := range c.osds {
		if o.p != nil {
			o.p.kill()
		}
	}
	c.mon.kill()
	c.mc.Close()
	if c.t.Failed() {
		for _, o := range c.osds {
			if o.p != nil {
				c.t.Logf("osd.%d log:\n%s", o.id, testutil.Tail(o.p.log.String(), logTail))
			}
		}
		c.t.Logf("mon log:\n%s", testutil.Tail(c.mon.log.String(), 2000))
	}
}

// run runs the osd binary to completion (mkfs, store tool).
func (c *testCluster) run(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(binDir, "osd"), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

func (c *testCluster) mustRun(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("osd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *testCluster) mkfs(host string) *osdProc {
	c.t.Helper()
	dir := filepath.Join(c.t.TempDir(), host)
	out := c.mustRun("mkfs", "--data", dir, "--mon", c.mons, "--host", host, "--class", "ssd")
	var id int32
	if _, err := fmt.Sscanf(out, "created osd.%d", &id); err != nil {
		c.t.Fatalf("mkfs output %q: %v", out, err)
	}
	a := testutil.FreeAddrs(c.t, 3)
	return &osdProc{id: id, host: host, dir: dir, pub: a[0], clu: a[1], metric: a[2]}
}

func (c *testCluster) startOSD(o *osdProc) {
	o.p = start(c.t, fmt.Sprintf("osd.%d", o.id), "osd", "--data", o.dir, "--public-addr", o.pub,
		"--cluster-addr", o.clu, "--metrics-addr", o.metric, "--log-level", osdLogLevel(),
		fmt.Sprintf("--crush-update-on-start=%v", c.bootPlacement))
}

// osdLogLevel is the OSDs' log level: warn, or $GORADOS_TEST_OSD_LOG.
func osdLogLevel() string {
	if l := os.Getenv("GORADOS_TEST_OSD_LOG"); l != "" {
		return l
	}
	return "warn"
}

// setCrush installs a CRUSH map with one host per OSD and a rule that puts
// replicas on distinct hosts. The OSDs then boot with
// --crush-update-on-start=false and keep this placement.
func (c *testCluster) setCrush() {
	c.t.Helper()
	var b strings.Builder
	b.WriteString("tunable choose_local_tries 0\ntunable choose_local_fallback_tries 0\ntunable choose_total_tries 50\n")
	b.WriteString("tunable chooseleaf_descend_once 1\ntunable chooseleaf_vary_r 1\ntunable chooseleaf_stable 1\n")
	for _, o := range c.osds {
		fmt.Fprintf(&b, "device %d osd.%d class ssd\n", o.id, o.id)
	}
	b.WriteString("type 0 osd\ntype 1 host\ntype 11 root\n")
	for i, o := range c.osds {
		fmt.Fprintf(&b, "host %s {\n\tid %d\n\talg straw2\n\thash 0\n\titem osd.%d weight 1.000\n}\n", o.host, -2-i, o.id)
	}
	fmt.Fprintf(&b, "root default {\n\tid -1\n\talg straw2\n\thash 0\n")
	for _, o := range c.osds {
		fmt.Fprintf(&b, "\titem %s weight 1.000\n", o.host)
	}
	b.WriteString("}\nrule replicated_rule {\n\tid 0\n\ttype replicated\n\tmin_size 1\n\tmax_size 10\n")
	b.WriteString("\tstep take default\n\tstep chooseleaf firstn 0 type host\n\tstep emit\n}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.mc.SetCrushMap(ctx, []byte(b.String())); err != nil {
		c.t.Fatalf("set CRUSH map: %v", err)
	}
}

// waitMap polls the monitor until cond holds for its map.
func (c *testCluster) waitMap(cond func(*cluster.OSDMap) bool, what string) *cluster.OSDMap {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		m, err := c.mc.GetMap(ctx)
		cancel()
		if err == nil && cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createPool creates a replicated pool and returns its id.
func (c *testCluster) createPool(name string, pgNum, size, minSize uint32) int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.mc.PoolCreate(ctx, monclient.PoolCreateOpts{Name: name, PGNum: pgNum, Size: &size, MinSize: &minSize}); err != nil {
		c.t.Fatalf("pool create: %v", err)
	}
	m := c.waitMap(func(m *cluster.OSDMap) bool { return m.PoolByName(name) != nil }, "the pool")
	return m.PoolByName(name).ID
}

// stopAll stops every OSD with SIGTERM.
func (c *testCluster) stopAll() {
	for _, o := range c.osds {
		o.p.term(c.t)
	}
}

// killAll kills every OSD with SIGKILL.
func (c *testCluster) killAll() {
	for _, o := range c.osds {
		o.p.kill()
	}
}
