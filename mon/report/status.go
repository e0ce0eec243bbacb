package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gorados/gorados/client/monclient"
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
}

// Health is the overall state and its checks.
type Health struct {
	Status string        `json:"status"`
	Checks []HealthCheck `json:"checks"`
}

// poolDefaultSize is Ceph's osd_pool_default_size, used by TOO_FEW_OSDS.
const poolDefaultSize = 3

// ComputeHealth derives health from the map and the monitor quorum.
func ComputeHealth(m *cluster.OSDMap, st *monclient.MonStatus) Health {
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
	if len(h.Checks) > 0 {
		h.Status = HealthWarn
	}
	return h
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
}

// BuildStatus combines the map and the quorum into a Status.
func BuildStatus(m *cluster.OSDMap, st *monclient.MonStatus) *Status {
	s := &Status{FSID: m.FSID.String(), Health: ComputeHealth(m, st), Epoch: uint32(m.Epoch),
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
	fmt.Fprintf(&b, "\n\n  data:\n    pools:   %d pools, %d pgs\n    osdmap:  e%d\n", s.NumPools, s.NumPGs, s.Epoch)
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
		fmt.Fprintf(&b, "[WRN] %s: %s\n", c.Code, c.Summary)
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
