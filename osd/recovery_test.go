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

// An OSD that returns after its peers trimmed past its log head is
// backfilled: it ends with exactly the primary's objects (new ones copied,
// removed ones deleted) and the primary's log.
func TestReturningOSDIsBackfilled(t *testing.T) {
	c := newTestClusterWith(t, 3, 2, pg.LogLimits{MinEntries: 2, MaxEntries: 4, DupsTracked: 10, TrimMin: 1})
	c.waitActive()
	for i := range 6 {
		mustOK(t, "write", c.do(c.request(fmt.Sprintf("b%d", i), wfull([]byte("old")))))
	}
	down := c.osds[1]
	down.stop()
	m := c.nextMap()
	m.OSDs[1].Up = false
	c.setMap(m)
	c.waitActive()
	want := map[string][]byte{}
	for i := range 6 {
		name := fmt.Sprintf("b%d", i)
		if i%2 == 0 {
			mustOK(t, "remove", c.do(c.request(name, removeOp())))
			continue
		}
		want[name] = []byte(fmt.Sprintf("new-%d", i))
		mustOK(t, "rewrite", c.do(c.request(name, wfull(want[name]))))
	}
	for i := range 10 {
		name := fmt.Sprintf("n%d", i)
		want[name] = bytes.Repeat([]byte{byte(i)}, 3000)
		mustOK(t, "write", c.do(c.request(name, wfull(want[name]))))
	}
	c.osds[1] = c.startOSD(1, down.dir, false)
	m = c.nextMap()
	m.OSDs[1].Up, m.OSDs[1].UpFrom = true, m.Epoch
	m.OSDs[1].PublicAddr, m.OSDs[1].ClusterAddr = c.osds[1].pub, c.osds[1].clu
	c.setMap(m)
	c.waitActive()
	for name, data := range want {
		got, err := c.storedData(1, name)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s on the backfilled osd.1: err %v, %q, want %q", name, err, got, data)
		}
	}
	for i := 0; i < 6; i += 2 {
		if _, err := c.storedData(1, fmt.Sprintf("b%d", i)); err == nil {
			t.Fatalf("b%d was removed while osd.1 was down but osd.1 still has it", i)
		}
	}
	for _, h := range c.osds[0].o.handles() {
		h1 := c.osds[1].o.handle(h.id)
		lu0, lu1 := make(chan pg.Eversion, 1), make(chan pg.Eversion, 1)
		h.post(func() { lu0 <- h.core.Info().LastUpdate })
		h1.post(func() { lu1 <- h1.core.Info().LastUpdate })
		if a, b := <-lu0, <-lu1; a != b {
			t.Fatalf("PG %s: osd.0 at %s, backfilled osd.1 at %s", h.id, a, b)
		}
	}
}
