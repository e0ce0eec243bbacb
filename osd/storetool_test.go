package osd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gorados/gorados/osd/store"
)

// The offline tool lists, gets, exports and imports the PGs of stopped
// OSDs; an imported PG holds the same objects as the exported one.
func TestStoreToolOffline(t *testing.T) {
	c := newTestCluster(t, 3, 4)
	c.waitActive()
	want := map[string][]byte{}
	for i := range 12 {
		name := fmt.Sprintf("tool-%d", i)
		want[name] = bytes.Repeat([]byte{byte(i)}, 100*i)
		mustOK(t, "write", c.do(c.request(name, wfull(want[name]))))
	}
	id, _ := c.locate("tool-3")
	c.stop()
	ctx := context.Background()
	src := c.osds[0].dir

	var list bytes.Buffer
	if err := StoreList(ctx, src, "", &list); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(list.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("store list: %d objects, want %d:\n%s", len(lines), len(want), list.String())
	}
	var rec []json.RawMessage
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || len(rec) != 2 {
		t.Fatalf("list line %q is not [pgid, object]: %v", lines[0], err)
	}
	d, err := StoreGet(ctx, src, ObjectSelector{Name: "tool-3"})
	if err != nil || !bytes.Equal(d.Data, want["tool-3"]) {
		t.Fatalf("store get tool-3: %v", err)
	}
	if _, err := StoreGet(ctx, src, ObjectSelector{Name: "absent"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("store get of an absent object: %v", err)
	}

	var exp bytes.Buffer
	if _, err := StoreExport(ctx, src, id.String(), &exp); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	st, err := store.Create(dst, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	coll, _, err := StoreImport(ctx, dst, &exp)
	if err != nil || coll.String() != id.String() {
		t.Fatalf("import: %v %s", err, coll)
	}
	d, err = StoreGet(ctx, dst, ObjectSelector{PG: id.String(), Name: "tool-3"})
	if err != nil || !bytes.Equal(d.Data, want["tool-3"]) {
		t.Fatalf("get from the imported PG: %v", err)
	}
	if _, err := StoreExport(ctx, src, "nonsense", &exp); err == nil {
		t.Fatal("export of a bad PG id succeeded")
	}
}
