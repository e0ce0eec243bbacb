package pg

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/cluster"
)

var simSeed = flag.Uint64("seed", 0, "seed of TestSimulatedFailures (0: time-based)")

// TestSimulatedFailures drives one PG on four OSDs through random schedules
// of writes, message losses and reordering, single OSD failures and
// returns, and restarts unnoticed by the map, then heals everything and
// checks the log-level safety rules: every acknowledged write is in the
// final authoritative log with its version, and every acting member ends
// with the same log. Replay a failure with -seed=N.
func TestSimulatedFailures(t *testing.T) {
	seed := *simSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	runs := 200
	if testing.Short() {
		runs = 30
	}
	for i := range runs {
		s := seed + uint64(i)
		if err := simulate(s); err != nil {
			t.Fatalf("seed %d: %v (replay: go test ./osd/pg -run TestSimulatedFailures -seed=%d)", s, err, s)
		}
	}
}

// simRepop is a repop with the interval the primary sent it in.
type simRepop struct {
	e   LogEntry
	sis uint64
}

// simAck is a replica's commit on its way back to the primary.
type simAck struct {
	from, to int32
	v        Eversion
}

type simMsg struct {
	from int32
	m    Message
}

// sim is a tiny cluster: PG cores, a lossy network, in-order replication
// channels, and a map that the simulator changes.
type sim struct {
	rng     *rand.Rand
	pgs     map[int32]*PG
	saved   map[int32]Mapping
	up      map[int32]bool
	upFrom  map[int32]uint64
	epoch   uint64
	net     []simMsg
	repl    map[[2]int32][]simRepop // primary->replica repops in order
	acks    []simAck                // replica commits on their way back
	acked   map[ReqID]Eversion
	tid     uint64
	members []int32
	lastErr error
	trace   []string
}

func (s *sim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
}

const simOSDs = 4

func simulate(seed uint64) error {
	s := &sim{rng: rand.New(rand.NewPCG(seed, 7)), pgs: map[int32]*PG{}, saved: map[int32]Mapping{},
		up: map[int32]bool{}, upFrom: map[int32]uint64{}, repl: map[[2]int32][]simRepop{}, acked: map[ReqID]Eversion{}}
	for o := range int32(simOSDs) {
		s.pgs[o] = s.newPG(o, Info{}, NewLog(Eversion{}))
		s.up[o], s.upFrom[o] = true, 1
	}
	s.epoch = 1
	if err := s.publish(); err != nil {
		return err
	}
	for step := range 300 {
		if err := s.randomStep(); err != nil {
			return s.fail(fmt.Errorf("step %d: %w", step, err))
		}
	}
	if err := s.healAndCheck(); err != nil {
		return s.fail(err)
	}
	return nil
}

func (s *sim) newPG(o int32, info Info, l *Log) *PG {
	cfg := Config{Whoami: o, PG: cluster.PGID{Pool: 1}, Limits: LogLimits{MinEntries: 3, MaxEntries: 6, DupsTracked: 1000, TrimMin: 1}, QueryRetryTicks: 2}
	p, err := New(cfg, info, l)
	if err != nil {
		panic(err)
	}
	return p
}

// mapping computes the PG's mapping: the first three up OSDs in a
// seed-dependent order that rotates with the epoch now and then.
func (s *sim) mapping() Mapping {
	var acting []int32
	for _, o := range []int32{0, 1, 2, 3} {
		if s.up[o] && len(acting) < 3 {
			acting = append(acting, o)
		}
	}
	m := Mapping{Epoch: s.epoch, Up: acting, Acting: acting, UpPrimary: -1, ActingPrimary: -1, Size: 3, MinSize: 2}
	if len(acting) > 0 {
		m.UpPrimary, m.ActingPrimary = acting[0], acting[0]
	}
	return m
}

func (s *sim) publish() error {
	m := s.mapping()
	s.members = m.members()
	for o, p := range s.pgs {
		if !s.up[o] {
			continue
		}
		mo := m
		mo.UpFrom = s.upFrom[o]
		if err := p.Step(MapEvent{Mapping: mo}); err != nil {
			return err
		}
	}
	return s.drainReady()
}

func (s *sim) randomStep() error {
	switch r := s.rng.IntN(100); {
	case r < 35:
		return s.write()
	case r < 60:
		return s.deliverSome()
	case r < 75:
		return s.replicate()
	case r < 80:
		return s.tick()
	case r < 86:
		return s.failOrReturn()
	case r < 90:
		return s.restartSameInterval()
	default:
		s.dropSome()
		return nil
	}
}

func (s *sim) primary() (int32, *PG) {
	m := s.mapping()
	if m.ActingPrimary < 0 {
		return -1, nil
	}
	return m.ActingPrimary, s.pgs[m.ActingPrimary]
}

func (s *sim) write() error {
	o, p := s.primary()
	if p == nil || p.State() != StateActive {
		return nil
	}
	s.tid++
	e, err := p.PrepareWrite(Write{ReqID: ReqID{Client: 1, Tid: s.tid}, Object: ObjectID{Name: fmt.Sprintf("o%d", s.rng.IntN(5))}, Op: OpModify})
	if err != nil {
		return err
	}
	sis := p.Info().History.SameIntervalSince
	for _, r := range p.Mapping().members() {
		if r != o {
			k := [2]int32{o, r}
			s.repl[k] = append(s.repl[k], simRepop{e, sis})
		}
	}
	if err := p.Step(CommitEvent{From: o, Version: e.Version}); err != nil {
		return err
	}
	return s.drainReady()
}

// replicate delivers the oldest repop of a random channel (replicas apply
// in order), or an ack back to the primary.
func (s *sim) replicate() error {
	if len(s.acks) > 0 && s.rng.IntN(2) == 0 {
		a := s.acks[0]
		s.acks = s.acks[1:]
		if s.up[a.to] {
			if err := s.pgs[a.to].Step(CommitEvent{From: a.from, Version: a.v}); err != nil {
				return err
			}
		}
		return s.drainReady()
	}
	var keys [][2]int32
	for k, q := range s.repl {
		if len(q) > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b [2]int32) int { return int(a[0]*10+a[1]) - int(b[0]*10+b[1]) })
	k := keys[s.rng.IntN(len(keys))]
	rp := s.repl[k][0]
	s.repl[k] = s.repl[k][1:]
	primary := s.pgs[k[0]]
	if !s.up[k[0]] || primary.Info().History.SameIntervalSince != rp.sis || !primary.IsPrimary() {
		return nil // the primary gave up on it (new interval)
	}
	if !s.up[k[1]] {
		s.repl[k] = append([]simRepop{rp}, s.repl[k]...) // retried until the interval changes
		return nil
	}
	err := s.pgs[k[1]].ApplyReplicated(rp.sis, rp.e)
	switch {
	case err == nil || errorsIs(err, ErrDuplicateEntry):
		s.acks = append(s.acks, simAck{k[1], k[0], rp.e.Version})
	case errorsIs(err, ErrWrongInterval) && s.pgs[k[1]].State() == StateReplica:
		return fmt.Errorf("osd.%d and primary osd.%d disagree on the interval: %v", k[1], k[0], err)
	default:
		s.lastErr = err
		s.repl[k] = append([]simRepop{rp}, s.repl[k]...)
	}
	return s.drainReady()
}

func (s *sim) deliverSome() error {
	n := s.rng.IntN(len(s.net) + 1)
	for range n {
		if len(s.net) == 0 {
			break
		}
		i := s.rng.IntN(len(s.net))
		msg := s.net[i]
		s.net = slices.Delete(s.net, i, i+1)
		if err := s.deliver(msg); err != nil {
			return err
		}
	}
	return s.drainReady()
}

func (s *sim) deliver(msg simMsg) error {
	to := msg.m.To
	if !s.up[to] || !s.up[msg.from] {
		return nil
	}
	p := s.pgs[to]
	m := msg.m
	switch m.Type {
	case MsgQuery:
		return p.Step(QueryEvent{From: msg.from, QueryEpoch: m.QueryEpoch})
	case MsgLogQuery:
		return p.Step(QueryEvent{From: msg.from, QueryEpoch: m.QueryEpoch, Log: true})
	case MsgNotify:
		return p.Step(NotifyEvent{From: msg.from, QueryEpoch: m.QueryEpoch, Info: m.Info})
	case MsgLog:
		return p.Step(LogEvent{From: msg.from, QueryEpoch: m.QueryEpoch, Info: m.Info, Tail: m.Tail, Entries: m.Entries, Dups: m.Dups})
	case MsgActivate:
		return p.Step(ActivateEvent{From: msg.from, QueryEpoch: m.QueryEpoch, Info: m.Info})
	case MsgActivated:
		return p.Step(ActivatedEvent{From: msg.from, QueryEpoch: m.QueryEpoch})
	}
	return nil
}

func (s *sim) dropSome() {
	if len(s.net) > 0 {
		i := s.rng.IntN(len(s.net))
		s.net = slices.Delete(s.net, i, i+1)
	}
}

func (s *sim) tick() error {
	for o, p := range s.pgs {
		if s.up[o] {
			p.Tick()
		}
	}
	return s.drainReady()
}

// failOrReturn marks a random OSD down or brings a down one back (new
// up_from): a new map epoch. At most one OSD is down at a time: this
// release's activation rule knows only the current acting set, so a
// failure of every member of the last active interval at once needs the
// past intervals of the full peering protocol (simulating it finds acked
// writes lost, as expected).
func (s *sim) failOrReturn() error {
	o := int32(s.rng.IntN(simOSDs))
	upCount := 0
	for _, u := range s.up {
		if u {
			upCount++
		}
	}
	if s.up[o] && upCount < simOSDs {
		return nil
	}
	s.epoch++
	s.logf("e%d: osd.%d %s\n", s.epoch, o, map[bool]string{true: "down", false: "returns"}[s.up[o]])
	if s.up[o] {
		s.up[o] = false
	} else {
		s.restart(o)
		s.up[o], s.upFrom[o] = true, s.epoch
	}
	return s.publish()
}

// restartSameInterval crashes an up OSD and restarts it before anyone
// notices: the map moves on without a mapping change.
func (s *sim) restartSameInterval() error {
	o := int32(s.rng.IntN(simOSDs))
	if !s.up[o] {
		return nil
	}
	s.restart(o)
	s.epoch++
	s.logf("e%d: osd.%d restarted unnoticed\n", s.epoch, o)
	return s.publish()
}

// restart rebuilds OSD o's PG from its persisted state (the core's info and
// log: the simulator treats every applied entry as committed).
func (s *sim) restart(o int32) {
	old := s.pgs[o]
	l, err := RestoreLog(old.Log().Tail(), old.Log().Entries(), old.Log().Dups())
	if err != nil {
		panic(err)
	}
	p := s.newPG(o, old.Info(), l)
	if m, ok := s.saved[o]; ok {
		p.RestoreMapping(m)
	}
	s.pgs[o] = p
	for k := range s.repl {
		if k[0] == o {
			delete(s.repl, k) // a restarted primary forgets its writes in flight
		}
	}
}

// drainReady executes every PG's Ready: messages to the network, sync plans
// applied at once (as the daemon would after copying objects), acks
// recorded.
func (s *sim) drainReady() error {
	for range 50 {
		progress := false
		for _, o := range []int32{0, 1, 2, 3} {
			p := s.pgs[o]
			if !p.HasReady() {
				continue
			}
			progress = true
			r := p.Ready()
			p.Advance()
			if err := s.execute(o, r); err != nil {
				return err
			}
		}
		if !progress {
			return nil
		}
	}
	return fmt.Errorf("Ready did not settle")
}

func (s *sim) execute(o int32, r Ready) error {
	if d := DescribeReady(fmt.Sprintf("osd.%d: ", o), r); d != "" {
		s.logf("%s", d)
	}
	if r.Interval != nil {
		s.saved[o] = *r.Interval
	}
	for _, e := range r.Acked {
		if prev, ok := s.acked[e.ReqID]; ok && prev != e.Version {
			return fmt.Errorf("%s acked twice with different versions %s and %s", e.ReqID, prev, e.Version)
		}
		s.acked[e.ReqID] = e.Version
	}
	for _, m := range r.Messages {
		s.net = append(s.net, simMsg{from: o, m: m})
	}
	for _, plan := range r.Syncs {
		if !s.up[plan.OSD] {
			continue
		}
		if err := s.pgs[plan.OSD].ApplySync(plan); err != nil {
			s.logf("osd.%d: sync refused: %v\n", plan.OSD, err)
			continue // the target moved to another interval
		}
		s.logf("osd.%d: synced to %s\n", plan.OSD, s.pgs[plan.OSD].Info().LastUpdate)
		if err := s.pgs[o].Step(SyncedEvent{From: plan.OSD, QueryEpoch: plan.QueryEpoch}); err != nil {
			return err
		}
	}
	return nil
}

// healAndCheck brings every OSD up, lets peering finish with a reliable
// network, and checks the safety rules.
func (s *sim) healAndCheck() error {
	for o := range int32(simOSDs) {
		if !s.up[o] {
			s.epoch++
			s.restart(o)
			s.up[o], s.upFrom[o] = true, s.epoch
			if err := s.publish(); err != nil {
				return err
			}
		}
	}
	for range 200 {
		for len(s.net) > 0 {
			msg := s.net[0]
			s.net = s.net[1:]
			if err := s.deliver(msg); err != nil {
				return err
			}
			if err := s.drainReady(); err != nil {
				return err
			}
		}
		if _, p := s.primary(); p.State() == StateActive {
			break
		}
		if err := s.tick(); err != nil {
			return err
		}
	}
	po, p := s.primary()
	if p.State() != StateActive {
		return fmt.Errorf("primary osd.%d ends %s", po, p.State())
	}
	if err := s.flushReplication(); err != nil {
		return err
	}
	for reqid, v := range s.acked {
		d, _, ok := p.Lookup(reqid)
		if !ok || d.Version != v {
			return fmt.Errorf("acked %s at %s is not in the final history (found %v %s)", reqid, v, ok, d.Version)
		}
	}
	head := p.Log().Head()
	for _, o := range p.Mapping().members() {
		if h := s.pgs[o].Log().Head(); h != head {
			return fmt.Errorf("osd.%d (%s %s) ends at %s, primary osd.%d (%s) at %s; map %s", o, s.pgs[o].State(), s.pgs[o].Info(), h, po, p.Info(), head, p.Mapping())
		}
	}
	return nil
}

// flushReplication delivers every queued repop and ack.
func (s *sim) flushReplication() error {
	for range 10000 {
		pending := len(s.acks) > 0
		for _, q := range s.repl {
			pending = pending || len(q) > 0
		}
		if !pending {
			return nil
		}
		if err := s.replicate(); err != nil {
			return err
		}
	}
	return fmt.Errorf("replication did not drain: %v", s.lastErr)
}

func errorsIs(err, target error) bool {
	for e := err; e != nil; {
		if e == target {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// fail adds the end of the trace to err when -v is given.
func (s *sim) fail(err error) error {
	if !testing.Verbose() {
		return err
	}
	from := max(0, len(s.trace)-400)
	return fmt.Errorf("%w\ntrace:\n%s", err, strings.Join(s.trace[from:], ""))
}
