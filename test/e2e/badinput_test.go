package e2e

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/monclient"
)

// TestBadInput: requests over the limits, unknown pools and another
// cluster's fsid get typed errors, and a refused op leaves the object
// exactly as it was.
func TestBadInput(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	io := openPool(t, c, conn)
	ctx := testCtx(t, 3*time.Minute)
	name := "bad-input"
	if err := io.Operate(ctx, name, client.NewWriteOp().WriteFull([]byte("keep me")).
		SetXattr("user.a", []byte("x")).SetOmap(map[string][]byte{"k": []byte("v")})); err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	cases := []struct {
		what string
		op   *client.WriteOp
		oid  string
		want error
	}{
		{"write ending past 128 MiB", client.NewWriteOp().Write([]byte("xy"), 128*mib-1), name, client.ErrTooBig},
		{"write at offset 128 MiB", client.NewWriteOp().Write([]byte("x"), 128*mib), name, client.ErrTooBig},
		{"write at offset 2^63", client.NewWriteOp().Write([]byte("x"), 1<<63), name, client.ErrTooBig},
		{"truncate past 128 MiB", client.NewWriteOp().Truncate(128*mib + 1), name, client.ErrTooBig},
		{"write_full of 91 MiB", client.NewWriteOp().WriteFull(make([]byte, 91*mib)), name, client.ErrTooBig},
		{"xattr value over 64 KiB", client.NewWriteOp().SetXattr("user.big", make([]byte, 64<<10+1)), name, client.ErrTooBig},
		{"xattr name over 100 bytes", client.NewWriteOp().SetXattr(strings.Repeat("n", 101), []byte("x")), name, client.ErrTooBig},
		{"omap value over 1 MiB", client.NewWriteOp().SetOmap(map[string][]byte{"big": make([]byte, mib+1)}), name, client.ErrTooBig},
		{"omap key over 4 KiB", client.NewWriteOp().SetOmap(map[string][]byte{strings.Repeat("k", 4097): nil}), name, client.ErrTooBig},
		{"2,049-byte name", client.NewWriteOp().WriteFull([]byte("x")), strings.Repeat("n", 2049), client.ErrTooBig},
		{"valid step then an invalid one", client.NewWriteOp().WriteFull([]byte("changed")).SetXattr("", []byte("x")), name, client.ErrInvalid},
		{"exclusive create of an existing object", client.NewWriteOp().Append([]byte("more")).Create(true), name, client.ErrExists},
	}
	for _, tc := range cases {
		err := io.Operate(ctx, tc.oid, tc.op)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, err, tc.want)
			continue
		}
		t.Logf("%s: %v", tc.what, err)
		checkUnchanged(t, io, name)
	}
	if err := io.WriteFull(ctx, strings.Repeat("n", 2048), []byte("x")); err != nil {
		t.Errorf("a 2,048-byte name is within the limit: %v", err)
	}
	if _, err := io.Stat(ctx, strings.Repeat("n", 2049)); !errors.Is(err, client.ErrTooBig) {
		t.Errorf("stat of a 2,049-byte name: %v", err)
	}

	if _, err := conn.OpenPool(ctx, "no-such-pool"); !errors.Is(err, client.ErrPoolNotFound) {
		t.Errorf("open an unknown pool: %v", err)
	}
	if _, err := c.Connect(ctx, client.Config{FSID: "00000000-0000-0000-0000-000000000001"}); !errors.Is(err, client.ErrWrongCluster) {
		t.Errorf("connect expecting another cluster: %v", err)
	}
}

// checkUnchanged checks that the object still holds what TestBadInput
// wrote first.
func checkUnchanged(t *testing.T, io *client.IOContext, name string) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	r := client.NewReadOp()
	data, xs, om := r.Read(0, 0), r.GetXattrs(), r.GetOmapValues("", "", 0)
	if err := io.OperateRead(ctx, name, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data.Data, []byte("keep me")) || len(xs.Xattrs) != 1 || string(xs.Xattrs["user.a"]) != "x" ||
		len(om.Entries) != 1 || string(om.Entries[0].Value) != "v" {
		t.Fatalf("a refused op changed the object: data %q xattrs %q omap %v", data.Data, xs.Xattrs, om.Entries)
	}
}

// TestDeletedPool: ops on a pool deleted after it was opened fail with
// ErrPoolNotFound.
func TestDeletedPool(t *testing.T) {
	c := sharedCluster(t)
	conn := connect(t, c, client.Config{})
	ctx := testCtx(t, 2*time.Minute)
	mc, err := c.MonClient()
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	size := uint32(3)
	if _, err := mc.PoolCreate(ctx, monclient.PoolCreateOpts{Name: "doomed", PGNum: 8, Size: &size}); err != nil {
		t.Fatal(err)
	}
	io, err := conn.OpenPool(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if err := io.WriteFull(ctx, "x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	res, err := mc.PoolRm(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	// Until the client holds the epoch that removed the pool, a write may
	// still reach an OSD that has not seen it either (as in Ceph); wait.
	for conn.Stats().MapEpoch < uint32(res.Epoch) {
		if ctx.Err() != nil {
			t.Fatalf("the client never got epoch %d", res.Epoch)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := io.WriteFull(ctx, "x", []byte("y")); !errors.Is(err, client.ErrPoolNotFound) {
		t.Fatalf("write to a deleted pool: %v", err)
	}
	for _, err := range io.ListObjects(ctx) {
		if !errors.Is(err, client.ErrPoolNotFound) {
			t.Fatalf("list a deleted pool: %v", err)
		}
	}
}
