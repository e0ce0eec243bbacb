package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/deploy/devcluster"
	"github.com/gorados/gorados/osd/store"
)

// replica is one copy of an object found in a stopped OSD's store.
type replica struct {
	osd  *devcluster.Daemon
	pg   string
	id   store.ObjectID
	size uint64
}

// storeListing lists the objects of every (stopped) OSD of c with the
// offline tool, `osd store list --data DIR`, keyed by namespace/name.
func storeListing(t *testing.T, c *devcluster.Cluster) map[string][]replica {
	t.Helper()
	out := map[string][]replica{}
	for _, d := range c.Layout().OSDs() {
		cmd := exec.Command(filepath.Join(binDir, "osd"), "store", "list", "--data", c.DataDir(d.Name))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("osd store list --data %s: %v\n%s", c.DataDir(d.Name), err, stderr.String())
		}
		sc := bufio.NewScanner(&stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var pg string
			var id store.ObjectID
			row := []any{&pg, &id}
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("osd store list line %q: %v", sc.Text(), err)
			}
			k := id.Namespace + "/" + id.Name
			out[k] = append(out[k], replica{osd: d, pg: pg, id: id})
		}
	}
	return out
}

// checkPlacement checks that every object is stored on exactly size OSDs
// of distinct hosts, in the PG the placement code computes from m.
func checkPlacement(t *testing.T, m *cluster.OSDMap, pool int64, size int, objs []object, listing map[string][]replica) {
	t.Helper()
	for _, o := range objs {
		reps := listing["/"+o.name]
		pg, err := m.ObjectToPG(pool, o.name, "", "")
		if err != nil {
			t.Fatal(err)
		}
		hosts := map[string]bool{}
		var where []string
		for _, r := range reps {
			hosts[r.osd.Host] = true
			where = append(where, r.osd.Name+"@"+r.osd.Host+":"+r.pg)
			if r.pg != pg.String() {
				t.Errorf("%s is in PG %s on %s, placement says %s", o.name, r.pg, r.osd.Name, pg)
			}
		}
		if len(reps) != size || len(hosts) != size {
			sort.Strings(where)
			t.Fatalf("%s is stored %d times on %d hosts (%v), want %d copies on distinct hosts", o.name, len(reps), len(hosts), where, size)
		}
	}
}

// checkReplicaData reads every copy of every object from the stopped OSDs'
// stores (the functions behind `osd store get`, with checksum
// verification) and compares it with what was written.
func checkReplicaData(t *testing.T, c *devcluster.Cluster, objs []object, listing map[string][]replica) {
	t.Helper()
	want := make(map[string]uint32, len(objs))
	var mu sync.Mutex
	if err := forEach(context.Background(), objs, 2, func(_ context.Context, o object) error {
		crc := o.crc()
		mu.Lock()
		want[o.name] = crc
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Layout().OSDs() {
		st, err := store.Open(c.DataDir(d.Name), store.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("open the store of %s: %v", d.Name, err)
		}
		for _, o := range objs {
			for _, r := range listing["/"+o.name] {
				if r.osd != d {
					continue
				}
				coll, err := store.ParseCollID(r.pg)
				if err != nil {
					t.Fatal(err)
				}
				dump, err := st.DumpObject(context.Background(), coll, r.id)
				if err != nil {
					t.Fatalf("%s on %s: %v", o.name, d.Name, err)
				}
				if got := crc32.Checksum(dump.Data, castagnoli); got != want[o.name] || len(dump.Data) != o.size {
					t.Fatalf("%s on %s: %d bytes with crc %08x, wrote %d bytes with crc %08x", o.name, d.Name, len(dump.Data), got, o.size, want[o.name])
				}
			}
		}
		st.Close()
	}
}

// checkWithTool compares the copies of a few objects, fetched with the
// offline tool's command line (`osd store get NAME --pg PG --out FILE`),
// with what was written.
func checkWithTool(t *testing.T, c *devcluster.Cluster, objs []object, listing map[string][]replica) {
	t.Helper()
	dir := t.TempDir()
	for _, o := range objs {
		for _, r := range listing["/"+o.name] {
			file := filepath.Join(dir, fmt.Sprintf("%s.%s", o.name, r.osd.Name))
			cmd := exec.Command(filepath.Join(binDir, "osd"), "store", "get", o.name, "--pg", r.pg,
				"--data", c.DataDir(r.osd.Name), "--out", file)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("osd store get %s on %s: %v\n%s", o.name, r.osd.Name, err, out)
			}
			got, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, o.content()) {
				t.Fatalf("osd store get %s on %s: %d bytes differ from the %d written", o.name, r.osd.Name, len(got), o.size)
			}
		}
	}
}
