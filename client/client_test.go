package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorados/gorados/client/internal/fake"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/failpoint"
	"github.com/gorados/gorados/proto/pb"
)

// connectFake returns a client of the fake cluster with fast test timings.
func connectFake(t *testing.T, fc *fake.Cluster, cfg Config) *Conn {
	t.Helper()
	cfg.Monitors = []string{fc.MonAddr()}
	if cfg.MapWait == 0 {
		cfg.MapWait = 20 * time.Millisecond
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMin, cfg.BackoffMax = time.Millisecond, 20*time.Millisecond
	}
	c, err := Connect(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func openTestPool(t *testing.T, c *Conn) *IOContext {
	t.Helper()
	io, err := c.OpenPool(context.Background(), fake.Pool)
	if err != nil {
		t.Fatal(err)
	}
	return io
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDataRoundTrip(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	ctx := ctxT(t)
	must(t, io.WriteFull(ctx, "obj", []byte("hello world")))
	must(t, io.Write(ctx, "obj", []byte("HELLO"), 0))
	must(t, io.Append(ctx, "obj", []byte("!!")))
	got, err := io.Read(ctx, "obj", 0, 0)
	must(t, err)
	if string(got) != "HELLO world!!" {
		t.Fatalf("read %q", got)
	}
	got, err = io.Read(ctx, "obj", 6, 3)
	must(t, err)
	if string(got) != "wor" {
		t.Fatalf("read 6+3 %q", got)
	}
	must(t, io.Truncate(ctx, "obj", 5))
	st, err := io.Stat(ctx, "obj")
	must(t, err)
	if st.Size != 5 || st.ModTime.IsZero() {
		t.Fatalf("stat %+v", st)
	}
	got, err = io.Read(ctx, "obj", 10, 0)
	must(t, err)
	if got == nil || len(got) != 0 {
		t.Fatalf("read past the end: %q (nil %v), want empty", got, got == nil)
	}
	must(t, io.Remove(ctx, "obj"))
	_, err = io.Read(ctx, "obj", 0, 0)
	wantKind(t, err, ErrNotFound)
	wantKind(t, io.Remove(ctx, "obj"), ErrNotFound)
}

func TestCreateExclusive(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	ctx := ctxT(t)
	must(t, io.Create(ctx, "c", true))
	wantKind(t, io.Create(ctx, "c", true), ErrExists)
	must(t, io.Create(ctx, "c", false))
	st, err := io.Stat(ctx, "c")
	must(t, err)
	if st.Size != 0 {
		t.Fatalf("size %d", st.Size)
	}
}

func TestXattrsAndOmap(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	ctx := ctxT(t)
	must(t, io.SetXattr(ctx, "x", "user.a", []byte("1")))
	must(t, io.SetXattr(ctx, "x", "user.b", []byte{}))
	v, err := io.GetXattr(ctx, "x", "user.a")
	must(t, err)
	if string(v) != "1" {
		t.Fatalf("xattr %q", v)
	}
	_, err = io.GetXattr(ctx, "x", "user.none")
	wantKind(t, err, ErrNoData)
	xs, err := io.ListXattrs(ctx, "x")
	must(t, err)
	if len(xs) != 2 || string(xs["user.a"]) != "1" || xs["user.b"] == nil {
		t.Fatalf("xattrs %q", xs)
	}
	must(t, io.RmXattr(ctx, "x", "user.a"))
	wantKind(t, io.RmXattr(ctx, "x", "user.a"), ErrNoData)

	pairs := map[string][]byte{}
	for i := range 20 { // several fake pages
		pairs[fmt.Sprintf("k%02d", i)] = []byte(fmt.Sprint(i))
	}
	must(t, io.SetOmap(ctx, "x", pairs))
	keys, err := io.ListOmapKeys(ctx, "x")
	must(t, err)
	if !slices.Equal(keys, sortedKeys(pairs)) {
		t.Fatalf("omap keys %q", keys)
	}
	all, err := io.GetAllOmapValues(ctx, "x", "k1")
	must(t, err)
	if len(all) != 10 || all[0].Key != "k10" || string(all[9].Value) != "19" {
		t.Fatalf("omap k1* = %v", all)
	}
	byKey, err := io.GetOmapValuesByKeys(ctx, "x", "k03", "nope")
	must(t, err)
	if len(byKey) != 1 || string(byKey["k03"]) != "3" {
		t.Fatalf("by keys %q", byKey)
	}
	must(t, io.RmOmapKeys(ctx, "x", "k00", "k01", "absent"))
	page, more, err := io.GetOmapValues(ctx, "x", "", "", 2)
	must(t, err)
	if len(page) != 2 || page[0].Key != "k02" || !more {
		t.Fatalf("page %v more %v", page, more)
	}
	must(t, io.ClearOmap(ctx, "x"))
	keys, err = io.ListOmapKeys(ctx, "x")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("keys after clear %q", keys)
	}
}

func TestCompoundOps(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	ctx := ctxT(t)
	w := NewWriteOp().Create(true).WriteFull([]byte("abc")).SetXattr("user.v", []byte("1")).
		SetOmap(map[string][]byte{"a": []byte("A")}).SetOmapHeader([]byte("hdr"))
	must(t, io.Operate(ctx, "cmp", w))

	// A failing step (rmxattr of an absent attribute) leaves nothing applied.
	bad := NewWriteOp().Append([]byte("def")).RmXattr("user.none").SetXattr("user.v", []byte("2"))
	err := io.Operate(ctx, "cmp", bad)
	wantKind(t, err, ErrNoData)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Step != 1 || oe.Object != "cmp" || oe.Pool != fake.Pool {
		t.Fatalf("error %#v, want step 1 of cmp in %s", err, fake.Pool)
	}

	r := NewReadOp()
	data, st, x, om, hdr := r.Read(0, 0), r.Stat(), r.GetXattr("user.v"), r.GetOmapValues("", "", 0), r.GetOmapHeader()
	must(t, io.OperateRead(ctx, "cmp", r))
	if string(data.Data) != "abc" || st.Size != 3 || string(x.Value) != "1" || len(om.Entries) != 1 || string(hdr.Header) != "hdr" {
		t.Fatalf("read op: data %q size %d xattr %q omap %v header %q", data.Data, st.Size, x.Value, om.Entries, hdr.Header)
	}
	wantKind(t, io.Operate(ctx, "cmp", NewWriteOp()), ErrInvalid)
	wantKind(t, io.OperateRead(ctx, "cmp", NewReadOp()), ErrInvalid)
}

func TestBadTargetsRefusedLocally(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	ctx := ctxT(t)
	wantKind(t, io.WriteFull(ctx, "", []byte("x")), ErrInvalid)
	io.SetNamespace(AllNamespaces)
	wantKind(t, io.WriteFull(ctx, "x", []byte("x")), ErrInvalid)
	if n := len(fc.Requests()); n != 0 {
		t.Fatalf("%d requests sent for refused ops", n)
	}
}

// TestStaleMapRedirect: a client whose subscription missed a map change
// sends to the old primary, is told NOT_PRIMARY with the OSD's epoch,
// fetches that map from the monitors and resends the same reqid to the new
// primary.
func TestStaleMapRedirect(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	ctx := ctxT(t)
	old := fc.PrimaryOf("moved")
	// Hold the subscription: the client learns of epoch 2 only from the OSD.
	defer failpoint.EnableFunc(FailpointMapUpdate, func() error { return failpoint.ErrInjected })()
	fc.Edit(false, func(m *cluster.OSDMap) { m.OSDs[old].PrimaryAffinity = 0 })
	if now := fc.PrimaryOf("moved"); now == old {
		t.Fatalf("affinity 0 did not move the primary away from osd.%d", old)
	}
	must(t, io.WriteFull(ctx, "moved", []byte("v")))
	reqs := fc.Requests()
	if len(reqs) != 2 || reqs[0].OSD != old || reqs[1].OSD == old || reqs[0].ReqID != reqs[1].ReqID ||
		reqs[0].Epoch != 1 || reqs[1].Epoch != 2 {
		t.Fatalf("requests %+v: want one to osd.%d at epoch 1, then the same reqid elsewhere at epoch 2", reqs, old)
	}
	if s := c.Stats(); s.Redirects != 1 || s.MapEpoch != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestResendAppliedOnce: the reply of an append is lost; the client resends
// the same reqid and the OSD answers from its record without appending
// again.
func TestResendAppliedOnce(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	ctx := ctxT(t)
	must(t, io.WriteFull(ctx, "log", []byte("a")))
	dropped := 0
	defer failpoint.EnableFunc(FailpointDropReply, func() error {
		if dropped == 0 {
			dropped++
			return failpoint.ErrInjected
		}
		return nil
	})()
	must(t, io.Append(ctx, "log", []byte("b")))
	got, err := io.Read(ctx, "log", 0, 0)
	must(t, err)
	if string(got) != "ab" {
		t.Fatalf("after a resent append: %q, want %q", got, "ab")
	}
	if s := c.Stats(); s.Duplicates != 1 || s.TransportErrors != 1 {
		t.Fatalf("stats %+v, want 1 duplicate after 1 dropped reply", s)
	}
}

func TestAgainThenSuccess(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	p := fc.PrimaryOf("busy")
	var mu sync.Mutex
	agains := 3
	fc.OSDs[p].SetHook(func(ctx context.Context, req *pb.OpRequest) *pb.OpReply {
		mu.Lock()
		defer mu.Unlock()
		if agains > 0 {
			agains--
			return &pb.OpReply{Result: pb.Result_RESULT_AGAIN, OsdEpoch: 1, Message: "peering"}
		}
		return nil
	})
	must(t, io.WriteFull(ctxT(t), "busy", []byte("x")))
	if s := c.Stats(); s.Agains != 3 || s.Attempts != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// TestOSDRestart: the primary's listener is down (connection refused);
// the client keeps resending until it is back on the same address.
func TestOSDRestart(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	ctx := ctxT(t)
	must(t, io.WriteFull(ctx, "r", []byte("1"))) // connection established
	o := fc.OSDs[fc.PrimaryOf("r")]
	o.Stop()
	errc := make(chan error, 1)
	go func() { errc <- io.WriteFull(ctx, "r", []byte("2")) }()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().TransportErrors < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	o.Start(t, o.Addr())
	must(t, <-errc)
	got, err := io.Read(ctx, "r", 0, 0)
	must(t, err)
	if string(got) != "2" {
		t.Fatalf("read %q", got)
	}
	if s := c.Stats(); s.TransportErrors < 2 {
		t.Fatalf("stats %+v: want transport errors while the OSD was down", s)
	}
}

func TestTimeout(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	for _, o := range fc.OSDs {
		o.SetHook(func(ctx context.Context, req *pb.OpRequest) *pb.OpReply {
			return &pb.OpReply{Result: pb.Result_RESULT_AGAIN, OsdEpoch: 1, Message: "peering forever"}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := io.WriteFull(ctx, "t", []byte("x"))
	wantKind(t, err, ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not wrap context.DeadlineExceeded", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("peering forever")) {
		t.Fatalf("timeout error %q does not tell the last problem", err)
	}

	c2 := connectFake(t, fc, Config{OpTimeout: 50 * time.Millisecond})
	io2 := openTestPool(t, c2)
	wantKind(t, io2.WriteFull(context.Background(), "t", []byte("x")), ErrTimeout)

	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	err = io.WriteFull(cctx, "t", []byte("x"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("canceled op: %v", err)
	}
}

// TestRetargetInFlight: an op stuck on an OSD that no longer is the
// primary is abandoned when the map that says so arrives, and resent to
// the new primary long before the attempt timeout.
func TestRetargetInFlight(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{AttemptTimeout: time.Minute})
	io := openTestPool(t, c)
	old := fc.PrimaryOf("stuck")
	entered := make(chan struct{}, 1)
	fc.OSDs[old].SetHook(func(ctx context.Context, req *pb.OpRequest) *pb.OpReply {
		entered <- struct{}{}
		<-ctx.Done()
		return &pb.OpReply{Result: pb.Result_RESULT_AGAIN}
	})
	errc := make(chan error, 1)
	go func() { errc <- io.WriteFull(ctxT(t), "stuck", []byte("x")) }()
	<-entered
	fc.Edit(true, func(m *cluster.OSDMap) { m.OSDs[old].Up = false })
	select {
	case err := <-errc:
		must(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the op was not resent to the new primary after the map change")
	}
	if s := c.Stats(); s.Retargets != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPoolNotFound(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	_, err := c.OpenPool(ctxT(t), "nope")
	if !errors.Is(err, ErrPoolNotFound) {
		t.Fatalf("open missing pool: %v", err)
	}
	io := openTestPool(t, c)
	fc.Edit(true, func(m *cluster.OSDMap) { delete(m.Pools, 1) })
	wantKind(t, io.WriteFull(ctxT(t), "x", []byte("x")), ErrPoolNotFound)
	for _, err := range io.ListObjects(ctxT(t)) {
		wantKind(t, err, ErrPoolNotFound)
	}
}

// TestPoolDeletedClientStale: the OSD knows the pool is gone before the
// client does; the client checks with the monitors and reports it.
func TestPoolDeletedClientStale(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	defer failpoint.EnableFunc(FailpointMapUpdate, func() error { return failpoint.ErrInjected })()
	fc.Edit(false, func(m *cluster.OSDMap) { delete(m.Pools, 1) })
	wantKind(t, io.WriteFull(ctxT(t), "x", []byte("x")), ErrPoolNotFound)
}

func TestWrongCluster(t *testing.T) {
	fc := fake.New(t, 4)
	_, err := Connect(ctxT(t), Config{Monitors: []string{fc.MonAddr()}, FSID: "00000000-0000-0000-0000-000000000000"})
	if !errors.Is(err, ErrWrongCluster) {
		t.Fatalf("connect with another fsid: %v", err)
	}
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	c.fsid = "another"
	wantKind(t, io.WriteFull(ctxT(t), "x", []byte("x")), ErrWrongCluster)
}

func TestListObjects(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	ctx := ctxT(t)
	want := map[string]bool{}
	for i := range 60 {
		ns := []string{"", "", "ns1"}[i%3]
		io.SetNamespace(ns)
		name := fmt.Sprintf("o%03d", i)
		must(t, io.WriteFull(ctx, name, nil))
		want[ns+"/"+name] = true
	}
	count := func(ns string) map[string]bool {
		io.SetNamespace(ns)
		got := map[string]bool{}
		for e, err := range io.ListObjects(ctx) {
			must(t, err)
			k := e.Namespace + "/" + e.Name
			if got[k] {
				t.Fatalf("%s listed twice", k)
			}
			got[k] = true
		}
		return got
	}
	if got := count(""); len(got) != 40 {
		t.Fatalf("default namespace: %d objects, want 40", len(got))
	}
	if got := count("ns1"); len(got) != 20 {
		t.Fatalf("ns1: %d objects", len(got))
	}
	all := count(AllNamespaces)
	for k := range want {
		if !all[k] {
			t.Fatalf("%s missing from the listing of all namespaces", k)
		}
	}
	if len(all) != len(want) {
		t.Fatalf("all namespaces: %d objects, want %d", len(all), len(want))
	}
	// Stopping early is allowed.
	n := 0
	for range io.ListObjects(ctx) {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("break after %d", n)
	}
}

func TestLocatorKeyAndNamespacePlacement(t *testing.T) {
	fc := fake.New(t, 4)
	io := openTestPool(t, connectFake(t, fc, Config{}))
	ctx := ctxT(t)
	io.SetNamespace("tenant")
	io.SetLocatorKey("shared")
	for i := range 10 {
		must(t, io.WriteFull(ctx, fmt.Sprintf("part%d", i), []byte("x")))
	}
	want, err := fc.Map().ObjectToPG(1, "ignored", "tenant", "shared")
	must(t, err)
	for _, r := range fc.Requests() {
		if r.Seed != want.Seed {
			t.Fatalf("request to PG seed %x, want every object of key %q in %s", r.Seed, "shared", want)
		}
	}
	got, err := io.Read(ctx, "part3", 0, 0)
	must(t, err)
	if string(got) != "x" {
		t.Fatal("read back through the locator key failed")
	}
	io.SetLocatorKey("")
	_, err = io.Read(ctx, "part3", 0, 0)
	wantKind(t, err, ErrNotFound) // another object: same name, no key
}

func TestConcurrentUse(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				name := fmt.Sprintf("g%d-%d", g, i)
				data := bytes.Repeat([]byte{byte(g)}, i)
				if err := io.WriteFull(ctx, name, data); err != nil {
					errs <- err
					return
				}
				got, err := io.Read(ctx, name, 0, 0)
				if err != nil || !bytes.Equal(got, data) {
					errs <- fmt.Errorf("%s: %q %v", name, got, err)
					return
				}
			}
		})
	}
	// Map changes while the ops run: the ops follow the primaries.
	for _, osd := range []int32{0, 1} {
		fc.Edit(true, func(m *cluster.OSDMap) { m.OSDs[osd].PrimaryAffinity = 0 })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Ops != 16*20*2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestClosed(t *testing.T) {
	fc := fake.New(t, 4)
	c := connectFake(t, fc, Config{})
	io := openTestPool(t, c)
	c.Close()
	wantKind(t, io.WriteFull(ctxT(t), "x", nil), ErrClosed)
}

func TestConfigDefaults(t *testing.T) {
	if _, err := (Config{}).withDefaults(); !errors.Is(err, ErrNoMonitors) {
		t.Fatalf("no monitors: %v", err)
	}
	if _, err := (Config{Monitors: []string{"a:1"}, AttemptTimeout: -1}).withDefaults(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative timeout: %v", err)
	}
	if _, err := (Config{Monitors: []string{"a:1"}, BackoffMin: time.Second, BackoffMax: time.Millisecond}).withDefaults(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("max < min: %v", err)
	}
	cfg, err := (Config{Monitors: []string{"a:1"}}).withDefaults()
	must(t, err)
	if cfg.AttemptTimeout != DefaultAttemptTimeout || cfg.Logger == nil {
		t.Fatalf("defaults %+v", cfg)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
	var oe *OpError
	if !errors.As(err, &oe) {
		t.Fatalf("error %T is not an *OpError", err)
	}
}
