package osd

import (
	"bytes"
	"context"
	"fmt"
	"github.com/gorados/gorados/proto/pb"
	"strings"
	"testing"
)

func wfull(data []byte) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_WriteFull{WriteFull: &pb.WriteFullOp{Data: data}}}
}
func appendOp(data []byte) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Append{Append: &pb.AppendOp{Data: data}}}
}
func removeOp() *pb.SubOp { return &pb.SubOp{Op: &pb.SubOp_Remove{Remove: &pb.RemoveOp{}}} }
func readOp() *pb.SubOp   { return &pb.SubOp{Op: &pb.SubOp_Read{Read: &pb.ReadOp{}}} }
func statOp() *pb.SubOp   { return &pb.SubOp{Op: &pb.SubOp_Stat{Stat: &pb.StatOp{}}} }
func createOp(excl bool) *pb.SubOp {
	return &pb.SubOp{Op: &pb.SubOp_Create{Create: &pb.CreateOp{Exclusive: excl}}}
}

func mustOK(t testing.TB, what string, r *pb.OpReply) *pb.OpReply {
	t.Helper()
	if r.GetResult() != pb.Result_RESULT_OK {
		t.Fatalf("%s: %s: %s", what, r.GetResult(), r.GetMessage())
	}
	return r
}

// storedData reads an object straight from an OSD's store.
func (c *testCluster) storedData(osd int32, name string) ([]byte, error) {
	id, _ := c.locate(name)
	obj := storeObject(c.m.Pools[1], &pb.ObjectLocator{Name: []byte(name)})
	st := c.osds[osd].st
	oi, err := st.Stat(context.Background(), collOf(id), obj)
	if err != nil {
		return nil, err
	}
	return st.Read(context.Background(), collOf(id), obj, 0, oi.Size)
}

// Writes are acknowledged once every acting member has them, and then
// every member of the acting set holds identical bytes; OSDs outside the
// acting set hold nothing.
func TestReplicatedWriteLandsOnActingSet(t *testing.T) {
	c := newTestCluster(t, 4, 8)
	c.waitActive()
	for i := range 20 {
		name := fmt.Sprintf("obj-%d", i)
		data := bytes.Repeat([]byte{byte(i)}, 1000*i+1)
		r := mustOK(t, "write "+name, c.do(c.request(name, wfull(data))))
		if r.GetVersion().GetVersion() == 0 {
			t.Fatalf("write %s: no version in the reply", name)
		}
		_, acting := c.locate(name)
		for osd := range int32(4) {
			got, err := c.storedData(osd, name)
			if contains(acting, osd) {
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s on acting osd.%d: err %v, %d bytes, want %d", name, osd, err, len(got), len(data))
				}
			} else if err == nil {
				t.Fatalf("%s is on osd.%d outside the acting set %v", name, osd, acting)
			}
		}
		back := mustOK(t, "read "+name, c.do(c.request(name, readOp())))
		if !bytes.Equal(back.GetResults()[0].GetData(), data) {
			t.Fatalf("read %s: %d bytes back, want %d", name, len(back.GetResults()[0].GetData()), len(data))
		}
	}
}

// A resent append (same reqid) is answered from the PG log and applied
// once.
func TestResentAppendAppliedOnce(t *testing.T) {
	c := newTestCluster(t, 3, 4)
	c.waitActive()
	req := c.request("log", appendOp([]byte("abc")))
	first := mustOK(t, "append", c.do(req))
	again := mustOK(t, "resend", c.do(req))
	if !again.GetDuplicate() || again.GetVersion().GetVersion() != first.GetVersion().GetVersion() {
		t.Fatalf("resend: duplicate=%v version %v, want the original %v", again.GetDuplicate(), again.GetVersion(), first.GetVersion())
	}
	st := mustOK(t, "stat", c.do(c.request("log", statOp())))
	if st.GetResults()[0].GetSize() != 3 {
		t.Fatalf("size %d after a resent append, want 3", st.GetResults()[0].GetSize())
	}
}

// A client that sends to an OSD that is not the primary is told so, with
// the OSD's epoch; a client whose map is older than the PG's primary change
// is told to refresh.
func TestWrongTargetAndStaleEpoch(t *testing.T) {
	c := newTestCluster(t, 4, 4)
	c.waitActive()
	_, acting := c.locate("x")
	var other int32
	for other = range 4 {
		if other != acting[0] {
			break
		}
	}
	r := c.send(other, c.request("x", wfull([]byte("1"))))
	if r.GetResult() != pb.Result_RESULT_NOT_PRIMARY || r.GetOsdEpoch() != uint64(c.m.Epoch) {
		t.Fatalf("write to non-primary osd.%d: %s epoch %d", other, r.GetResult(), r.GetOsdEpoch())
	}
	// Mark the primary down: the PG gets a new primary in a new interval.
	m := c.nextMap()
	m.OSDs[acting[0]].Up = false
	stale := c.request("x", wfull([]byte("2")))
	c.setMap(m)
	c.waitActive()
	_, acting2 := c.locate("x")
	r = c.send(acting2[0], stale)
	if r.GetResult() != pb.Result_RESULT_STALE_EPOCH {
		t.Fatalf("old-epoch write to the new primary: %s (%s)", r.GetResult(), r.GetMessage())
	}
	stale.Epoch = uint64(c.m.Epoch)
	mustOK(t, "write after refresh", c.do(stale))
}

// Requests of another cluster and malformed or oversized requests are
// refused with a typed result and change nothing.
func TestBadRequests(t *testing.T) {
	c := newTestCluster(t, 3, 4)
	c.waitActive()
	req := c.request("y", wfull([]byte("data")))
	req.Fsid = "00000000-0000-0000-0000-000000000009"
	if r := c.do(req); r.GetResult() != pb.Result_RESULT_WRONG_CLUSTER {
		t.Fatalf("other fsid: %s", r.GetResult())
	}
	cases := []struct {
		req  *pb.OpRequest
		want pb.Result
	}{
		{c.request("y", &pb.SubOp{Op: &pb.SubOp_Write{Write: &pb.WriteOp{Offset: 128 << 20, Data: []byte("x")}}}), pb.Result_RESULT_TOO_BIG},
		{c.request(strings.Repeat("n", 2049), statOp()), pb.Result_RESULT_TOO_BIG},
		{c.request("y", wfull([]byte("a")), readOp()), pb.Result_RESULT_INVALID_ARGUMENT},
		{c.request("y", appendOp([]byte("a")), createOp(true), createOp(true)), pb.Result_RESULT_EXISTS},
	}
	for i, cs := range cases {
		if r := c.do(cs.req); r.GetResult() != cs.want {
			t.Errorf("case %d: %s (%s), want %s", i, r.GetResult(), r.GetMessage(), cs.want)
		}
	}
	noPool := c.request("y", statOp())
	noPool.Pool = 9
	if r := c.send(0, noPool); r.GetResult() != pb.Result_RESULT_NO_SUCH_POOL {
		t.Errorf("unknown pool: %s", r.GetResult())
	}
	if r := c.do(c.request("y", statOp())); r.GetResult() != pb.Result_RESULT_NOT_FOUND {
		t.Fatalf("rejected ops created the object: stat says %s", r.GetResult())
	}
	_, acting := c.locate("y")
	for _, osd := range acting {
		if _, err := c.storedData(osd, "y"); err == nil {
			t.Fatalf("osd.%d stores y after rejected ops", osd)
		}
	}
}
