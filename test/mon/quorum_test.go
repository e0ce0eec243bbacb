package mon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
)

// TestThreeMonitorBootstrap: three processes elect a leader, create the
// cluster (epoch 1, one fsid) and report a full quorum through radosctl.
func TestThreeMonitorBootstrap(t *testing.T) {
	c := newMonCluster(t, 3)
	c.startAll()
	cl := c.client()
	m := c.waitMap(cl, 15*time.Second)
	if m.Epoch != 1 || m.FSID.IsZero() {
		t.Fatalf("bootstrap map epoch %d fsid %s", m.Epoch, m.FSID)
	}
	c.leader(cl, 10*time.Second)
	var st struct {
		FSID   string   `json:"fsid"`
		Quorum []string `json:"quorum_names"`
		Leader string   `json:"leader"`
		Epoch  uint32   `json:"epoch"`
	}
	out := c.mustRadosctl("status", "--format", "json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status json: %v\n%s", err, out)
	}
	if st.FSID != m.FSID.String() || strings.Join(st.Quorum, ",") != "a,b,c" || st.Leader == "" {
		t.Fatalf("status: %+v", st)
	}
	// The live osd map prints the offline form's line with the real epoch
	// (ceph-facts section 1: 'issue' hashes to 0x651f88da, PG 1.1a of 64).
	c.mustRadosctl("osd", "pool", "create", "rbd", "64")
	line := c.mustRadosctl("osd", "map", "rbd", "issue")
	if want := "osdmap e2 pool 'rbd' (1) object 'issue' -> pg 1.651f88da (1.1a) -> up ([], p-1) acting ([], p-1)\n"; line != want {
		t.Errorf("osd map: %q, want %q", line, want)
	}
	for _, args := range [][]string{{"osd", "dump"}, {"osd", "tree"}, {"osd", "pool", "ls", "detail"}, {"osd", "pool", "get", "rbd", "all"},
		{"mon", "stat"}, {"health"}, {"osd", "crush", "rule", "ls"}, {"osd", "crush", "rule", "dump"}, {"osd", "map", "rbd", "issue"}} {
		out := c.mustRadosctl(append(args, "--format", "json")...)
		if !json.Valid([]byte(out)) {
			t.Errorf("radosctl %v --format json is not JSON:\n%s", args, out)
		}
	}
	// getcrushmap in both forms; setcrushmap takes either back.
	dir := t.TempDir()
	c.mustRadosctl("osd", "getcrushmap", "-o", dir+"/crush.bin")
	c.mustRadosctl("osd", "getcrushmap", "--text", "-o", dir+"/crush.txt")
	if txt, _ := os.ReadFile(dir + "/crush.txt"); !strings.Contains(string(txt), "rule replicated_rule {") {
		t.Errorf("getcrushmap --text:\n%s", txt)
	}
	c.mustRadosctl("osd", "setcrushmap", "-i", dir+"/crush.txt")
	c.mustRadosctl("osd", "setcrushmap", "-i", dir+"/crush.bin")
	plain := c.mustRadosctl("status")
	for _, want := range []string{"id:     " + m.FSID.String(), "mon: 3 daemons, quorum a,b,c", "osd: 0 osds: 0 up, 0 in", "pools:   1 pools, 64 pgs",
		"pgs:     64 unknown", "Reduced data availability: 64 pgs inactive"} {
		if !strings.Contains(plain, want) {
			t.Errorf("status lacks %q:\n%s", want, plain)
		}
	}
}

// ackedPool is a pool creation the monitors acknowledged.
type ackedPool struct {
	name  string
	epoch cluster.Epoch
}

// createPoolsLoop creates pools until stop is closed; it returns the
// acknowledged ones in order.
func createPoolsLoop(t *testing.T, cl *monclient.Client, stop <-chan struct{}) []ackedPool {
	var acked []ackedPool
	for i := 0; ; i++ {
		select {
		case <-stop:
			return acked
		default:
		}
		name := fmt.Sprintf("pool%d", i)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		r, err := cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: name, PGNum: 1})
		cancel()
		if err != nil {
			t.Errorf("pool create %s: %v", name, err)
			return acked
		}
		acked = append(acked, ackedPool{name, r.Epoch})
	}
}

// TestKillLeaderWhileCreatingPools: the leader is killed (SIGKILL) three
// times while a client creates pools. A new leader serves within a few
// seconds, every acknowledged pool exists afterwards, and the map's epochs
// are strictly consecutive (checked by a subscriber that rebuilds every
// epoch from incrementals with CRC checks).
func TestKillLeaderWhileCreatingPools(t *testing.T) {
	c := newMonCluster(t, 3, "--pg-per-osd-max", "0")
	c.startAll()
	cl := c.client()
	first := c.waitMap(cl, 15*time.Second)

	subCtx, subCancel := context.WithCancel(context.Background())
	defer subCancel()
	epochs := make(chan cluster.Epoch, 10000)
	go func() {
		for u := range cl.Subscribe(subCtx, first) {
			if u.Incremental == nil {
				t.Errorf("subscriber got a full map at epoch %d; history should cover the test", u.Map.Epoch)
			}
			epochs <- u.Map.Epoch
		}
		close(epochs)
	}()

	stop := make(chan struct{})
	var acked []ackedPool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); acked = createPoolsLoop(t, cl, stop) }()

	for round := 0; round < 3; round++ {
		time.Sleep(700 * time.Millisecond)
		li := c.leader(cl, 10*time.Second)
		c.kill(li)
		start := time.Now()
		nl := c.leader(cl, 10*time.Second)
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("round %d: new leader after %v", round, d)
		}
		t.Logf("round %d: killed mon.%s, mon.%s leads after %v", round, c.procs[li].name, c.procs[nl].name, time.Since(start).Round(time.Millisecond))
		c.restart(li)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d pools acknowledged", len(acked))
	}
	final := c.waitMap(cl, 15*time.Second)
	for i, a := range acked {
		if final.PoolByName(a.name) == nil {
			t.Errorf("acknowledged pool %s (epoch %d) is missing", a.name, a.epoch)
		}
		if i > 0 && a.epoch <= acked[i-1].epoch {
			t.Errorf("pool %s acknowledged at epoch %d after %s at %d", a.name, a.epoch, acked[i-1].name, acked[i-1].epoch)
		}
	}
	if len(final.Pools) != len(acked) {
		t.Errorf("map has %d pools, %d acknowledged (each create was applied once)", len(final.Pools), len(acked))
	}
	checkConsecutive(t, epochs, first.Epoch, final.Epoch)

	// radosctl's view is truthful: every pool listed, all three back in quorum.
	listed := strings.Fields(c.mustRadosctl("osd", "pool", "ls"))
	if len(listed) != len(acked) {
		t.Errorf("radosctl osd pool ls lists %d pools, %d acknowledged", len(listed), len(acked))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := c.mustRadosctl("status")
		if strings.Contains(out, "quorum a,b,c") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted monitors did not rejoin the quorum:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func checkConsecutive(t *testing.T, epochs <-chan cluster.Epoch, from, to cluster.Epoch) {
	t.Helper()
	want := from + 1
	deadline := time.After(15 * time.Second)
	for want <= to {
		select {
		case e, ok := <-epochs:
			if !ok {
				t.Fatalf("subscription ended at epoch %d, want up to %d", want-1, to)
			}
			if e != want {
				t.Fatalf("subscriber saw epoch %d, want %d (epochs must be consecutive)", e, want)
			}
			want++
		case <-deadline:
			t.Fatalf("subscriber stuck before epoch %d (final %d)", want, to)
		}
	}
}

// TestRestartAllFromDataDirs: after a clean stop of all three monitors,
// `mon --data DIR` alone restarts each and the cluster serves the same map
// at the same epoch.
func TestRestartAllFromDataDirs(t *testing.T) {
	c := newMonCluster(t, 3)
	c.startAll()
	cl := c.client()
	c.waitMap(cl, 15*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range []string{"rbd", "images", "backups"} {
		if _, err := cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: name, PGNum: 8}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.SetFlag(ctx, "noout", false); err != nil {
		t.Fatal(err)
	}
	before := c.waitMap(cl, 10*time.Second)
	beforeBytes, _ := before.Marshal()
	for i := range c.procs {
		c.stop(i)
	}
	for i := range c.procs {
		c.restart(i)
	}
	after := c.waitMap(cl, 20*time.Second)
	afterBytes, _ := after.Marshal()
	if after.Epoch != before.Epoch || !bytes.Equal(beforeBytes, afterBytes) {
		t.Fatalf("after restart: epoch %d (before %d), identical encoding %v", after.Epoch, before.Epoch, bytes.Equal(beforeBytes, afterBytes))
	}
	if _, err := cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: "after", PGNum: 8}); err != nil {
		t.Fatalf("change after restart: %v", err)
	}
}

// TestNoQuorumClearError: with two of three monitors down, commands fail
// within their timeout with a "no quorum" error instead of hanging.
func TestNoQuorumClearError(t *testing.T) {
	c := newMonCluster(t, 3)
	c.startAll()
	cl := c.client()
	c.waitMap(cl, 15*time.Second)
	c.kill(1)
	// With one monitor down the status stays truthful: quorum of the two
	// others, the third reported down (after raft's activity window).
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _, err := c.radosctl("status")
		if err == nil && strings.Contains(out, "out of quorum: b") && strings.Contains(out, "1/3 mons down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status with mon.b down:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.kill(2)
	start := time.Now()
	_, errOut, err := c.radosctl("--timeout", "3s", "osd", "pool", "create", "lost", "8")
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("pool create without quorum succeeded")
	}
	if !strings.Contains(errOut, "no quorum") {
		t.Errorf("error does not say no quorum: %q", errOut)
	}
	if elapsed > 8*time.Second {
		t.Errorf("failing without quorum took %v with --timeout 3s", elapsed)
	}
	t.Logf("radosctl failed after %v", elapsed)
	_, errOut, err = c.radosctl("--timeout", "2s", "osd", "dump")
	if err == nil || !strings.Contains(errOut, "no quorum") {
		t.Errorf("osd dump without quorum: %v %q", err, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: "lost2", PGNum: 8})
	if !errors.Is(err, monclient.ErrNoQuorum) {
		t.Errorf("client error %v, want ErrNoQuorum", err)
	}
}

// TestSubscriberBehindTrimmedHistory: a monitor keeping 5 epochs gives a
// subscriber at epoch 1 a full map, then incrementals.
func TestSubscriberBehindTrimmedHistory(t *testing.T) {
	c := newMonCluster(t, 1, "--history-epochs", "5")
	c.startAll()
	cl := c.client()
	old := c.waitMap(cl, 15*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < 10; i++ {
		if _, err := cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: fmt.Sprintf("p%d", i), PGNum: 1}); err != nil {
			t.Fatal(err)
		}
	}
	updates := cl.Subscribe(ctx, old)
	u := <-updates
	if u.Incremental != nil || u.Map.Epoch != 11 {
		t.Fatalf("first update: incremental %v epoch %d; want a full map at 11", u.Incremental != nil, u.Map.Epoch)
	}
	if _, err := cl.PoolCreate(ctx, monclient.PoolCreateOpts{Name: "next", PGNum: 1}); err != nil {
		t.Fatal(err)
	}
	u = <-updates
	if u.Incremental == nil || u.Map.Epoch != 12 || u.Map.PoolByName("next") == nil {
		t.Fatalf("second update: incremental %v epoch %d", u.Incremental != nil, u.Map.Epoch)
	}
}
