package osd_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

// objectData returns deterministic contents for object i: sizes from 0 to
// ~1 MiB, a few of them several blocks long.
func objectData(seed uint64, i int) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	var n int
	switch i % 4 {
	case 0:
		n = 0
	case 1:
		n = rng.IntN(4096)
	case 2:
		n = rng.IntN(200 << 10)
	default:
		n = rng.IntN(1 << 20)
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(rng.Uint32())
	}
	return b
}

// writeObjects writes count objects 16 at a time and returns their data.
func writeObjects(t testing.TB, rc *rawClient, prefix string, seed uint64, count int) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range count {
		name := fmt.Sprintf("%s-%04d", prefix, i)
		data := objectData(seed, i)
		want[name] = data
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := rc.try(rc.request(name, writeFull(data)))
			mu.Lock()
			defer mu.Unlock()
			if err != nil || r.GetResult() != pb.Result_RESULT_OK {
				t.Errorf("write %s: %v %s %s", name, err, r.GetResult(), r.GetMessage())
			}
		}()
	}
	wg.Wait()
	return want
}

func checkObjects(t testing.TB, rc *rawClient, want map[string][]byte) {
	t.Helper()
	for name, data := range want {
		r := mustOK(t, "read "+name, rc.do(t, rc.request(name, readAll())))
		if got := r.GetResults()[0].GetData(); !bytes.Equal(got, data) {
			t.Fatalf("read %s: %d bytes, want %d (content differs)", name, len(got), len(data))
		}
	}
}

// listLine is one line of `osd store list`.
type listedObject struct {
	Name      string `json:"oid"`
	Namespace string `json:"namespace"`
}

// Rule: a write is stored on exactly `size` OSDs, on distinct hosts, with
// identical bytes, as the offline store tool shows after a clean stop.
func TestReplicatedWritesOnDistinctHosts(t *testing.T) {
	const seed = 5
	t.Logf("data seed %d", seed)
	c := newCluster(t, 4)
	pool := c.createPool("data", 16, 3, 2)
	rc := c.client(pool)
	want := writeObjects(t, rc, "obj", seed, 120)
	checkObjects(t, rc, want)
	c.stopAll()

	holders := map[string][]*osdProc{}
	for _, o := range c.osds {
		out := c.mustRun("store", "list", "--data", o.dir)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var rec []json.RawMessage
			var obj listedObject
			if err := json.Unmarshal([]byte(line), &rec); err != nil || len(rec) != 2 || json.Unmarshal(rec[1], &obj) != nil {
				t.Fatalf("osd.%d store list line %q: %v", o.id, line, err)
			}
			holders[obj.Name] = append(holders[obj.Name], o)
		}
	}
	for name, data := range want {
		hs := holders[name]
		hosts := map[string]bool{}
		for _, o := range hs {
			hosts[o.host] = true
			got := c.mustRun("store", "get", "--data", o.dir, name)
			if sha256.Sum256([]byte(got)) != sha256.Sum256(data) {
				t.Fatalf("%s on osd.%d differs from what was written (%d bytes, want %d)", name, o.id, len(got), len(data))
			}
		}
		if len(hs) != 3 || len(hosts) != 3 {
			t.Fatalf("%s is on %d OSDs on %d hosts, want 3 and 3", name, len(hs), len(hosts))
		}
	}
}

// Rule: every acknowledged write survives kill -9 of every OSD.
func TestKill9AllOSDsAfterAck(t *testing.T) {
	const seed = 9
	c := newCluster(t, 3)
	pool := c.createPool("data", 8, 3, 2)
	rc := c.client(pool)
	want := writeObjects(t, rc, "k", seed, 60)
	c.killAll()
	for _, o := range c.osds {
		c.startOSD(o)
	}
	checkObjects(t, rc, want)
}

// Rule: an append resent with the same reqid is applied once, and the
// resend is answered with the original version.
func TestResentAppendAppliedOnce(t *testing.T) {
	c := newCluster(t, 3)
	pool := c.createPool("data", 8, 3, 2)
	rc := c.client(pool)
	req := rc.request("log", appendOp([]byte("entry;")))
	first := mustOK(t, "append", rc.do(t, req))
	for range 3 {
		again := mustOK(t, "resent append", rc.do(t, req))
		if !again.GetDuplicate() || again.GetVersion().GetVersion() != first.GetVersion().GetVersion() {
			t.Fatalf("resend answered %v (duplicate=%v), want the original %v", again.GetVersion(), again.GetDuplicate(), first.GetVersion())
		}
	}
	r := mustOK(t, "read", rc.do(t, rc.request("log", readAll())))
	if got := string(r.GetResults()[0].GetData()); got != "entry;" {
		t.Fatalf("object holds %q after resends, want one append", got)
	}
}

// Rule: a client whose map is stale is redirected (NOT_PRIMARY or
// STALE_EPOCH with the OSD's epoch), refreshes and succeeds.
func TestStaleClientRedirected(t *testing.T) {
	c := newCluster(t, 4)
	pool := c.createPool("data", 8, 3, 2)
	rc := c.client(pool)
	mustOK(t, "first write", rc.do(t, rc.request("moving", writeFull([]byte("v1")))))
	req := rc.request("moving", writeFull([]byte("v2")))
	oldAddr, _ := rc.target(req)
	old := rc.curMap()
	id, _ := old.ObjectToPG(pool, "moving", "", "")
	_, _, _, primary := old.PGToUpActing(id)
	// Make another member primary (primary affinity 0): the PG gets a new
	// primary among the same members, the old one stays up and serving.
	if _, err := c.mc.OSDPrimaryAffinity(t.Context(), primary, 0); err != nil {
		t.Fatal(err)
	}
	c.waitMap(func(m *cluster.OSDMap) bool {
		_, _, _, p := m.PGToUpActing(id)
		return p != primary
	}, "a new primary")
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := rc.send(oldAddr, req) // still the old map's epoch and target
		if err != nil {
			t.Fatal(err)
		}
		if r.GetResult() == pb.Result_RESULT_NOT_PRIMARY || r.GetResult() == pb.Result_RESULT_STALE_EPOCH {
			if r.GetOsdEpoch() <= uint64(old.Epoch) {
				t.Fatalf("redirect carries epoch %d, not newer than the client's %d", r.GetOsdEpoch(), old.Epoch)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old primary kept answering %s", r.GetResult())
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.refresh()
	mustOK(t, "write after refresh", rc.do(t, req))
	r := mustOK(t, "read", rc.do(t, rc.request("moving", readAll())))
	if got := string(r.GetResults()[0].GetData()); got != "v2" {
		t.Fatalf("read %q, want v2", got)
	}
}

// Rule: a byte corrupted on disk is detected at read time; the read fails
// with an I/O error and the corrupt bytes are never returned.
func TestCorruptByteDetected(t *testing.T) {
	c := newCluster(t, 3)
	pool := c.createPool("data", 8, 3, 2)
	rc := c.client(pool)
	marker := bytes.Repeat([]byte("gorados-corruption-marker;"), 4096)
	mustOK(t, "write", rc.do(t, rc.request("victim", writeFull(marker))))
	m := rc.curMap()
	id, _ := m.ObjectToPG(pool, "victim", "", "")
	_, _, _, primary := m.PGToUpActing(id)
	c.stopAll()
	var victim *osdProc
	for _, o := range c.osds {
		if o.id == primary {
			victim = o
		}
	}
	// The data is in bbolt (store.db) or, written in large blocks, in the
	// block file (store.blocks).
	flipped := false
	for _, name := range []string{"store.db", "store.blocks"} {
		path := filepath.Join(victim.dir, name)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if at := bytes.Index(raw, marker[:1024]); at >= 0 {
			raw[at+100] ^= 0xff
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			flipped = true
		}
	}
	if !flipped {
		t.Fatalf("marker not found in the store files of %s", victim.dir)
	}
	for _, o := range c.osds {
		c.startOSD(o)
	}
	r := rc.do(t, rc.request("victim", readAll()))
	if r.GetResult() != pb.Result_RESULT_IO_ERROR {
		t.Fatalf("read of a corrupt object: %s (%d bytes), want RESULT_IO_ERROR", r.GetResult(), len(r.GetResults()[0].GetData()))
	}
	for _, res := range r.GetResults() {
		if len(res.GetData()) > 0 {
			t.Fatalf("corrupt read returned %d bytes", len(res.GetData()))
		}
	}
}

// loadResult is what a writer learned: the objects acknowledged with their
// data.
type loadResult struct {
	mu    sync.Mutex
	acked map[string][]byte
}

// runLoad writes objects with 16 writers until stop closes; every op is
// retried (same reqid) until it gets a final answer, as a client would.
func runLoad(t *testing.T, rc *rawClient, stop <-chan struct{}) *loadResult {
	res := &loadResult{acked: map[string][]byte{}}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("load-%d-%d", w, i)
				data := objectData(uint64(w), i)
				r, err := rc.try(rc.request(name, writeFull(data)))
				if err != nil {
					t.Error(err)
					return
				}
				if r.GetResult() == pb.Result_RESULT_OK {
					res.mu.Lock()
					res.acked[name] = data
					res.mu.Unlock()
				}
			}
		}()
	}
	t.Cleanup(wg.Wait)
	go func() { <-stop; wg.Wait() }()
	return res
}

// Rule: OSDs killed with -9 mid-load and restarted lose no acknowledged
// write; the PGs recover and serve every acknowledged object.
func TestKill9MidLoad(t *testing.T) {
	c := newCluster(t, 4)
	pool := c.createPool("data", 16, 3, 2)
	rc := c.client(pool)
	stop := make(chan struct{})
	res := runLoad(t, rc, stop)
	time.Sleep(time.Second)
	victim := c.osds[1]
	victim.p.kill()
	time.Sleep(500 * time.Millisecond)
	c.startOSD(victim)
	time.Sleep(time.Second)
	for _, o := range c.osds {
		o.p.kill()
	}
	for _, o := range c.osds {
		c.startOSD(o)
	}
	time.Sleep(time.Second)
	close(stop)
	res.mu.Lock()
	acked := res.acked
	res.mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged during the load")
	}
	t.Logf("%d writes acknowledged", len(acked))
	checkObjects(t, rc, acked)
}
