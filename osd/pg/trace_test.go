package pg

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/gorados/gorados/cluster"
)

// TestTraces runs the golden traces under testdata/ (regenerate with
// `go test ./osd/pg -run TestTraces -rewrite` and review the diff).
func TestTraces(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &harness{}
		datadriven.RunTest(t, path, h.run)
	})
}

// harness drives one PG on several OSDs through a simulated network that
// delivers only when told to.
type harness struct {
	pgs     map[int32]*PG
	ids     []int32
	network []Message // queued messages, with From recorded in fromOf
	fromOf  []int32
	// saved is each OSD's persisted interval mapping (from Ready.Interval).
	saved  map[int32]Mapping
	syncs  []SyncPlan // sync plans emitted and not yet applied
	syncBy []int32    // the primary that emitted each plan
	limits LogLimits
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "new":
		return h.cmdNew(t, d)
	case "map":
		return h.cmdMap(t, d)
	case "process-ready":
		return h.processReady()
	case "deliver":
		return h.cmdDeliver(t, d)
	case "stabilize":
		return h.stabilize(t)
	case "tick":
		return h.cmdTick(t, d)
	case "write":
		return h.cmdWrite(t, d)
	case "replicate":
		return h.cmdReplicate(t, d)
	case "commit":
		return h.cmdCommit(t, d)
	case "lookup":
		return h.cmdLookup(t, d)
	case "trim-replica":
		return h.cmdTrimReplica(t, d)
	case "status":
		return h.status(t, d)
	case "inject-notify":
		return h.cmdInjectNotify(t, d)
	case "apply-syncs":
		return h.cmdApplySyncs(t)
	case "restart":
		return h.cmdRestart(t, d)
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

func (h *harness) cmdNew(t *testing.T, d *datadriven.TestData) string {
	n := 3
	d.MaybeScanArgs(t, "osds", &n)
	h.limits = LogLimits{MinEntries: 2, MaxEntries: 4, DupsTracked: 3, TrimMin: 1}
	d.MaybeScanArgs(t, "min", &h.limits.MinEntries)
	d.MaybeScanArgs(t, "max", &h.limits.MaxEntries)
	d.MaybeScanArgs(t, "dups", &h.limits.DupsTracked)
	d.MaybeScanArgs(t, "trim_min", &h.limits.TrimMin)
	h.pgs = map[int32]*PG{}
	h.saved = map[int32]Mapping{}
	h.ids = nil
	for i := range n {
		cfg := Config{Whoami: int32(i), PG: cluster.PGID{Pool: 1, Seed: 0}, Limits: h.limits, QueryRetryTicks: 3}
		p, err := New(cfg, Info{}, NewLog(Eversion{}))
		if err != nil {
			t.Fatal(err)
		}
		h.pgs[int32(i)] = p
		h.ids = append(h.ids, int32(i))
	}
	return fmt.Sprintf("%d OSDs, limits %+v\n", n, h.limits)
}

func parseOSDs(t *testing.T, s string) []int32 {
	var out []int32
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("bad OSD list %q", s)
		}
		out = append(out, int32(v))
	}
	return out
}

func parseVersion(t *testing.T, s string) Eversion {
	e, v, ok := strings.Cut(s, "'")
	ep, err1 := strconv.ParseUint(e, 10, 64)
	ve, err2 := strconv.ParseUint(v, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("bad eversion %q", s)
	}
	return Eversion{Epoch: ep, Version: ve}
}

func (h *harness) argString(t *testing.T, d *datadriven.TestData, key, def string) string {
	s := def
	d.MaybeScanArgs(t, key, &s)
	return s
}

// targets returns the OSDs named by osds=..., or all of them.
func (h *harness) targets(t *testing.T, d *datadriven.TestData) []int32 {
	if s := h.argString(t, d, "osds", ""); s != "" {
		return parseOSDs(t, s)
	}
	return h.ids
}

func (h *harness) cmdMap(t *testing.T, d *datadriven.TestData) string {
	var m Mapping
	d.ScanArgs(t, "epoch", &m.Epoch)
	m.Acting = parseOSDs(t, h.argString(t, d, "acting", ""))
	m.Up = parseOSDs(t, h.argString(t, d, "up", h.argString(t, d, "acting", "")))
	m.ActingPrimary, m.UpPrimary = -1, -1
	if len(m.Acting) > 0 {
		m.ActingPrimary = m.Acting[0]
	}
	if len(m.Up) > 0 {
		m.UpPrimary = m.Up[0]
	}
	m.Size, m.MinSize = len(m.Acting), 2
	d.MaybeScanArgs(t, "size", &m.Size)
	d.MaybeScanArgs(t, "min_size", &m.MinSize)
	d.MaybeScanArgs(t, "up_from", &m.UpFrom)
	for _, o := range h.targets(t, d) {
		if err := h.pgs[o].Step(MapEvent{Mapping: m}); err != nil {
			t.Fatal(err)
		}
	}
	return h.processReady()
}

// processReady prints and executes every OSD's Ready: messages go to the
// network queue.
func (h *harness) processReady() string {
	var b strings.Builder
	for _, id := range h.ids {
		p := h.pgs[id]
		if !p.HasReady() {
			continue
		}
		r := p.Ready()
		b.WriteString(DescribeReady(fmt.Sprintf("osd.%d: ", id), r))
		for _, m := range r.Messages {
			h.network = append(h.network, m)
			h.fromOf = append(h.fromOf, id)
		}
		for _, s := range r.Syncs {
			h.syncs = append(h.syncs, s)
			h.syncBy = append(h.syncBy, id)
		}
		if r.Interval != nil {
			h.saved[id] = *r.Interval
		}
		p.Advance()
	}
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}

// cmdDeliver delivers queued messages matching from=/to= (default all) and
// drops them instead with drop=true.
func (h *harness) cmdDeliver(t *testing.T, d *datadriven.TestData) string {
	from := parseOSDs(t, h.argString(t, d, "from", ""))
	to := parseOSDs(t, h.argString(t, d, "to", ""))
	drop := false
	d.MaybeScanArgs(t, "drop", &drop)
	var b strings.Builder
	var keepMsgs []Message
	var keepFrom []int32
	for i, m := range h.network {
		f := h.fromOf[i]
		if (len(from) > 0 && !slices.Contains(from, f)) || (len(to) > 0 && !slices.Contains(to, m.To)) {
			keepMsgs, keepFrom = append(keepMsgs, m), append(keepFrom, f)
			continue
		}
		verb := "deliver"
		if drop {
			verb = "drop"
		}
		fmt.Fprintf(&b, "%s osd.%d -> %s\n", verb, f, DescribeMessage(m))
		if !drop {
			h.deliver(t, f, m)
		}
	}
	h.network, h.fromOf = keepMsgs, keepFrom
	if b.Len() == 0 {
		return "nothing to deliver\n"
	}
	return b.String()
}

func (h *harness) deliver(t *testing.T, from int32, m Message) {
	p, ok := h.pgs[m.To]
	if !ok {
		return
	}
	var ev Event
	switch m.Type {
	case MsgQuery:
		ev = QueryEvent{From: from, QueryEpoch: m.QueryEpoch}
	case MsgNotify:
		ev = NotifyEvent{From: from, QueryEpoch: m.QueryEpoch, Info: m.Info}
	case MsgActivate:
		ev = ActivateEvent{From: from, QueryEpoch: m.QueryEpoch, Info: m.Info}
	case MsgActivated:
		ev = ActivatedEvent{From: from, QueryEpoch: m.QueryEpoch}
	case MsgLogQuery:
		ev = QueryEvent{From: from, QueryEpoch: m.QueryEpoch, Log: true}
	case MsgLog:
		ev = LogEvent{From: from, QueryEpoch: m.QueryEpoch, Info: m.Info, Tail: m.Tail, Entries: m.Entries, Dups: m.Dups}
	}
	if err := p.Step(ev); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) stabilize(t *testing.T) string {
	var b strings.Builder
	for range 100 {
		out := h.processReady()
		if len(h.network) == 0 {
			if out != "ok\n" {
				b.WriteString(out)
			}
			break
		}
		if out != "ok\n" {
			b.WriteString(out)
		}
		msgs, froms := h.network, h.fromOf
		h.network, h.fromOf = nil, nil
		for i, m := range msgs {
			fmt.Fprintf(&b, "deliver osd.%d -> %s\n", froms[i], DescribeMessage(m))
			h.deliver(t, froms[i], m)
		}
	}
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}

func (h *harness) cmdTick(t *testing.T, d *datadriven.TestData) string {
	n := 1
	d.MaybeScanArgs(t, "n", &n)
	for range n {
		for _, o := range h.targets(t, d) {
			h.pgs[o].Tick()
		}
	}
	return h.processReady()
}

func reqidArgs(t *testing.T, d *datadriven.TestData) ReqID {
	r := ReqID{Client: 1, Incarnation: 1}
	d.MaybeScanArgs(t, "client", &r.Client)
	d.ScanArgs(t, "tid", &r.Tid)
	return r
}

func (h *harness) cmdWrite(t *testing.T, d *datadriven.TestData) string {
	var osd int32
	d.ScanArgs(t, "osd", &osd)
	w := Write{ReqID: reqidArgs(t, d), Op: OpModify}
	w.Object.Name = h.argString(t, d, "obj", "obj")
	if h.argString(t, d, "op", "modify") == "delete" {
		w.Op = OpDelete
	}
	if s := h.argString(t, d, "prior", ""); s != "" {
		w.PriorVersion = parseVersion(t, s)
	}
	e, err := h.pgs[osd].PrepareWrite(w)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return "prepared " + e.String() + "\n" + h.processReady()
}

// cmdReplicate hands the primary's entry with version= to the replicas
// named by to=, as a RepOp would.
func (h *harness) cmdReplicate(t *testing.T, d *datadriven.TestData) string {
	var primary int32
	d.ScanArgs(t, "from", &primary)
	v := parseVersion(t, h.argString(t, d, "version", ""))
	e, ok := h.pgs[primary].Log().find(v)
	if !ok {
		t.Fatalf("osd.%d has no entry %s", primary, v)
	}
	interval := h.pgs[primary].Info().History.SameIntervalSince
	var b strings.Builder
	for _, o := range parseOSDs(t, h.argString(t, d, "to", "")) {
		if err := h.pgs[o].ApplyReplicated(interval, e); err != nil {
			fmt.Fprintf(&b, "osd.%d: error: %v\n", o, err)
		} else {
			fmt.Fprintf(&b, "osd.%d: applied %s\n", o, e.Version)
		}
	}
	b.WriteString(h.processReady())
	return b.String()
}

func (h *harness) cmdCommit(t *testing.T, d *datadriven.TestData) string {
	var osd int32
	d.ScanArgs(t, "osd", &osd)
	v := parseVersion(t, h.argString(t, d, "version", ""))
	for _, from := range parseOSDs(t, h.argString(t, d, "from", "")) {
		if err := h.pgs[osd].Step(CommitEvent{From: from, Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	return h.processReady()
}

func (h *harness) cmdLookup(t *testing.T, d *datadriven.TestData) string {
	var osd int32
	d.ScanArgs(t, "osd", &osd)
	dup, inflight, found := h.pgs[osd].Lookup(reqidArgs(t, d))
	switch {
	case !found:
		return "not found\n"
	case inflight:
		return fmt.Sprintf("in flight %s\n", dup.Version)
	}
	return fmt.Sprintf("done %s uv=%d rc=%d\n", dup.Version, dup.UserVersion, dup.ReturnCode)
}

func (h *harness) cmdTrimReplica(t *testing.T, d *datadriven.TestData) string {
	var osd int32
	d.ScanArgs(t, "osd", &osd)
	h.pgs[osd].TrimReplica(parseVersion(t, h.argString(t, d, "to", "")))
	return h.processReady()
}

func (h *harness) status(t *testing.T, d *datadriven.TestData) string {
	showLog := false
	d.MaybeScanArgs(t, "log", &showLog)
	ids := h.targets(t, d)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var b strings.Builder
	for _, o := range ids {
		p := h.pgs[o]
		fmt.Fprintf(&b, "osd.%d: %s %s\n", o, p.State(), p.Info())
		if showLog {
			b.WriteString(DescribeLog(p.Log()))
		}
	}
	return b.String()
}

// cmdInjectNotify delivers a notify with the sender's current info but a
// chosen query epoch, to check that messages of other rounds are ignored.
func (h *harness) cmdInjectNotify(t *testing.T, d *datadriven.TestData) string {
	var from, to int32
	var qe uint64
	d.ScanArgs(t, "from", &from)
	d.ScanArgs(t, "to", &to)
	d.ScanArgs(t, "query_epoch", &qe)
	if err := h.pgs[to].Step(NotifyEvent{From: from, QueryEpoch: qe, Info: h.pgs[from].Info()}); err != nil {
		t.Fatal(err)
	}
	return h.processReady()
}

// cmdApplySyncs applies every pending sync plan on its target (as the
// daemon would after copying the objects) and reports it to the primary
// that emitted it.
func (h *harness) cmdApplySyncs(t *testing.T) string {
	var b strings.Builder
	plans, by := h.syncs, h.syncBy
	h.syncs, h.syncBy = nil, nil
	for i, plan := range plans {
		if err := h.pgs[plan.OSD].ApplySync(plan); err != nil {
			fmt.Fprintf(&b, "osd.%d: sync error: %v\n", plan.OSD, err)
			continue
		}
		fmt.Fprintf(&b, "osd.%d: synced to %s\n", plan.OSD, h.pgs[plan.OSD].Info().LastUpdate)
		if err := h.pgs[by[i]].Step(SyncedEvent{From: plan.OSD, QueryEpoch: plan.QueryEpoch}); err != nil {
			t.Fatal(err)
		}
	}
	b.WriteString(h.processReady())
	return b.String()
}

// cmdRestart replaces an OSD's PG by one rebuilt from its persisted state
// (info, log, interval mapping), as after a crash; queued messages to it
// are lost.
func (h *harness) cmdRestart(t *testing.T, d *datadriven.TestData) string {
	var osd int32
	d.ScanArgs(t, "osd", &osd)
	old := h.pgs[osd]
	l, err := RestoreLog(old.Log().Tail(), old.Log().Entries(), old.Log().Dups())
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(old.cfg, old.Info(), l)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := h.saved[osd]; ok {
		p.RestoreMapping(m)
	}
	h.pgs[osd] = p
	var keepMsgs []Message
	var keepFrom []int32
	for i, m := range h.network {
		if m.To != osd {
			keepMsgs, keepFrom = append(keepMsgs, m), append(keepFrom, h.fromOf[i])
		}
	}
	h.network, h.fromOf = keepMsgs, keepFrom
	return fmt.Sprintf("osd.%d restarted at %s\n", osd, p.Info().LastUpdate)
}
