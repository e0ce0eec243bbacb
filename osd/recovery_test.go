package osd

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gorados/gorados/osd/pg"
)

// An OSD that was down while writes happened is brought up to date by
// log-based recovery when it returns: every acting member then holds the
// same bytes, including for objects removed and rewritten meanwhile.
func TestReturningOSDIsRecovered(t *testing.T) {
	c := newTestCluster(t, 3, 4)
	c.waitActive()
	for i := range 8 {
		mustOK(t, "write", c.do(c.request(fmt.Sprintf("o%d", i), wfull([]byte("before")))))
	}
	// osd.2 stops and is marked down: the PGs go on with two members.
	down := c.osds[2]
	down.stop()
	m := c.nextMap()
	m.OSDs[2].Up = false
	c.setMap(m)
	c.waitActive()
	want := map[string][]byte{}
	for i := range 8 {
		name := fmt.Sprintf("o%d", i)
		data := bytes.Repeat([]byte{byte('a' + i)}, 5000*(i+1))
		mustOK(t, "write while osd.2 is down", c.do(c.request(name, wfull(data))))
		want[name] = data
	}
	mustOK(t, "remove", c.do(c.request("o0", removeOp())))
	delete(want, "o0")
	// osd.2 restarts from its data directory and boots (new up_from).
	c.osds[2] = c.startOSD(2, down.dir, false)
	m = c.nextMap()
	m.OSDs[2].Up, m.OSDs[2].UpFrom = true, m.Epoch
	m.OSDs[2].PublicAddr, m.OSDs[2].ClusterAddr = c.osds[2].pub, c.osds[2].clu
	c.setMap(m)
	c.waitActive()
	for name, data := range want {
		_, acting := c.locate(name)
		for _, osd := range acting {
			got, err := c.storedData(osd, name)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s on osd.%d after recovery: err %v, %d bytes, want %d", name, osd, err, len(got), len(data))
			}
		}
	}
	if _, err := c.storedData(2, "o0"); err == nil {
		t.Fatal("o0 was removed while osd.2 was down but osd.2 still has it")
	}
	for _, to := range c.osds {
		for _, h := range to.o.handles() {
			if s := pg.State(h.state.Load()); s == pg.StateRecovering || s == pg.StateWaiting {
				t.Fatalf("osd.%d PG %s still %s", to.id, h.id, s)
			}
		}
	}
}
