// Package pgstats gathers the state and usage of every PG of a cluster from
// the PGs' acting primaries, and every OSD's space, for `radosctl status`,
// `pg stat`, `pg dump` and `osd df`.
//
// In Ceph the OSDs send these stats to the manager, which keeps the
// cluster-wide PG map. gorados has no manager: the caller holds a cluster
// map, computes every PG's acting primary from it and asks every up OSD
// (ObjectService.PGStats on its public address) for the PGs it leads and
// its space. A PG
// whose primary does not answer is reported "stale", as Ceph reports a PG
// whose primary stopped reporting; one whose primary answered without it
// (it has not processed the map that made it primary yet), or that maps to
// no OSD at all, is "unknown".
package pgstats

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

// States a PG gets here when its primary could not tell.
const (
	// StateStale: the acting primary is down in the map, or it did not
	// answer.
	StateStale = "stale"
	// StateUnknown: no OSD can hold the PG, or its primary answered but
	// does not lead it yet.
	StateUnknown = "unknown"
)

// PG is one PG: its placement in the caller's map and what its acting
// primary reported.
type PG struct {
	ID            cluster.PGID `json:"-"`
	PGID          string       `json:"pgid"`
	State         string       `json:"state"`
	Up            []int32      `json:"up"`
	UpPrimary     int32        `json:"up_primary"`
	Acting        []int32      `json:"acting"`
	ActingPrimary int32        `json:"acting_primary"`
	Objects       uint64       `json:"num_objects"`
	Bytes         uint64       `json:"num_bytes"`
	LogEntries    uint64       `json:"log_size"`
	// Version is the PG log head as Ceph prints it, "EPOCH'VERSION".
	Version string `json:"version"`
	// ReportedEpoch is the newest map epoch the primary's PG processed.
	ReportedEpoch uint64 `json:"reported_epoch"`
	// Note says why the state is stale or unknown.
	Note string `json:"note,omitempty"`
}

// Options tune Gather.
type Options struct {
	// PerOSDTimeout bounds each OSD's answer (default 5 s, never past the
	// context's deadline).
	PerOSDTimeout time.Duration
	// Pool restricts the result to one pool (0 or negative: every pool).
	Pool int64
	// Dial opens a connection to an OSD's public address (default: gRPC
	// without TLS).
	Dial func(addr string) (*grpc.ClientConn, error)
}

// OSD is one OSD's space and PG count as its daemon reported them.
type OSD struct {
	ID int32 `json:"osd"`
	// PGs counts the PGs (of the pools gathered) whose acting set holds it.
	PGs int `json:"pgs"`
	// Usage is nil when the OSD is down or did not answer (Note says why).
	Usage *Usage `json:"usage,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Usage is an OSD's space (pb.OsdUsage).
type Usage struct {
	FSBytes      uint64 `json:"fs_bytes"`
	FSAvailBytes uint64 `json:"fs_avail_bytes"`
	StoreBytes   uint64 `json:"store_bytes"`
	DataBytes    uint64 `json:"data_bytes"`
	Objects      uint64 `json:"num_objects"`
}

// Report is what Gather found: every PG and every existing OSD.
type Report struct {
	PGs  []PG  `json:"pg_stats"`
	OSDs []OSD `json:"osd_stats"`
}

// parallel bounds the OSDs asked at once.
const parallel = 32

// Gather asks every up OSD of m for its PGs' states and its space. It
// returns every PG of m's pools (or of opts.Pool), sorted by PG id, with
// what its acting primary reported, and every existing OSD. It fails only
// if the context ends; unreachable OSDs make their PGs stale.
func Gather(ctx context.Context, m *cluster.OSDMap, opts Options) (*Report, error) {
	pgs := placements(m, opts.Pool)
	reports := askOSDs(ctx, m, upOSDs(m), opts)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pgCount := map[int32]int{}
	for i := range pgs {
		fill(&pgs[i], reports[pgs[i].ActingPrimary])
		for _, id := range pgs[i].Acting {
			pgCount[id]++
		}
	}
	r := &Report{PGs: pgs}
	for i := range m.OSDs {
		id := int32(i)
		if !m.Exists(id) {
			continue
		}
		o := OSD{ID: id, PGs: pgCount[id]}
		switch rep := reports[id]; {
		case rep == nil:
			o.Note = "down"
		case rep.err != nil:
			o.Note = rep.err.Error()
		default:
			o.Usage = rep.usage
		}
		r.OSDs = append(r.OSDs, o)
	}
	return r, nil
}

// upOSDs lists the OSDs up in m.
func upOSDs(m *cluster.OSDMap) []int32 {
	var out []int32
	for i := range m.OSDs {
		if m.IsUp(int32(i)) {
			out = append(out, int32(i))
		}
	}
	return out
}

// placements computes every PG's up and acting sets in m.
func placements(m *cluster.OSDMap, only int64) []PG {
	ids := make([]int64, 0, len(m.Pools))
	for id := range m.Pools {
		if only <= 0 || id == only {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []PG
	for _, pool := range ids {
		for seed := uint32(0); seed < m.Pools[pool].PGNum; seed++ {
			id := cluster.PGID{Pool: pool, Seed: seed}
			up, upp, acting, actp := m.PGToUpActing(id)
			out = append(out, PG{ID: id, PGID: id.String(), Up: orEmpty(up), UpPrimary: upp,
				Acting: orEmpty(acting), ActingPrimary: actp})
		}
	}
	return out
}

func orEmpty(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

// report is one OSD's answer: its PGs by id and its space, or why there
// is none.
type report struct {
	pgs   map[cluster.PGID]*pb.PGStat
	usage *Usage
	err   error
}

// askOSDs asks each OSD of osds for its PG stats, parallel at most at a
// time.
func askOSDs(ctx context.Context, m *cluster.OSDMap, osds []int32, opts Options) map[int32]*report {
	out := make(map[int32]*report, len(osds))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for _, id := range osds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := askOSD(ctx, m, id, opts)
			mu.Lock()
			out[id] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// askOSD asks one OSD for its PG stats.
func askOSD(ctx context.Context, m *cluster.OSDMap, id int32, opts Options) *report {
	info := m.OSDs[id]
	if !info.Up {
		return &report{err: fmt.Errorf("osd.%d is down", id)}
	}
	if info.PublicAddr == "" {
		return &report{err: fmt.Errorf("osd.%d has no public address in the map", id)}
	}
	dial := opts.Dial
	if dial == nil {
		dial = func(addr string) (*grpc.ClientConn, error) {
			return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		}
	}
	cc, err := dial(info.PublicAddr)
	if err != nil {
		return &report{err: fmt.Errorf("osd.%d at %s: %w", id, info.PublicAddr, err)}
	}
	defer cc.Close()
	timeout := opts.PerOSDTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reply, err := pb.NewObjectServiceClient(cc).PGStats(ctx, &pb.PGStatsRequest{Fsid: m.FSID.String()})
	if err != nil {
		return &report{err: fmt.Errorf("osd.%d at %s did not answer: %w", id, info.PublicAddr, err)}
	}
	if reply.GetResult() != pb.Result_RESULT_OK {
		return &report{err: fmt.Errorf("osd.%d: %s: %s", id, reply.GetResult(), reply.GetMessage())}
	}
	r := &report{pgs: make(map[cluster.PGID]*pb.PGStat, len(reply.GetPgs()))}
	if u := reply.GetUsage(); u != nil {
		r.usage = &Usage{FSBytes: u.GetFsBytes(), FSAvailBytes: u.GetFsAvailBytes(), StoreBytes: u.GetStoreBytes(),
			DataBytes: u.GetDataBytes(), Objects: u.GetNumObjects()}
	}
	for _, st := range reply.GetPgs() {
		r.pgs[cluster.PGID{Pool: st.GetPool(), Seed: st.GetSeed()}] = st
	}
	return r
}

// fill sets p's state and usage from its primary's report.
func fill(p *PG, r *report) {
	switch {
	case p.ActingPrimary < 0:
		p.State, p.Note = StateUnknown, "no acting OSD in the map"
		return
	case r == nil:
		p.State, p.Note = StateStale, fmt.Sprintf("osd.%d is down", p.ActingPrimary)
		return
	case r.err != nil:
		p.State, p.Note = StateStale, r.err.Error()
		return
	}
	st := r.pgs[p.ID]
	if st == nil {
		p.State, p.Note = StateUnknown, fmt.Sprintf("osd.%d does not lead this PG yet", p.ActingPrimary)
		return
	}
	p.State, p.Objects, p.Bytes, p.LogEntries = st.GetState(), st.GetNumObjects(), st.GetNumBytes(), st.GetLogEntries()
	p.Version = fmt.Sprintf("%d'%d", st.GetLastUpdateEpoch(), st.GetLastUpdateVersion())
	p.ReportedEpoch = st.GetEpoch()
}

// Summary counts PGs by state and totals their usage and the OSDs' space.
type Summary struct {
	NumPGs  int            `json:"num_pgs"`
	ByState map[string]int `json:"pgs_by_state"`
	Objects uint64         `json:"num_objects"`
	Bytes   uint64         `json:"num_bytes"`
	// UsedBytes (store files), TotalBytes and AvailBytes (file systems)
	// add up the OSDs that answered, as Ceph's raw usage does.
	UsedBytes, TotalBytes, AvailBytes uint64
	// Fullness is each answering OSD's file system use, 0..1 (what the
	// nearfull and full ratios of the map apply to).
	Fullness map[int32]float64 `json:"-"`
	// Inactive counts PGs not serving I/O (every state but active*),
	// Stale those whose primary did not report, Undersized and Degraded
	// those with fewer acting members than the pool's size.
	Inactive, Stale, Undersized, Degraded int
	// Unhealthy lists the PGs counted in any of those, for health detail.
	Unhealthy []PG `json:"-"`
}

// Summarize counts r's PGs by state and adds up its OSDs' space.
func Summarize(r *Report) Summary {
	s := Summary{NumPGs: len(r.PGs), ByState: map[string]int{}, Fullness: map[int32]float64{}}
	for _, o := range r.OSDs {
		if u := o.Usage; u != nil && u.FSBytes > 0 {
			s.UsedBytes += u.StoreBytes
			s.TotalBytes += u.FSBytes
			s.AvailBytes += u.FSAvailBytes
			s.Fullness[o.ID] = 1 - float64(min(u.FSAvailBytes, u.FSBytes))/float64(u.FSBytes)
		}
	}
	for _, p := range r.PGs {
		s.ByState[p.State]++
		s.Objects += p.Objects
		s.Bytes += p.Bytes
		flags := stateFlags(p.State)
		if !flags["active"] {
			s.Inactive++
		}
		if flags["stale"] {
			s.Stale++
		}
		if flags["undersized"] {
			s.Undersized++
		}
		if flags["degraded"] {
			s.Degraded++
		}
		if !flags["active"] || flags["stale"] || flags["undersized"] || flags["degraded"] {
			s.Unhealthy = append(s.Unhealthy, p)
		}
	}
	return s
}

// StateCount is a number of PGs in one state.
type StateCount struct {
	State string
	Count int
}

// States returns the counts by state, most frequent first (ties by name),
// the order `ceph -s` prints them in.
func (s Summary) States() []StateCount {
	out := make([]StateCount, 0, len(s.ByState))
	for st, n := range s.ByState {
		out = append(out, StateCount{st, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].State < out[j].State
	})
	return out
}

func stateFlags(state string) map[string]bool {
	flags := map[string]bool{}
	for _, f := range strings.Split(state, "+") {
		flags[f] = true
	}
	return flags
}
