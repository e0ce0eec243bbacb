package mon_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
)

// TestRadosctlBadInput: each bad command exits non-zero with a message
// that names the problem, and none of them changes the map.
func TestRadosctlBadInput(t *testing.T) {
	c := newMonCluster(t, 1)
	c.startAll()
	cl := c.client()
	c.waitMap(cl, 15*time.Second)
	c.mustRadosctl("osd", "pool", "create", "rbd", "8")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := cl.OSDCreate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	badMap := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(badMap, []byte("rule broken {\n  step take nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := c.waitMap(cl, 5*time.Second).Epoch
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"osd", "pool", "create", "bad name", "8"}, "pool name"},
		{[]string{"osd", "pool", "create", "rbd", "8"}, "already exists"},
		{[]string{"osd", "pool", "create", "p0", "0"}, "pg_num must be at least 1"},
		{[]string{"osd", "pool", "create", "big", "100000"}, "limit"},
		{[]string{"osd", "pool", "create", "s0", "8", "--size", "0"}, "size 0"},
		{[]string{"osd", "pool", "create", "s2", "8", "--size", "2", "--min-size", "3"}, "size 2 < min_size 3"},
		{[]string{"osd", "pool", "create", "r", "8", "--rule", "nosuch"}, "crush rule 'nosuch' does not exist"},
		{[]string{"osd", "pool", "set", "nope", "size", "3"}, "pool 'nope' does not exist"},
		{[]string{"osd", "pool", "set", "rbd", "colour", "3"}, "unknown pool variable"},
		{[]string{"osd", "pool", "set", "rbd", "min_size", "4"}, "size 3 < min_size 4"},
		{[]string{"osd", "pool", "set", "rbd", "pg_num", "0"}, "pg_num must be at least 1"},
		{[]string{"osd", "pool", "rm", "nope", "nope", "--yes-i-really-really-mean-it"}, "does not exist"},
		{[]string{"osd", "pool", "rm", "rbd", "rbd"}, "--yes-i-really-really-mean-it"},
		{[]string{"osd", "out", "42"}, "osd.42 does not exist"},
		{[]string{"osd", "out", "osd.x"}, "not an OSD id"},
		{[]string{"osd", "reweight", "0", "1.5"}, "outside 0..1"},
		{[]string{"osd", "rm", "7"}, "osd.7 does not exist"},
		{[]string{"osd", "crush", "rule", "rm", "nosuch"}, "does not exist"},
		{[]string{"osd", "crush", "rule", "rm", "replicated_rule"}, "used by pool 'rbd'"},
		{[]string{"osd", "setcrushmap", "-i", badMap}, "does not compile"},
		{[]string{"osd", "set", "nosuchflag"}, "unknown flag"},
		{[]string{"osd", "map", "nope", "obj"}, "pool 'nope' does not exist"},
		{[]string{"osd", "pool", "get", "rbd", "colour"}, "unknown pool variable"},
		{[]string{"status", "--format", "yaml"}, "--format"},
	}
	for _, tc := range cases {
		out, errOut, err := c.radosctl(tc.args...)
		if err == nil {
			t.Errorf("radosctl %s succeeded:\n%s", strings.Join(tc.args, " "), out)
			continue
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
			t.Errorf("radosctl %s: %v", strings.Join(tc.args, " "), err)
		}
		if !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "panic") {
			t.Errorf("radosctl %s: stderr %q lacks %q", strings.Join(tc.args, " "), errOut, tc.want)
		}
	}
	if after := c.waitMap(cl, 5*time.Second).Epoch; after != before {
		t.Fatalf("refused commands moved the map from epoch %d to %d", before, after)
	}
}

// monExit runs a mon command that must fail and returns its output.
func monExit(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "mon"), args...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("mon %s kept running; want a refusal", strings.Join(args, " "))
	}
	if err == nil {
		t.Fatalf("mon %s exited 0; want a refusal\n%s", strings.Join(args, " "), out)
	}
	if strings.Contains(string(out), "panic") {
		t.Fatalf("mon %s panicked:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

// TestMonBadDataDirAndFlags: a corrupt store, a member list that disagrees
// with the stored one, a first start without --id and malformed members
// are refused with clear errors.
func TestMonBadDataDirAndFlags(t *testing.T) {
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, "mon.db"), []byte(strings.Repeat("not bbolt ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := monExit(t, "--data", corrupt); !strings.Contains(out, "corrupt") {
		t.Errorf("corrupt store: %s", out)
	}
	if out := monExit(t, "--data", t.TempDir()); !strings.Contains(out, "first start needs --id") {
		t.Errorf("first start without --id: %s", out)
	}
	if out := monExit(t, "--id", "a", "--data", t.TempDir(), "--initial-members", "a=nohostport"); !strings.Contains(out, "HOST:PORT") {
		t.Errorf("bad member list: %s", out)
	}
	if out := monExit(t, "--id", "z", "--data", t.TempDir(), "--initial-members", "a=127.0.0.1:1"); !strings.Contains(out, "not in --initial-members") {
		t.Errorf("id not a member: %s", out)
	}

	c := newMonCluster(t, 1)
	c.startAll()
	c.waitMap(c.client(), 15*time.Second)
	c.stop(0)
	p := c.procs[0]
	out := monExit(t, "--data", p.dir, "--initial-members", "a="+p.addr+",b=127.0.0.1:9")
	if !strings.Contains(out, "disagrees with the stored one") {
		t.Errorf("member mismatch: %s", out)
	}
}

// TestMonDataDirOfAnotherCluster: a monitor started on the data dir of
// another cluster (same member names and addresses, other fsid) refuses to
// run, and the rightful monitors keep their quorum.
func TestMonDataDirOfAnotherCluster(t *testing.T) {
	a := newMonCluster(t, 3)
	a.startAll()
	ca := a.client()
	fsidA := a.waitMap(ca, 15*time.Second).FSID
	for i := range a.procs {
		a.stop(i)
	}
	b := &monCluster{t: t, members: a.members}
	for _, p := range a.procs {
		b.procs = append(b.procs, &monProc{name: p.name, addr: p.addr, dir: p.dir + "-other"})
	}
	t.Cleanup(b.killAll)
	b.startAll()
	if fsidB := b.waitMap(b.client(), 15*time.Second).FSID; fsidB == fsidA {
		t.Fatal("two bootstraps produced the same fsid")
	}
	for i := range b.procs {
		b.stop(i)
	}
	a.restart(0)
	a.restart(1)
	a.waitMap(ca, 15*time.Second)
	out := monExit(t, "--data", b.procs[2].dir, "--log-level", "error")
	if !strings.Contains(out, "fsid mismatch") {
		t.Fatalf("foreign data dir: %s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ca.PoolCreate(ctx, monclient.PoolCreateOpts{Name: "still-ok", PGNum: 4}); err != nil {
		t.Fatalf("rightful quorum after the intruder: %v", err)
	}
}
