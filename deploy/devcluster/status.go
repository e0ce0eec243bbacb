package devcluster

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// DaemonStatus is one daemon as `dev status` shows it.
type DaemonStatus struct {
	*Daemon
	PID     int
	Running bool
	// MapState is "up in", "down out", ... for an OSD in the map ("" when
	// unknown).
	MapState string
}

// Status is what `dev status` shows.
type Status struct {
	Dir      string
	Daemons  []DaemonStatus
	FSID     string
	Epoch    uint32
	Quorum   string
	Pools    []string
	PGStates map[string]float64 // PG instances by state, summed over OSDs
	// MonErr is set when the monitors could not be asked.
	MonErr error
}

// Status gathers the processes' state, the map's view of the OSDs, the
// pools and the PG states the OSDs report.
func (c *Cluster) Status(ctx context.Context) *Status {
	s := &Status{Dir: c.dir, PGStates: map[string]float64{}}
	for _, d := range c.layout.Daemons {
		pid, ok := c.pidOf(d)
		s.Daemons = append(s.Daemons, DaemonStatus{Daemon: d, PID: pid, Running: ok})
	}
	c.monStatus(ctx, s)
	for _, m := range c.ScrapeOSDs(ctx) {
		for k, v := range m {
			if strings.HasPrefix(k, "gorados_osd_pgs{") && v != 0 {
				state := strings.TrimSuffix(strings.TrimPrefix(k, `gorados_osd_pgs{state="`), `"}`)
				s.PGStates[state] += v
			}
		}
	}
	return s
}

// monStatus fills what the monitors know.
func (c *Cluster) monStatus(ctx context.Context, s *Status) {
	mc, err := c.MonClient()
	if err != nil {
		s.MonErr = err
		return
	}
	defer mc.Close()
	st, err := mc.Status(ctx)
	if err != nil {
		s.MonErr = err
		return
	}
	in := 0
	for _, m := range st.Members {
		if m.InQuorum {
			in++
		}
	}
	s.Quorum = fmt.Sprintf("%d/%d monitors in quorum, leader %q", in, len(st.Members), st.Leader)
	m, err := mc.GetMap(ctx)
	if err != nil {
		s.MonErr = err
		return
	}
	s.FSID, s.Epoch = m.FSID.String(), uint32(m.Epoch)
	for i := range s.Daemons {
		d := &s.Daemons[i]
		if d.Kind == KindOSD && m.Exists(d.ID) {
			d.MapState = map[bool]string{true: "up", false: "down"}[m.IsUp(d.ID)] + " " + map[bool]string{true: "in", false: "out"}[m.IsIn(d.ID)]
		}
	}
	for _, p := range m.Pools {
		s.Pools = append(s.Pools, fmt.Sprintf("pool %d %q: size %d, min_size %d, %d PGs", p.ID, p.Name, p.Size, p.MinSize, p.PGNum))
	}
	sort.Strings(s.Pools)
}

// Write prints s as a table.
func (s *Status) Write(w io.Writer) {
	fmt.Fprintf(w, "dev cluster in %s\n", s.Dir)
	if s.MonErr != nil {
		fmt.Fprintf(w, "monitors: %v\n", s.MonErr)
	} else {
		fmt.Fprintf(w, "cluster %s, map epoch %d, %s\n", s.FSID, s.Epoch, s.Quorum)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPID\tPROCESS\tMAP\tHOST\tADDRESS\tCLUSTER ADDRESS\tMETRICS")
	for _, d := range s.Daemons {
		pid, proc := "-", "stopped"
		if d.Running {
			pid, proc = fmt.Sprint(d.PID), "running"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, pid, proc, dash(d.MapState), dash(d.Host), d.Addr, dash(d.ClusterAddr), d.HTTPAddr)
	}
	tw.Flush()
	for _, p := range s.Pools {
		fmt.Fprintln(w, p)
	}
	if len(s.PGStates) > 0 {
		var parts []string
		for st, n := range s.PGStates {
			parts = append(parts, fmt.Sprintf("%s %.0f", st, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "PG replicas by state (all OSDs): %s\n", strings.Join(parts, ", "))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
