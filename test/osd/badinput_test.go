package osd_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/testutil"
	"github.com/gorados/gorados/proto/pb"
)

// Rule: an OSD data directory of another cluster refuses to start, with a
// clear error, and the OSD does not join.
func TestForeignDataDirRefused(t *testing.T) {
	a := newCluster(t, 1)
	b := &testCluster{t: t}
	addr := testutil.FreeAddrs(t, 1)[0]
	b.mon = start(t, "mon.b", "mon", "--id", "b", "--data", filepath.Join(t.TempDir(), "mon-b"),
		"--addr", addr, "--initial-members", "b="+addr, "--log-level", "warn")
	defer b.mon.kill()
	a.osds[0].p.term(t)
	o := a.osds[0]
	p := start(t, "osd-foreign", "osd", "--data", o.dir, "--mon", addr, "--public-addr", o.pub, "--cluster-addr", o.clu)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill()
		t.Fatal("an OSD with another cluster's data directory kept running")
	}
	if p.err == nil || !strings.Contains(p.log.String(), "another cluster") {
		t.Fatalf("exit %v, log:\n%s", p.err, p.log.String())
	}
}

// Rule: requests carrying another cluster's fsid are refused; /metrics and
// /healthz answer.
func TestForeignRequestsAndMetrics(t *testing.T) {
	c := newCluster(t, 3)
	pool := c.createPool("data", 8, 3, 2)
	rc := c.client(pool)
	mustOK(t, "write", rc.do(t, rc.request("m", writeFull([]byte("x")))))
	req := rc.request("m", readAll())
	addr, _ := rc.target(req)
	req.Fsid = "00000000-0000-4000-8000-000000000001"
	r, err := rc.send(addr, req)
	if err != nil || r.GetResult() != pb.Result_RESULT_WRONG_CLUSTER {
		t.Fatalf("foreign fsid: %v %s", err, r.GetResult())
	}
	for _, o := range c.osds {
		body := httpGet(t, "http://"+o.metric+"/healthz")
		if !strings.HasPrefix(body, "ok osd.") {
			t.Fatalf("osd.%d /healthz: %q", o.id, body)
		}
	}
	metrics := ""
	for _, o := range c.osds {
		metrics += httpGet(t, "http://"+o.metric+"/metrics")
	}
	for _, name := range []string{"gorados_osd_ops_total", "gorados_osd_op_latency_seconds", `gorados_osd_pgs{state="active"}`,
		"gorados_osd_store_commit_latency_seconds", "gorados_osd_store_commit_batch_txns", "gorados_osd_repop_latency_seconds"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("metrics lack %s", name)
		}
	}
}

func httpGet(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

// Rule: OSDs boot under their hosts (the monitors place them in CRUSH), a
// write lands on distinct hosts, and SIGTERM marks the OSD down before it
// exits.
func TestBootPlacementAndMarkDown(t *testing.T) {
	c := newClusterWith(t, 3, true)
	pool := c.createPool("data", 8, 3, 2)
	rc := c.client(pool)
	mustOK(t, "write", rc.do(t, rc.request("placed", writeFull([]byte("x")))))
	m := rc.curMap()
	id, _ := m.ObjectToPG(pool, "placed", "", "")
	_, _, acting, _ := m.PGToUpActing(id)
	hosts := map[string]bool{}
	for _, o := range acting {
		hosts[m.OSDs[o].Host] = true
	}
	if len(acting) != 3 || len(hosts) != 3 {
		t.Fatalf("acting %v on hosts %v, want 3 OSDs on 3 hosts", acting, hosts)
	}
	victim := c.osds[2]
	victim.p.term(t)
	c.waitMap(func(m *cluster.OSDMap) bool { return !m.IsUp(victim.id) }, "the stopped OSD marked down")
}

// Rule: a running OSD that the map marks down (an operator's `osd down`)
// boots again, as Ceph's OSDs do, and its PGs serve again.
func TestMarkedDownWhileRunningBootsAgain(t *testing.T) {
	c := newCluster(t, 3)
	pool := c.createPool("data", 8, 3, 2)
	rc := c.client(pool)
	mustOK(t, "write", rc.do(t, rc.request("a", writeFull([]byte("1")))))
	id := c.osds[1].id
	if _, err := c.mc.OSDMark(t.Context(), "down", id); err != nil {
		t.Fatal(err)
	}
	c.waitMap(func(m *cluster.OSDMap) bool { return m.IsUp(id) && m.OSDs[id].DownAt > 0 },
		"the OSD up again")
	mustOK(t, "write after the re-boot", rc.do(t, rc.request("a", writeFull([]byte("2")))))
	r := mustOK(t, "read", rc.do(t, rc.request("a", readAll())))
	if string(r.GetResults()[0].GetData()) != "2" {
		t.Fatalf("read %q", r.GetResults()[0].GetData())
	}
}
