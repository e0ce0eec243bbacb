package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/client/pgstats"
	"github.com/gorados/gorados/cluster"
)

// Health levels, as Ceph prints them.
const (
	HealthOK   = "HEALTH_OK"
	HealthWarn = "HEALTH_WARN"
	HealthErr  = "HEALTH_ERR"
)

// HealthCheck is one named problem.
type HealthCheck struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	// Detail names what the check is about, one item per line (`health
	// detail`), at most detailMax lines.
	Detail []string `json:"detail,omitempty"`
}

// detailMax bounds the detail lines of one check.
const detailMax = 50

// Health is the overall state and its checks.
type Health struct {
	Status string        `json:"status"`
	Checks []HealthCheck `json:"checks"`
}

// poolDefaultSize is Ceph's osd_pool_default_size, used by TOO_FEW_OSDS.
const poolDefaultSize = 3

// ComputeHealth derives health from the map, the monitor quorum and, when
// they were gathered (pgs non-nil), the PGs' states.
func ComputeHealth(m *cluster.OSDMap, st *monclient.MonStatus, pgs *pgstats.Summary) Health {
	h := Health{Status: HealthOK, Checks: []HealthCheck{}}
	warn := func(code, format string, a ...any) {
		h.Checks = append(h.Checks, HealthCheck{Code: code, Severity: HealthWarn, Summary: fmt.Sprintf(format, a...)})
	}
	if st != nil && st.QuorumKnown {
		in, out := quorum(st)
		if len(out) > 0 {
			warn("MON_DOWN", "%d/%d mons down, quorum %s", len(out), len(st.Members), strings.Join(in, ","))
		}
	}
	osds, up, _ := osdCounts(m)
	if down := osds - up; down > 0 {
		warn("OSD_DOWN", "%d osds down", down)
	}
	if f := m.Flags &^ cluster.FlagSortBitwise; f != 0 {
		warn("OSDMAP_FLAGS", "%s flag(s) set", f.String())
	}
	if osds < poolDefaultSize {
		warn("TOO_FEW_OSDS", "OSD count %d < osd_pool_default_size %d", osds, poolDefaultSize)
	}
	if pgs != nil {
		pgHealth(pgs, warn)
		if fullHealth(m, pgs, warn) {
			h.Status = HealthErr
			for i := range h.Checks {
				if h.Checks[i].Code == "OSD_FULL" {
					h.Checks[i].Severity = HealthErr
				}
			}
		}
	}
	if len(h.Checks) > 0 && h.Status == HealthOK {
		h.Status = HealthWarn
	}
	addDetails(&h, m, pgs)
	return h
}

// pgHealth adds Ceph's PG checks: PGs not serving I/O or not reported by
// their primary (PG_AVAILABILITY), PGs with fewer copies than the pool's
// size (PG_DEGRADED).
func pgHealth(pgs *pgstats.Summary, warn func(code, format string, a ...any)) {
	if pgs.Inactive > 0 {
		msg := fmt.Sprintf("Reduced data availability: %d pgs inactive", pgs.Inactive)
		if pgs.Stale > 0 {
			msg += fmt.Sprintf(", %d pgs stale", pgs.Stale)
		}
		warn("PG_AVAILABILITY", "%s", msg)
	} else if pgs.Stale > 0 {
		warn("PG_AVAILABILITY", "Reduced data availability: %d pgs stale", pgs.Stale)
	}
	if pgs.Degraded > 0 || pgs.Undersized > 0 {
		warn("PG_DEGRADED", "Degraded data redundancy: %d pgs degraded, %d pgs undersized", pgs.Degraded, pgs.Undersized)
	}
}

// addDetails lists the down OSDs and the unhealthy PGs under their checks.
func addDetails(h *Health, m *cluster.OSDMap, pgs *pgstats.Summary) {
	var down, unavailable, degraded []string
	for i := range m.OSDs {
		if id := int32(i); m.Exists(id) && !m.IsUp(id) {
			where := ""
			if h := m.OSDs[i].Host; h != "" {
				where = " (host " + h + ")"
			}
			down = append(down, fmt.Sprintf("osd.%d%s is down", id, where))
		}
	}
	if pgs != nil {
		for _, p := range pgs.Unhealthy {
			line := fmt.Sprintf("pg %s is %s, acting %s", p.PGID, p.State, osdList(p.Acting))
			if p.Note != "" {
				line += ": " + p.Note
			}
			flags := strings.Split(p.State, "+")
			if !slices.Contains(flags, "active") || slices.Contains(flags, "stale") {
				unavailable = append(unavailable, line)
			} else {
				degraded = append(degraded, line)
			}
		}
	}
	for i := range h.Checks {
		switch h.Checks[i].Code {
		case "OSD_DOWN":
			h.Checks[i].Detail = capLines(down)
		case "PG_AVAILABILITY":
			h.Checks[i].Detail = capLines(unavailable)
		case "PG_DEGRADED":
			h.Checks[i].Detail = capLines(degraded)
		}
	}
}

func capLines(lines []string) []string {
	if len(lines) <= detailMax {
		return lines
	}
	return append(lines[:detailMax:detailMax], fmt.Sprintf("... and %d more", len(lines)-detailMax))
}

// fullHealth adds Ceph's OSD_FULL, OSD_BACKFILLFULL and OSD_NEARFULL
// checks from the OSDs' file system use against the map's ratios; it
// reports whether an OSD is full (HEALTH_ERR in Ceph).
func fullHealth(m *cluster.OSDMap, pgs *pgstats.Summary, warn func(code, format string, a ...any)) bool {
	var full, backfill, near []string
	for _, id := range slices.Sorted(maps.Keys(pgs.Fullness)) {
		name, f := fmt.Sprintf("osd.%d", id), float32(pgs.Fullness[id])
		switch {
		case m.FullRatio > 0 && f >= m.FullRatio:
			full = append(full, name)
		case m.BackfillFullRatio > 0 && f >= m.BackfillFullRatio:
			backfill = append(backfill, name)
		case m.NearFullRatio > 0 && f >= m.NearFullRatio:
			near = append(near, name)
		}
	}
	if len(full) > 0 {
		warn("OSD_FULL", "%d full osd(s): %s (file system use at or above the full ratio %g)", len(full), strings.Join(full, ", "), m.FullRatio)
	}
	if len(backfill) > 0 {
		warn("OSD_BACKFILLFULL", "%d backfillfull osd(s): %s", len(backfill), strings.Join(backfill, ", "))
	}
	if len(near) > 0 {
		warn("OSD_NEARFULL", "%d nearfull osd(s): %s", len(near), strings.Join(near, ", "))
	}
	return len(full) > 0
}

func quorum(st *monclient.MonStatus) (in, out []string) {
	for _, mem := range st.Members {
		if mem.InQuorum {
			in = append(in, mem.Name)
		} else {
			out = append(out, mem.Name)
		}
	}
	return in, out
}

func osdCounts(m *cluster.OSDMap) (exists, up, in int) {
	for id := range m.OSDs {
		if !m.Exists(int32(id)) {
			continue
		}
		exists++
		if m.IsUp(int32(id)) {
			up++
		}
		if m.IsIn(int32(id)) {
			in++
		}
	}
	return exists, up, in
}

// Status is `radosctl status` (Ceph's `ceph -s`).
type Status struct {
	FSID      string   `json:"fsid"`
	Health    Health   `json:"health"`
	Epoch     uint32   `json:"epoch"`
	Monitors  []string `json:"monmap_members"`
	Quorum    []string `json:"quorum_names"`
	OutQuorum []string `json:"out_of_quorum_names"`
	Leader    string   `json:"leader"`
	Term      uint64   `json:"raft_term"`
	NumOSDs   int      `json:"num_osds"`
	NumUpOSDs int      `json:"num_up_osds"`
	NumInOSDs int      `json:"num_in_osds"`
	NumPools  int      `json:"num_pools"`
	NumPGs    uint64   `json:"num_pgs"`
	Flags     string   `json:"flags"`
	// PGMap is what the PGs' primaries reported (nil: not gathered).
	PGMap *PGMap `json:"pgmap,omitempty"`
}

// PGMap summarizes the PGs' states and usage, as the "pgmap" of
// `ceph -s --format json`.
type PGMap struct {
	ByState    []PGStateCount `json:"pgs_by_state"`
	NumPGs     int            `json:"num_pgs"`
	NumObjects uint64         `json:"num_objects"`
	DataBytes  uint64         `json:"data_bytes"`
	BytesUsed  uint64         `json:"bytes_used"`
	BytesAvail uint64         `json:"bytes_avail"`
	BytesTotal uint64         `json:"bytes_total"`
}

// PGStateCount is a number of PGs in one state.
type PGStateCount struct {
	State string `json:"state_name"`
	Count int    `json:"count"`
}

// BuildPGMap converts a summary for printing.
func BuildPGMap(s *pgstats.Summary) *PGMap {
	pm := &PGMap{ByState: []PGStateCount{}, NumPGs: s.NumPGs, NumObjects: s.Objects, DataBytes: s.Bytes,
		BytesUsed: s.UsedBytes, BytesAvail: s.AvailBytes, BytesTotal: s.TotalBytes}
	for _, c := range s.States() {
		pm.ByState = append(pm.ByState, PGStateCount{c.State, c.Count})
	}
	return pm
}

// BuildStatus combines the map, the quorum and the PGs' states (pgs may
// be nil: not gathered) into a Status.
func BuildStatus(m *cluster.OSDMap, st *monclient.MonStatus, pgs *pgstats.Summary) *Status {
	s := &Status{FSID: m.FSID.String(), Health: ComputeHealth(m, st, pgs), Epoch: uint32(m.Epoch),
		Leader: st.Leader, Term: st.Term, NumPools: len(m.Pools), Flags: m.Flags.String(),
		Quorum: []string{}, OutQuorum: []string{}}
	for _, mem := range st.Members {
		s.Monitors = append(s.Monitors, mem.Name)
	}
	s.Quorum, s.OutQuorum = quorum(st)
	if s.Quorum == nil {
		s.Quorum = []string{}
	}
	if s.OutQuorum == nil {
		s.OutQuorum = []string{}
	}
	s.NumOSDs, s.NumUpOSDs, s.NumInOSDs = osdCounts(m)
	for _, p := range m.Pools {
		s.NumPGs += uint64(p.PGNum)
	}
	if pgs != nil {
		s.PGMap = BuildPGMap(pgs)
	}
	return s
}

// WriteStatus prints a Status in the layout of `ceph -s`.
func WriteStatus(w io.Writer, s *Status) error {
	var b strings.Builder
	fmt.Fprintf(&b, "  cluster:\n    id:     %s\n    health: %s\n", s.FSID, s.Health.Status)
	for _, c := range s.Health.Checks {
		fmt.Fprintf(&b, "            %s\n", c.Summary)
	}
	fmt.Fprintf(&b, "\n  services:\n    mon: %d daemons, quorum %s (leader %s)", len(s.Monitors), strings.Join(s.Quorum, ","), s.Leader)
	if len(s.OutQuorum) > 0 {
		fmt.Fprintf(&b, ", out of quorum: %s", strings.Join(s.OutQuorum, ", "))
	}
	fmt.Fprintf(&b, "\n    osd: %d osds: %d up, %d in", s.NumOSDs, s.NumUpOSDs, s.NumInOSDs)
	if s.Flags != "" {
		fmt.Fprintf(&b, "\n         flags %s", s.Flags)
	}
	fmt.Fprintf(&b, "\n\n  data:\n    pools:   %d pools, %d pgs\n", s.NumPools, s.NumPGs)
	if pm := s.PGMap; pm != nil {
		fmt.Fprintf(&b, "    objects: %s objects, %s\n", humanCount(pm.NumObjects), humanBytes(pm.DataBytes))
		fmt.Fprintf(&b, "    usage:   %s used, %s / %s avail\n", humanBytes(pm.BytesUsed), humanBytes(pm.BytesAvail), humanBytes(pm.BytesTotal))
	}
	fmt.Fprintf(&b, "    osdmap:  e%d\n", s.Epoch)
	if pm := s.PGMap; pm != nil && len(pm.ByState) > 0 {
		for i, c := range pm.ByState {
			label := "             "
			if i == 0 {
				label = "    pgs:     "
			}
			fmt.Fprintf(&b, "%s%d %s\n", label, c.Count, c.State)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MonStat is `radosctl mon stat`.
type MonStat struct {
	Epoch       uint32   `json:"epoch"`
	Members     []string `json:"members"`
	Addrs       []string `json:"addrs"`
	Leader      string   `json:"leader"`
	Quorum      []string `json:"quorum"`
	Term        uint64   `json:"raft_term"`
	CommitIndex uint64   `json:"commit_index"`
}

// BuildMonStat summarizes the monitors.
func BuildMonStat(st *monclient.MonStatus) *MonStat {
	ms := &MonStat{Epoch: uint32(st.Epoch), Leader: st.Leader, Term: st.Term, CommitIndex: st.CommitIndex, Quorum: []string{}}
	for _, mem := range st.Members {
		ms.Members = append(ms.Members, mem.Name)
		ms.Addrs = append(ms.Addrs, mem.Addr)
		if mem.InQuorum {
			ms.Quorum = append(ms.Quorum, mem.Name)
		}
	}
	return ms
}

// WriteMonStat prints one line like `ceph mon stat`.
func WriteMonStat(w io.Writer, ms *MonStat) error {
	var parts []string
	for i, n := range ms.Members {
		parts = append(parts, fmt.Sprintf("%s=%s", n, ms.Addrs[i]))
	}
	_, err := fmt.Fprintf(w, "e%d: %d mons at {%s}, raft term %d, leader %s, quorum %s\n",
		ms.Epoch, len(ms.Members), strings.Join(parts, ","), ms.Term, ms.Leader, strings.Join(ms.Quorum, ","))
	return err
}

// WriteHealth prints the health like `ceph health detail`.
func WriteHealth(w io.Writer, h Health) error {
	var b strings.Builder
	b.WriteString(h.Status)
	if len(h.Checks) > 0 {
		var sums []string
		for _, c := range h.Checks {
			sums = append(sums, c.Summary)
		}
		b.WriteString(" " + strings.Join(sums, "; "))
	}
	b.WriteString("\n")
	for _, c := range h.Checks {
		tag := "WRN"
		if c.Severity == HealthErr {
			tag = "ERR"
		}
		fmt.Fprintf(&b, "[%s] %s: %s\n", tag, c.Code, c.Summary)
		for _, d := range c.Detail {
			fmt.Fprintf(&b, "    %s\n", d)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedPools(m *cluster.OSDMap) []*cluster.Pool {
	ps := make([]*cluster.Pool, 0, len(m.Pools))
	for _, p := range m.Pools {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *cluster.Pool) int { return int(a.ID - b.ID) })
	return ps
}
