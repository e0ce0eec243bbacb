package objop

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/proto/pb"
)

func wr(off uint64, s string) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Write{Write: &pb.WriteOp{Offset: off, Data: []byte(s)}}}
}
func full(s string) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: []byte(s)}}}
}
func app(s string) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Append{Append: &pb.AppendOp{Data: []byte(s)}}}
}
func trunc(n uint64) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Truncate{Truncate: &pb.TruncateOp{Size: n}}}
}
func rm() *pb.SubOp { return &pb.SubOp{Op: &pb.SubOp_Remove{Remove: &pb.RemoveOp{}}} }
func create(excl bool) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Create{Create: &pb.CreateOp{Exclusive: excl}}}
}
func setx(n, v string) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_SetXattr{SetXattr: &pb.SetXattrOp{Name: []byte(n), Value: []byte(v)}}}
}
func rmx(n string) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_RmXattr{RmXattr: &pb.RmXattrOp{Name: []byte(n)}}}
}
func oset(kv ...string) *pb.SubOp {
	var es []*pb.OmapEntry
	for i := 0; i+1 < len(kv); i += 2 {
		es = append(es, &pb.OmapEntry{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return &pb.SubOp{Op: &pb.SubOp_OmapSetVals{OmapSetVals: &pb.OmapSetValsOp{Entries: es}}}
}
func rd(off, n uint64) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Read{Read: &pb.ReadOp{Offset: off, Length: n}}}
}
func stat() *pb.SubOp { return &pb.SubOp{Op: &pb.SubOp_Stat{Stat: &pb.StatOp{}}} }
func getx(n string) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_GetXattr{GetXattr: &pb.GetXattrOp{Name: []byte(n)}}}
}

var loc = &pb.ObjectLocator{Name: []byte("obj")}

// write runs a write op through Validate and PlanWrite and applies the plan
// to m; it returns the op's failure result (OK on success).
func doWrite(t *testing.T, m *memObject, lim Limits, ops ...*pb.SubOp) (pb.Result, *Plan) {
	t.Helper()
	kind, f := Validate(loc, ops, lim)
	if f != nil {
		return f.Result, nil
	}
	if kind != KindWrite {
		t.Fatalf("kind %d, want write", kind)
	}
	p, f := PlanWrite(m, ops, lim, 42)
	if f != nil {
		if p == nil || p.Txn != nil {
			t.Fatalf("failed plan must carry results and no transaction: %+v", p)
		}
		return f.Result, p
	}
	m.applyTxn(p.Txn)
	return pb.Result_RESULT_OK, p
}

func TestWriteSemantics(t *testing.T) {
	lim := DefaultLimits()
	m := newMem()
	steps := []struct {
		ops  []*pb.SubOp
		want pb.Result
		data string
	}{
		{[]*pb.SubOp{rm()}, pb.Result_RESULT_NOT_FOUND, ""},
		{[]*pb.SubOp{wr(2, "ab")}, pb.Result_RESULT_OK, "\x00\x00ab"},
		{[]*pb.SubOp{app("cd"), app("e")}, pb.Result_RESULT_OK, "\x00\x00abcde"},
		{[]*pb.SubOp{full("xyz")}, pb.Result_RESULT_OK, "xyz"},
		{[]*pb.SubOp{trunc(5)}, pb.Result_RESULT_OK, "xyz\x00\x00"},
		{[]*pb.SubOp{trunc(1), app("Q")}, pb.Result_RESULT_OK, "xQ"},
		{[]*pb.SubOp{create(true)}, pb.Result_RESULT_EXISTS, "xQ"},
		{[]*pb.SubOp{create(false)}, pb.Result_RESULT_OK, "xQ"},
		// Atomicity: the append is not applied because the exclusive create fails.
		{[]*pb.SubOp{app("zz"), create(true)}, pb.Result_RESULT_EXISTS, "xQ"},
		{[]*pb.SubOp{rm(), create(true), app("new")}, pb.Result_RESULT_OK, "new"},
	}
	for i, s := range steps {
		got, _ := doWrite(t, m, lim, s.ops...)
		if got != s.want || string(m.data) != s.data {
			t.Fatalf("step %d: result %s data %q, want %s %q", i, got, m.data, s.want, s.data)
		}
	}
}

func TestXattrAndOmapWrites(t *testing.T) {
	lim := DefaultLimits()
	m := newMem()
	if r, _ := doWrite(t, m, lim, rmx("a")); r != pb.Result_RESULT_NOT_FOUND {
		t.Fatalf("rmxattr on missing object: %s", r)
	}
	if r, _ := doWrite(t, m, lim, setx("a", "1"), oset("k1", "v1", "k2", "v2")); r != pb.Result_RESULT_OK {
		t.Fatalf("setxattr+omap: %s", r)
	}
	if !m.exists || string(m.xattrs["a"]) != "1" || len(m.omap) != 2 {
		t.Fatalf("state after set: %+v", m)
	}
	if r, _ := doWrite(t, m, lim, rmx("b")); r != pb.Result_RESULT_NO_DATA {
		t.Fatalf("rmxattr absent: %s", r)
	}
	// Removing twice in one op fails on the second: the first is not applied.
	if r, _ := doWrite(t, m, lim, rmx("a"), rmx("a")); r != pb.Result_RESULT_NO_DATA || m.xattrs["a"] == nil {
		t.Fatalf("double rmxattr: %s, xattrs %v", r, m.xattrs)
	}
	// After remove in the same op, committed xattrs are gone.
	if r, _ := doWrite(t, m, lim, rm(), create(false), rmx("a")); r != pb.Result_RESULT_NO_DATA {
		t.Fatalf("rmxattr after remove: %s", r)
	}
	if r, p := doWrite(t, m, lim, rm()); r != pb.Result_RESULT_OK || p.LogOp != pg.OpDelete {
		t.Fatalf("remove: %s %+v", r, p)
	}
}

func TestLimits(t *testing.T) {
	lim := DefaultLimits()
	lim.ObjectSize, lim.WriteSize, lim.XattrValueLen, lim.OmapValueLen = 10, 8, 3, 3
	m := newMem()
	cases := []struct {
		name string
		ops  []*pb.SubOp
		want pb.Result
	}{
		{"end past object size", []*pb.SubOp{wr(8, "abc")}, pb.Result_RESULT_TOO_BIG},
		{"offset overflow", []*pb.SubOp{wr(^uint64(0), "a")}, pb.Result_RESULT_TOO_BIG},
		{"write size", []*pb.SubOp{wr(0, "12345"), wr(0, "1234")}, pb.Result_RESULT_TOO_BIG},
		{"truncate", []*pb.SubOp{trunc(11)}, pb.Result_RESULT_TOO_BIG},
		{"xattr value", []*pb.SubOp{setx("a", "1234")}, pb.Result_RESULT_TOO_BIG},
		{"xattr name", []*pb.SubOp{setx(strings.Repeat("n", 101), "1")}, pb.Result_RESULT_TOO_BIG},
		{"empty xattr name", []*pb.SubOp{setx("", "1")}, pb.Result_RESULT_INVALID_ARGUMENT},
		{"omap value", []*pb.SubOp{oset("k", "1234")}, pb.Result_RESULT_TOO_BIG},
		{"mixed", []*pb.SubOp{wr(0, "a"), rd(0, 1)}, pb.Result_RESULT_INVALID_ARGUMENT},
		{"empty sub-op", []*pb.SubOp{{}}, pb.Result_RESULT_INVALID_ARGUMENT},
		{"no ops", nil, pb.Result_RESULT_INVALID_ARGUMENT},
	}
	for _, c := range cases {
		if got, _ := doWrite(t, m, lim, c.ops...); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if m.exists {
			t.Fatalf("%s: a rejected op changed the object", c.name)
		}
	}
	for _, l := range []*pb.ObjectLocator{nil, {}, {Name: bytes.Repeat([]byte("x"), 2049)}, {Name: []byte("a"), Key: bytes.Repeat([]byte("k"), 2049)}, {Name: []byte("a"), Namespace: bytes.Repeat([]byte("n"), 257)}} {
		if _, f := Validate(l, []*pb.SubOp{stat()}, DefaultLimits()); f == nil {
			t.Errorf("locator %v accepted", l)
		}
	}
}

func TestReads(t *testing.T) {
	lim := DefaultLimits()
	m := newMem()
	if _, f := Execute(m, []*pb.SubOp{stat()}, lim); f == nil || f.Result != pb.Result_RESULT_NOT_FOUND {
		t.Fatalf("stat of missing object: %v", f)
	}
	doWrite(t, m, lim, full("hello world"), setx("a", "1"), oset("k1", "v1", "k2", "v2", "x1", "v3"))
	ops := []*pb.SubOp{rd(6, 0), rd(0, 5), rd(20, 4), stat(), getx("a"),
		{Op: &pb.SubOp_OmapGetVals{OmapGetVals: &pb.OmapGetValsOp{Prefix: []byte("k"), MaxReturn: 1}}},
		{Op: &pb.SubOp_OmapGetKeys{OmapGetKeys: &pb.OmapGetKeysOp{StartAfter: []byte("k1")}}}}
	if kind, f := Validate(loc, ops, lim); f != nil || kind != KindRead {
		t.Fatalf("validate reads: %v %v", kind, f)
	}
	res, f := Execute(m, ops, lim)
	if f != nil {
		t.Fatal(f)
	}
	if string(res[0].Data) != "world" || string(res[1].Data) != "hello" || len(res[2].Data) != 0 {
		t.Errorf("reads: %q %q %q", res[0].Data, res[1].Data, res[2].Data)
	}
	if res[3].Size != 11 || res[3].MtimeUnixNano != 42 || string(res[4].Data) != "1" {
		t.Errorf("stat/getxattr: %+v %+v", res[3], res[4])
	}
	if len(res[5].Entries) != 1 || string(res[5].Entries[0].Key) != "k1" || !res[5].More {
		t.Errorf("omap get vals: %+v", res[5])
	}
	if string(bytes.Join(res[6].Keys, []byte(","))) != "k2,x1" || res[6].More {
		t.Errorf("omap get keys: %+v", res[6])
	}
	res, f = Execute(m, []*pb.SubOp{getx("nope"), stat()}, lim)
	if f == nil || f.Result != pb.Result_RESULT_NO_DATA || res[1].Result != pb.Result_RESULT_NOT_EXECUTED {
		t.Errorf("missing xattr: %v %+v", f, res)
	}
}

// The resolved transaction replays to the same object on a second copy:
// replicas apply it without re-evaluating anything.
func TestTransactionReplaysOnReplica(t *testing.T) {
	lim := DefaultLimits()
	primary, replica := newMem(), newMem()
	for _, ops := range [][]*pb.SubOp{
		{wr(3, "abc"), setx("x", "1")},
		{app("def"), oset("a", "b")},
		{full("zz"), app("y"), trunc(10)},
		{rm(), app("fresh")},
	} {
		_, p := doWrite(t, primary, lim, ops...)
		replica.applyTxn(p.Txn)
		if !bytes.Equal(primary.data, replica.data) || len(primary.xattrs) != len(replica.xattrs) {
			t.Fatalf("replica diverged: %q vs %q", primary.data, replica.data)
		}
	}
}
