package osd

import "time"

// hbTracker is the pure core of an OSD's heartbeats: which peers answered
// on which path and when, and which of them to report to the monitors
// (Ceph's OSD::heartbeat_check). The caller feeds it the peer set, ping
// results and the time; it returns the reports to send.
//
// A peer has failed when one of its two paths (front: public address,
// back: cluster address) has not answered for the grace. A peer whose two
// paths both refused the connection on the last ping has failed at once:
// nothing listens there any more (a crashed daemon), and the report is
// immediate. A failed peer is reported again every reportEvery while it
// stays failed; once it answers on both paths the report is cancelled.
type hbTracker struct {
	grace, reportEvery time.Duration
	// minHealthy is the share of peers that must be answering for this
	// OSD to trust its own view (osd_heartbeat_min_healthy_ratio): an OSD
	// cut off from the network would otherwise report everyone.
	minHealthy float64
	peers      map[int32]*hbPeer
}

// hbPeer is what the tracker knows of one peer incarnation.
type hbPeer struct {
	upFrom uint64
	// since is when tracking of this incarnation began; front and back
	// are the last replies on each path (zero: none yet).
	since, front, back time.Time
	// refusedFront and refusedBack: the last ping on that path found no
	// listener.
	refusedFront, refusedBack bool
	reported                  bool
	lastReport                time.Time
}

// hbReport is one failure report (or cancellation) to send.
type hbReport struct {
	target    int32
	upFrom    uint64
	failedFor time.Duration
	immediate bool
	cancel    bool
}

func newHBTracker(grace, reportEvery time.Duration) *hbTracker {
	return &hbTracker{grace: grace, reportEvery: reportEvery, minHealthy: 0.33, peers: map[int32]*hbPeer{}}
}

// setPeers makes peers (id -> up_from) the tracked set: new peers and new
// incarnations start from now, peers no longer listed are forgotten.
func (t *hbTracker) setPeers(peers map[int32]uint64, now time.Time) {
	for id, p := range t.peers {
		if up, ok := peers[id]; !ok || up != p.upFrom {
			delete(t.peers, id)
		}
	}
	for id, up := range peers {
		if t.peers[id] == nil {
			t.peers[id] = &hbPeer{upFrom: up, since: now}
		}
	}
}

// result records the outcome of one ping of peer id on one path: answered
// (ok), refused (no listener), or neither (timeout, other errors).
func (t *hbTracker) result(id int32, front, ok, refused bool, now time.Time) {
	p := t.peers[id]
	if p == nil {
		return
	}
	if front {
		p.refusedFront = refused
		if ok {
			p.front = now
		}
	} else {
		p.refusedBack = refused
		if ok {
			p.back = now
		}
	}
}

// silentSince is the older of the two paths' last replies (or the start
// of tracking for a path that never answered).
func (p *hbPeer) silentSince() time.Time {
	f, b := p.front, p.back
	if f.IsZero() {
		f = p.since
	}
	if b.IsZero() {
		b = p.since
	}
	if f.Before(b) {
		return f
	}
	return b
}

// failed reports whether the peer counts as failed at now, and whether
// immediately.
func (t *hbTracker) failed(p *hbPeer, now time.Time) (failed, immediate bool) {
	if p.refusedFront && p.refusedBack {
		return true, true
	}
	return now.Sub(p.silentSince()) >= t.grace, false
}

// due returns the reports to send at now, and marks them sent.
func (t *hbTracker) due(now time.Time) []hbReport {
	var out []hbReport
	healthy := 0
	for _, p := range t.peers {
		if f, _ := t.failed(p, now); !f {
			healthy++
		}
	}
	trusted := len(t.peers) < 3 || float64(healthy) >= t.minHealthy*float64(len(t.peers))
	for id, p := range t.peers {
		failed, immediate := t.failed(p, now)
		switch {
		case failed && trusted && (!p.reported || now.Sub(p.lastReport) >= t.reportEvery):
			p.reported, p.lastReport = true, now
			out = append(out, hbReport{target: id, upFrom: p.upFrom, failedFor: now.Sub(p.silentSince()), immediate: immediate})
		case !failed && p.reported:
			p.reported = false
			out = append(out, hbReport{target: id, upFrom: p.upFrom, cancel: true})
		}
	}
	return out
}
