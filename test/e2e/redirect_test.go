package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/failpoint"
)

// TestStaleMapRedirected: a client whose map subscription is held back
// writes to an object whose primary moved (primary affinity 0); the old
// primary tells it to refresh, it fetches the newer map and the write
// succeeds on the new primary.
func TestStaleMapRedirected(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	ctx := testCtx(t, 2*time.Minute)
	name := "stale-map"
	if err := io.WriteFull(ctx, name, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	m := conn.Map()
	pg, err := m.ObjectToPG(io.PoolID(), name, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, old := m.PGToUpActing(pg)

	defer failpoint.EnableFunc(client.FailpointMapUpdate, func() error { return failpoint.ErrInjected })()
	mc, err := c.MonClient()
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if _, err := mc.OSDPrimaryAffinity(ctx, old, 0); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := mc.OSDPrimaryAffinity(ctx, old, 1); err != nil {
			t.Errorf("restore the primary affinity of osd.%d: %v", old, err)
		}
		if err := c.WaitActive(ctx); err != nil {
			t.Error(err)
		}
	}()
	newest, err := mc.GetMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, p := newest.PGToUpActing(pg); p == old {
		t.Fatalf("primary affinity 0 left osd.%d primary of %s", old, pg)
	}
	if conn.Map().Epoch != m.Epoch {
		t.Fatalf("the client's map moved to epoch %d although updates are held", conn.Map().Epoch)
	}
	if err := io.WriteFull(ctx, name, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	st := conn.Stats()
	if st.Redirects == 0 || cluster.Epoch(st.MapEpoch) < newest.Epoch {
		t.Fatalf("stats %+v: want a redirect and a map of epoch >= %d", st, newest.Epoch)
	}
	got, err := io.Read(ctx, name, 0, 0)
	if err != nil || string(got) != "v2" {
		t.Fatalf("read back %q, %v", got, err)
	}
	t.Logf("osd.%d redirected the client from epoch %d to %d: %+v", old, m.Epoch, newest.Epoch, st)
}

// TestResentAppendAppliedOnce: the reply to an append is lost on the way
// back; the client resends the same request id and the OSD answers from
// its log instead of appending again.
func TestResentAppendAppliedOnce(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	ctx := testCtx(t, time.Minute)
	name := "resent-append"
	if err := io.WriteFull(ctx, name, []byte("a")); err != nil {
		t.Fatal(err)
	}
	for i, part := range []string{"b", "c", "d"} {
		dropped := false
		disable := failpoint.EnableFunc(client.FailpointDropReply, func() error {
			if !dropped {
				dropped = true
				return failpoint.ErrInjected
			}
			return nil
		})
		err := io.Append(ctx, name, []byte(part))
		disable()
		if err != nil {
			t.Fatal(err)
		}
		if st := conn.Stats(); st.Duplicates != uint64(i+1) {
			t.Fatalf("after %d lost replies: %+v, want %d duplicate answers", i+1, st, i+1)
		}
	}
	got, err := io.Read(ctx, name, 0, 0)
	if err != nil || string(got) != "abcd" {
		t.Fatalf("after resent appends: %q, %v; want %q", got, err, "abcd")
	}
}

// TestLocatorKeysAndNamespaces: objects sharing a locator key land in one
// PG; namespaces keep equal names apart; listings see them.
func TestLocatorKeysAndNamespaces(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	ctx := testCtx(t, time.Minute)
	io.SetNamespace("tenant-a")
	io.SetLocatorKey("group-1")
	for i := range 8 {
		if err := io.WriteFull(ctx, fmt.Sprintf("part-%d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	io.SetLocatorKey("")
	io.SetNamespace("tenant-b")
	if err := io.WriteFull(ctx, "part-0", []byte("b")); err != nil {
		t.Fatal(err)
	}
	io.SetNamespace("tenant-a")
	seen := map[string]string{}
	for e, err := range io.ListObjects(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Name] = e.Key
	}
	if len(seen) != 8 || seen["part-3"] != "group-1" {
		t.Fatalf("tenant-a lists %v", seen)
	}
	io.SetLocatorKey("group-1")
	got, err := io.Read(ctx, "part-0", 0, 0)
	if err != nil || len(got) != 1 || got[0] != 0 {
		t.Fatalf("read tenant-a/part-0: %q %v", got, err)
	}
	io.SetNamespace("tenant-b")
	io.SetLocatorKey("")
	got, err = io.Read(ctx, "part-0", 0, 0)
	if err != nil || string(got) != "b" {
		t.Fatalf("read tenant-b/part-0: %q %v", got, err)
	}
}
