package devcluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsAndChecks(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dir != ".dev" || cfg.Monitors != 3 || cfg.Hosts != 4 || cfg.OSDsPerHost != 1 || cfg.Pool != "data" ||
		cfg.PGNum != 32 || cfg.Size != 3 || cfg.MinSize != 2 {
		t.Fatalf("defaults %+v", cfg)
	}
	for _, bad := range []Config{
		{Monitors: -1}, {Monitors: 10}, {Hosts: 201}, {OSDsPerHost: 17},
		{Size: 3, MinSize: 4}, {Hosts: 2, Size: 3}, {Timeout: -1},
	} {
		if _, err := bad.withDefaults(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := (Config{Hosts: 2, Size: 3, Pool: "-"}).withDefaults(); err != nil {
		t.Errorf("no pool, 2 hosts: %v", err)
	}
}

func TestLayout(t *testing.T) {
	cfg, err := Config{Hosts: 3, OSDsPerHost: 2, Size: 2}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLayout(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Mons()) != 3 || len(l.OSDs()) != 6 {
		t.Fatalf("%d mons, %d osds", len(l.Mons()), len(l.OSDs()))
	}
	seen := map[string]bool{}
	hosts := map[string]int{}
	for _, d := range l.Daemons {
		for _, a := range []string{d.Addr, d.ClusterAddr, d.HTTPAddr} {
			if a == "" {
				continue
			}
			if seen[a] {
				t.Fatalf("address %s used twice", a)
			}
			seen[a] = true
		}
		if d.Kind == KindOSD {
			hosts[d.Host]++
			if d.Addr == d.ClusterAddr || d.ClusterAddr == "" {
				t.Fatalf("%s: public %s, cluster %s", d.Name, d.Addr, d.ClusterAddr)
			}
		}
	}
	if len(hosts) != 3 || hosts["host1"] != 2 {
		t.Fatalf("hosts %v", hosts)
	}
	if l.OSDs()[0].Name != "osd.0" || l.Mons()[2].Name != "mon.c" {
		t.Fatalf("names %s %s", l.OSDs()[0].Name, l.Mons()[2].Name)
	}
	dir := t.TempDir()
	if err := l.write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := readLayout(dir)
	if err != nil || len(back.Daemons) != len(l.Daemons) || back.Daemons[4].ClusterAddr != l.Daemons[4].ClusterAddr {
		t.Fatalf("read back: %+v %v", back, err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, ConfFile))
	if err != nil || !strings.Contains(string(conf), "\nmon = "+strings.Join(l.MonAddrs(), ",")+"\n") {
		t.Fatalf("conf %q %v", conf, err)
	}
	if _, err := readLayout(t.TempDir()); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("empty dir: %v", err)
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# HELP x y\n# TYPE gorados_osd_pgs gauge\n"+
			"gorados_osd_pgs{state=\"active\"} 12\ngorados_osd_pgs{state=\"peering\"} 1\n"+
			"gorados_osd_store_commit_batch_txns_count 40\ngorados_osd_store_commit_batch_txns_sum 100\n")
	}))
	defer srv.Close()
	s, err := Scrape(context.Background(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Sum("gorados_osd_pgs") != 13 || s.Sum("gorados_osd_pgs", `state="active"`) != 12 ||
		s.Sum("gorados_osd_store_commit_batch_txns_count") != 40 || s.Sum("gorados_osd_store_commit_batch_txns") != 0 {
		t.Fatalf("samples %v", s)
	}
}

func TestNextSteps(t *testing.T) {
	cfg, _ := Config{Dir: t.TempDir()}.withDefaults()
	l, err := newLayout(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{cfg: cfg, dir: cfg.Dir, layout: l}
	out := c.NextSteps("radosctl")
	for _, want := range []string{
		"3 monitors, 4 OSDs on 4 hosts",
		"export GORADOS_CONF=" + filepath.Join(cfg.Dir, ConfFile),
		"echo 'hello, gorados' | radosctl -p data put greeting -\n",
		"radosctl -p data get greeting -\n",
		"radosctl bench 10 write -p data -t 16 --no-cleanup\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("next steps lack %q:\n%s", want, out)
		}
	}
}

// TestPidOfIgnoresReusedPids: a pid file naming a live process that is not
// the daemon (pid reuse) does not count as the daemon running.
func TestPidOfIgnoresReusedPids(t *testing.T) {
	dir := t.TempDir()
	c := &Cluster{dir: dir}
	d := &Daemon{Name: "osd.0", Kind: KindOSD}
	os.MkdirAll(filepath.Join(dir, "run"), 0o755)
	if err := os.WriteFile(c.pidPath(d), []byte(fmt.Sprintln(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.pidOf(d); ok {
		t.Fatal("the test process was taken for osd.0")
	}
	os.WriteFile(c.pidPath(d), []byte("garbage"), 0o644)
	if _, ok := c.pidOf(d); ok {
		t.Fatal("garbage pid file taken for a running daemon")
	}
}

// TestSpawnStop runs a stand-in daemon (a shell that sleeps) through the
// launcher's process handling: pid file, liveness, SIGTERM stop, exit
// detection.
func TestSpawnStop(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	cfg, _ := Config{Dir: dir}.withDefaults()
	d := &Daemon{Name: "osd.0", Kind: KindOSD}
	c := &Cluster{cfg: cfg, dir: dir, layout: &Layout{Daemons: []*Daemon{d}}, procs: map[string]*proc{}}
	// The trailing "true" keeps the shell from exec'ing sleep, which would
	// drop the data directory from the process's command line.
	p, err := c.spawn(d, sh, []string{"-c", "echo started; sleep 30; true", c.dataDir(d)})
	if err != nil {
		t.Fatal(err)
	}
	c.procs[d.Name] = p
	pid, ok := c.pidOf(d)
	if !ok || pid != p.cmd.Process.Pid {
		t.Fatalf("pidOf: %d %v, want %d", pid, ok, p.cmd.Process.Pid)
	}
	if err := c.checkAlive(); err != nil {
		t.Fatal(err)
	}
	exited := c.Exited()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.pidOf(d); ok {
		t.Fatal("still running after Stop")
	}
	if ev := <-exited; ev.Name != "osd.0" || ev.Status == nil {
		t.Fatalf("exit report %+v: want osd.0 with its exit status", ev)
	}
	if err := c.checkAlive(); !errors.Is(err, ErrDaemonExited) || !strings.Contains(err.Error(), "started") {
		t.Fatalf("checkAlive after exit: %v, want ErrDaemonExited with the log's last lines", err)
	}
	select {
	case ev := <-c.Exited():
		t.Fatalf("a gone daemon reported again: %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}
