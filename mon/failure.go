package mon

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorados/gorados/cluster"
)

// Failure detection, the monitor's half (Ceph's OSDMonitor::check_failure).
// OSDs ping their peers and report those that stop answering; the leader
// keeps the reports in memory (they are not map state: a new leader
// rebuilds them from the reports the OSDs keep sending) and marks a target
// down when
//   - reporters on at least MinDownReporters distinct hosts report it and
//     the oldest report says it has been silent for the heartbeat grace, or
//   - one report is immediate: both of the target's addresses refused the
//     connection, so no process listens there (a crashed daemon).
//
// A report is about one incarnation of the target (its up_from): once the
// target is marked down, or boots again, older reports are void.

// OSDFailure is an OSD's failure report (or its cancellation).
type OSDFailure struct {
	Target, Reporter int32
	TargetUpFrom     cluster.Epoch
	FailedFor        time.Duration
	Immediate        bool
	Cancel           bool
}

// Name implements Command (reports arrive on the command path).
func (OSDFailure) Name() string { return "osd failure" }

// OSDMarkFailed marks an OSD down on behalf of its peers' reports, unless
// it has booted again since (UpFrom differs) or the nodown flag is set.
type OSDMarkFailed struct {
	ID     int32
	UpFrom cluster.Epoch
	Why    string
}

// Name implements Command.
func (OSDMarkFailed) Name() string { return "osd failure mark-down" }

// markFailed executes OSDMarkFailed.
func markFailed(m *cluster.OSDMap, c OSDMarkFailed) (Result, error) {
	o, err := osdByID(m, c.ID)
	if err != nil {
		return Result{}, err
	}
	switch {
	case !o.Up:
		return Result{Message: fmt.Sprintf("osd.%d is already down", c.ID)}, nil
	case o.UpFrom != c.UpFrom:
		return Result{Message: fmt.Sprintf("osd.%d booted again at epoch %d; reports were about up_from %d", c.ID, o.UpFrom, c.UpFrom)}, nil
	case m.Flags&cluster.FlagNoDown != 0:
		return Result{Message: fmt.Sprintf("osd.%d not marked down: nodown flag set", c.ID)}, nil
	}
	o.Up, o.DownAt = false, m.Epoch
	return Result{Changed: true, Message: fmt.Sprintf("marked down osd.%d: %s", c.ID, c.Why)}, nil
}

// FailurePolicy is when the leader believes reports (Ceph's defaults in
// DefaultFailurePolicy).
type FailurePolicy struct {
	// Grace is how long a target must have been silent
	// (osd_heartbeat_grace, 20 s).
	Grace time.Duration
	// MinReporters is how many distinct reporter hosts it takes
	// (mon_osd_min_down_reporters, 2).
	MinReporters int
	// Expire drops a report its reporter stopped repeating (OSDs repeat
	// theirs every few seconds while the target stays silent).
	Expire time.Duration
	// DownOut is how long an OSD stays down before the monitors mark it
	// out, so that its data is copied elsewhere
	// (mon_osd_down_out_interval, 600 s; zero: never).
	DownOut time.Duration
	// MinInRatio: no OSD is marked out automatically if that would leave
	// fewer than this share of the existing OSDs in
	// (mon_osd_min_in_ratio, 0.75).
	MinInRatio float64
}

// DefaultFailurePolicy returns Ceph's defaults.
func DefaultFailurePolicy() FailurePolicy {
	return FailurePolicy{Grace: 20 * time.Second, MinReporters: 2, Expire: 60 * time.Second,
		DownOut: 600 * time.Second, MinInRatio: 0.75}
}

// failureReport is one reporter's current report about a target.
type failureReport struct {
	upFrom      cluster.Epoch
	failedSince time.Time
	received    time.Time
}

// failureTracker holds the reports the leader has received.
type failureTracker struct {
	policy FailurePolicy
	mu     sync.Mutex
	// reports: target -> reporter -> report
	reports map[int32]map[int32]failureReport
}

func newFailureTracker(p FailurePolicy) *failureTracker {
	return &failureTracker{policy: p, reports: map[int32]map[int32]failureReport{}}
}

// report records f, received at now against map m, and returns the
// mark-down to execute when the reports now justify one.
func (t *failureTracker) report(m *cluster.OSDMap, f OSDFailure, now time.Time) (*OSDMarkFailed, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f.Cancel {
		delete(t.reports[f.Target], f.Reporter)
		return nil, fmt.Sprintf("osd.%d no longer reports osd.%d", f.Reporter, f.Target)
	}
	if why := t.ignore(m, f); why != "" {
		return nil, why
	}
	rs := t.reports[f.Target]
	if rs == nil {
		rs = map[int32]failureReport{}
		t.reports[f.Target] = rs
	}
	rs[f.Reporter] = failureReport{upFrom: f.TargetUpFrom, failedSince: now.Add(-f.FailedFor), received: now}
	if f.Immediate {
		return &OSDMarkFailed{ID: f.Target, UpFrom: f.TargetUpFrom,
			Why: fmt.Sprintf("osd.%d found nothing listening at its addresses", f.Reporter)}, "immediate failure"
	}
	return t.check(m, f.Target, now)
}

// ignore says why a report is void, or "" if it counts.
func (t *failureTracker) ignore(m *cluster.OSDMap, f OSDFailure) string {
	switch {
	case f.Target == f.Reporter:
		return "an OSD cannot report itself"
	case !m.IsUp(f.Reporter):
		return fmt.Sprintf("reporter osd.%d is not up", f.Reporter)
	case !m.IsUp(f.Target):
		return fmt.Sprintf("osd.%d is already down", f.Target)
	case m.OSDs[f.Target].UpFrom != f.TargetUpFrom:
		return fmt.Sprintf("the report is about osd.%d up from epoch %d; it is up from %d", f.Target, f.TargetUpFrom, m.OSDs[f.Target].UpFrom)
	}
	return ""
}

// check decides on target from its current reports, dropping void and
// expired ones.
func (t *failureTracker) check(m *cluster.OSDMap, target int32, now time.Time) (*OSDMarkFailed, string) {
	rs := t.reports[target]
	hosts := map[string]bool{}
	var oldest time.Time
	var reporters []int32
	for r, rep := range rs {
		if now.Sub(rep.received) > t.policy.Expire || !m.IsUp(r) || rep.upFrom != m.OSDs[target].UpFrom {
			delete(rs, r)
			continue
		}
		hosts[reporterHost(m, r)] = true
		reporters = append(reporters, r)
		if oldest.IsZero() || rep.failedSince.Before(oldest) {
			oldest = rep.failedSince
		}
	}
	slices.Sort(reporters)
	failedFor := now.Sub(oldest)
	if len(hosts) < t.policy.MinReporters || failedFor < t.policy.Grace {
		return nil, fmt.Sprintf("osd.%d reported by %d of %d hosts needed, silent for %s of %s", target,
			len(hosts), t.policy.MinReporters, failedFor.Round(time.Millisecond), t.policy.Grace)
	}
	return &OSDMarkFailed{ID: target, UpFrom: m.OSDs[target].UpFrom,
		Why: fmt.Sprintf("no heartbeat for %s, reported by %s", failedFor.Round(time.Second), osdNames(reporters))}, "reports agree"
}

// forget drops every report about target (it was marked down).
func (t *failureTracker) forget(target int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.reports, target)
}

// reporterHost groups reporters by their host (Ceph's
// mon_osd_reporter_subtree_level "host"), falling back to the OSD itself.
func reporterHost(m *cluster.OSDMap, id int32) string {
	if h := m.OSDs[id].Host; h != "" {
		return h
	}
	return "osd." + strconv.Itoa(int(id))
}

func osdNames(ids []int32) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += "osd." + strconv.Itoa(int(id))
	}
	return s
}

// OSDAutoOut marks down OSDs out on the monitors' own account (they stayed
// down for the down-out interval).
type OSDAutoOut struct{ IDs []int32 }

// Name implements Command.
func (OSDAutoOut) Name() string { return "osd auto-out" }

// autoOut executes OSDAutoOut: each OSD still down and in is marked out
// with AutoOut set, unless noout is set.
func autoOut(m *cluster.OSDMap, c OSDAutoOut) (Result, error) {
	if m.Flags&cluster.FlagNoOut != 0 {
		return Result{Message: "noout flag set: no OSD marked out"}, nil
	}
	var res Result
	var marked []int32
	for _, id := range c.IDs {
		o, err := osdByID(m, id)
		if err != nil {
			return Result{}, err
		}
		if o.Up || !o.In() {
			continue
		}
		o.Weight, o.AutoOut = cluster.WeightOut, true
		marked = append(marked, id)
	}
	if len(marked) > 0 {
		res.Changed = true
		res.Message = "marked out " + osdNames(marked) + ": down for longer than the down-out interval"
	}
	return res, nil
}

// downOutTracker remembers since when the leader has seen each OSD down
// and in (in memory: a new leader starts counting afresh, which can only
// delay an automatic out, never hasten it).
type downOutTracker struct {
	mu        sync.Mutex
	downSince map[int32]time.Time
}

// reset forgets every OSD's down time.
func (d *downOutTracker) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.downSince = nil
}

// due returns the OSDs of m to mark out at now under p: down and in for
// at least p.DownOut, as many as keep the in share at or above
// p.MinInRatio, lowest ids first.
func (d *downOutTracker) due(m *cluster.OSDMap, p FailurePolicy, now time.Time) []int32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.downSince == nil {
		d.downSince = map[int32]time.Time{}
	}
	exists, in := 0, 0
	seen := map[int32]bool{}
	var candidates []int32
	for i := range m.OSDs {
		id := int32(i)
		if !m.Exists(id) {
			continue
		}
		exists++
		if m.IsIn(id) {
			in++
		}
		if m.IsUp(id) || !m.IsIn(id) {
			continue
		}
		seen[id] = true
		since, ok := d.downSince[id]
		if !ok {
			d.downSince[id] = now
			continue
		}
		if p.DownOut > 0 && now.Sub(since) >= p.DownOut {
			candidates = append(candidates, id)
		}
	}
	for id := range d.downSince {
		if !seen[id] {
			delete(d.downSince, id)
		}
	}
	var out []int32
	for _, id := range candidates {
		if float64(in-1) < p.MinInRatio*float64(exists) {
			break
		}
		in--
		out = append(out, id)
	}
	return out
}
