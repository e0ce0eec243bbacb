package mon

import (
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
)

// failureMap: osd.0 and osd.1 on host a, osd.2 on b, osd.3 on c, all up
// from epoch 5.
func failureMap() *cluster.OSDMap {
	m := cluster.New(cluster.UUID{7}, time.Unix(0, 0))
	m.Epoch = 9
	m.SetMaxOSD(4)
	for id, host := range []string{"a", "a", "b", "c"} {
		m.OSDs[id] = cluster.OSD{Exists: true, Up: true, Weight: cluster.WeightIn, Host: host, UpFrom: 5}
	}
	return m
}

// TestFailureReportsNeedTwoHostsAndGrace: reports from one host do not
// mark down however long; a second host's report does once the oldest
// report covers the grace; reports about another incarnation or from a
// down reporter are void; a cancelled report stops counting.
func TestFailureReportsNeedTwoHostsAndGrace(t *testing.T) {
	m := failureMap()
	tr := newFailureTracker(FailurePolicy{Grace: 20 * time.Second, MinReporters: 2, Expire: time.Minute})
	now := time.Unix(1000, 0)
	rep := func(reporter int32, failedFor time.Duration) *OSDMarkFailed {
		mark, _ := tr.report(m, OSDFailure{Target: 3, Reporter: reporter, TargetUpFrom: 5, FailedFor: failedFor}, now)
		return mark
	}
	if rep(0, 30*time.Second) != nil || rep(1, 30*time.Second) != nil {
		t.Fatal("two reporters on one host marked the target down")
	}
	if mark := rep(2, 5*time.Second); mark == nil || mark.ID != 3 || mark.UpFrom != 5 || !strings.Contains(mark.Why, "osd.0, osd.1, osd.2") {
		t.Fatalf("a second host with the oldest report past the grace: %+v", mark)
	}

	tr = newFailureTracker(FailurePolicy{Grace: 20 * time.Second, MinReporters: 2, Expire: time.Minute})
	if rep(0, 5*time.Second) != nil || rep(2, 5*time.Second) != nil {
		t.Fatal("marked down before the grace")
	}
	now = now.Add(16 * time.Second) // the first reports now cover 21 s
	if mark := rep(2, 21*time.Second); mark == nil {
		t.Fatal("not marked down once the grace passed")
	}

	tr = newFailureTracker(FailurePolicy{Grace: 20 * time.Second, MinReporters: 2, Expire: time.Minute})
	if mark, why := tr.report(m, OSDFailure{Target: 3, Reporter: 0, TargetUpFrom: 4, FailedFor: time.Hour}, now); mark != nil || !strings.Contains(why, "up from epoch 4") {
		t.Fatalf("report about an earlier incarnation: %v %q", mark, why)
	}
	m.OSDs[1].Up = false
	if mark, why := tr.report(m, OSDFailure{Target: 3, Reporter: 1, TargetUpFrom: 5, FailedFor: time.Hour}, now); mark != nil || !strings.Contains(why, "not up") {
		t.Fatalf("report of a down OSD: %v %q", mark, why)
	}
	rep(0, time.Hour)
	tr.report(m, OSDFailure{Target: 3, Reporter: 0, Cancel: true}, now)
	if rep(2, time.Hour) != nil {
		t.Fatal("a cancelled report still counted")
	}
	now = now.Add(2 * time.Minute) // osd.2's report expires unrepeated
	if rep(0, time.Hour) != nil {
		t.Fatal("an expired report still counted")
	}
}

// TestImmediateFailure: a refused connection on both addresses marks the
// target down on one report.
func TestImmediateFailure(t *testing.T) {
	tr := newFailureTracker(DefaultFailurePolicy())
	mark, _ := tr.report(failureMap(), OSDFailure{Target: 2, Reporter: 0, TargetUpFrom: 5, Immediate: true}, time.Unix(1, 0))
	if mark == nil || mark.ID != 2 {
		t.Fatalf("immediate report: %+v", mark)
	}
}

// TestMarkFailed: the mark-down applies only to the reported incarnation
// and respects nodown.
func TestMarkFailed(t *testing.T) {
	m := failureMap()
	if res, err := Execute(m, OSDMarkFailed{ID: 2, UpFrom: 4}, DefaultLimits()); err != nil || res.Changed || !m.OSDs[2].Up {
		t.Fatalf("older incarnation: %+v %v", res, err)
	}
	m.Flags |= cluster.FlagNoDown
	if res, err := Execute(m, OSDMarkFailed{ID: 2, UpFrom: 5}, DefaultLimits()); err != nil || res.Changed || !strings.Contains(res.Message, "nodown") {
		t.Fatalf("nodown: %+v %v", res, err)
	}
	m.Flags &^= cluster.FlagNoDown
	if res, err := Execute(m, OSDMarkFailed{ID: 2, UpFrom: 5, Why: "test"}, DefaultLimits()); err != nil || !res.Changed || m.OSDs[2].Up || m.OSDs[2].DownAt != m.Epoch {
		t.Fatalf("mark down: %+v %v", res, err)
	}
}

// TestDownOut: an OSD down and in is marked out once it has been down for
// the interval (counted from when the leader first saw it down), no more
// OSDs than keep the in share at the minimum, never under noout; booting
// marks an auto-out OSD in again, an operator's out is kept.
func TestDownOut(t *testing.T) {
	m := failureMap()
	m.OSDs[1].Up, m.OSDs[2].Up = false, false
	p := FailurePolicy{DownOut: 10 * time.Second, MinInRatio: 0.5}
	var d downOutTracker
	t0 := time.Unix(1000, 0)
	if ids := d.due(m, p, t0); len(ids) != 0 {
		t.Fatalf("marked out at first sight: %v", ids)
	}
	if ids := d.due(m, p, t0.Add(9*time.Second)); len(ids) != 0 {
		t.Fatalf("marked out before the interval: %v", ids)
	}
	ids := d.due(m, p, t0.Add(10*time.Second))
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 2 {
		t.Fatalf("after the interval: %v, want [1 2] (2 of 4 in stays at 0.5)", ids)
	}
	p.MinInRatio = 0.75
	if ids := d.due(m, p, t0.Add(10*time.Second)); len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("with min in ratio 0.75: %v, want [1]", ids)
	}
	m.OSDs[1].Up = true // back before being marked out: its clock stops
	d.due(m, p, t0.Add(11*time.Second))
	m.OSDs[1].Up = false
	if ids := d.due(m, p, t0.Add(12*time.Second)); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("osd.1 came back and went down again: %v, want [2]", ids)
	}

	m.Flags |= cluster.FlagNoOut
	if res, err := Execute(m, OSDAutoOut{IDs: []int32{2}}, DefaultLimits()); err != nil || res.Changed || !m.OSDs[2].In() {
		t.Fatalf("noout: %+v %v", res, err)
	}
	m.Flags &^= cluster.FlagNoOut
	if res, err := Execute(m, OSDAutoOut{IDs: []int32{0, 2}}, DefaultLimits()); err != nil || !res.Changed ||
		m.OSDs[2].In() || !m.OSDs[2].AutoOut || !m.OSDs[0].In() {
		t.Fatalf("auto out of [0 2] with 0 up: %+v %v; osd.2 %+v", res, err, m.OSDs[2])
	}
	m.OSDs[2].UpFrom = 3
	m.SetCrush(crush.NewDefaultMap())
	if _, err := Execute(m, OSDBoot{ID: 2, PublicAddr: "127.0.0.1:1", ClusterAddr: "127.0.0.1:2", Host: "b"}, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if !m.OSDs[2].Up || !m.OSDs[2].In() || m.OSDs[2].AutoOut {
		t.Fatalf("auto-out OSD after boot: %+v", m.OSDs[2])
	}
	m.OSDs[2].Up = false
	if _, err := Execute(m, OSDMark{Op: "out", IDs: []int32{2}}, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(m, OSDBoot{ID: 2, PublicAddr: "127.0.0.1:1", ClusterAddr: "127.0.0.1:2", Host: "b"}, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if m.OSDs[2].In() {
		t.Fatal("booting marked in an OSD its operator had marked out")
	}
}
