package osd

import (
	"strings"
	"testing"

	"github.com/gorados/gorados/proto/pb"
)

// TestFullMemberRefusesWrites: while a member of the object's PG is at or
// above the full ratio, writes that add data are refused with NO_SPACE
// and change nothing; a remove still works; below the ratio writes go
// through again.
func TestFullMemberRefusesWrites(t *testing.T) {
	c := newTestCluster(t, 3, 4)
	c.waitActive()
	mustOK(t, "write", c.do(c.request("f", wfull([]byte("before")))))
	mustOK(t, "write", c.do(c.request("g", wfull([]byte("other")))))
	_, acting := c.locate("f")
	primary := c.osds[acting[0]].o
	primary.full.set(acting[2], 0.97) // as its pings would report
	r := c.do(c.request("f", wfull([]byte("after"))))
	if r.GetResult() != pb.Result_RESULT_NO_SPACE || !strings.Contains(r.GetMessage(), "is full") {
		t.Fatalf("write with a full replica: %s %q", r.GetResult(), r.GetMessage())
	}
	if got := c.do(c.request("f", readOp())); string(got.GetResults()[0].GetData()) != "before" {
		t.Fatalf("the refused write changed the object: %q", got.GetResults()[0].GetData())
	}
	_, gActing := c.locate("g")
	c.osds[gActing[0]].o.full.set(gActing[0], 0.99)
	mustOK(t, "remove on a full OSD", c.do(c.request("g", &pb.SubOp{Op: &pb.SubOp_Remove{Remove: &pb.RemoveOp{}}})))
	primary.full.set(acting[2], 0.5)
	c.osds[gActing[0]].o.full.set(gActing[0], 0.5)
	primary.full.set(gActing[0], 0.5) // in case that OSD is also in f's PG
	mustOK(t, "write below the full ratio", c.do(c.request("f", wfull([]byte("after")))))
}
