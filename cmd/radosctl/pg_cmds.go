package main

// PG and space views: `pg stat`, `pg dump`, `osd df`, and the PG part of
// `status` and `health`, gathered from the OSDs (client/pgstats).

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/client/pgstats"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/mon/report"
)

func init() {
	commandGroups = append(commandGroups, addPGCommands)
}

// gatherPGs asks the up OSDs of m for their PGs' states (of one pool when
// pool is positive) and their space.
func gatherPGs(ctx context.Context, m *cluster.OSDMap, pool int64) (*pgstats.Report, error) {
	r, err := pgstats.Gather(ctx, m, pgstats.Options{Pool: pool})
	if err != nil {
		return nil, fmt.Errorf("gather PG states from the OSDs: %w", err)
	}
	return r, nil
}

// clusterView fetches the map and the quorum, and the PGs' states from
// their primaries.
func clusterView(ctx context.Context, c *monclient.Client) (*cluster.OSDMap, *monclient.MonStatus, *pgstats.Summary, error) {
	m, err := c.GetMap(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := gatherPGs(ctx, m, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	sum := pgstats.Summarize(r)
	return m, st, &sum, nil
}

func addPGCommands(root *cobra.Command) {
	pg := subcommand(root, "pg", "PG commands")
	stat := mapView("stat", "Show PG states and usage in one line (like ceph pg stat)", func(cmd *cobra.Command, m *mapArg) error {
		r, err := gatherPGs(m.ctx, m.m, 0)
		if err != nil {
			return err
		}
		sum := pgstats.Summarize(r)
		s := report.BuildPGStat(&sum)
		return output(cmd, s, func(w io.Writer) error { return report.WritePGStat(w, s) })
	})
	dump := mapView("dump", "Show every PG: state, usage, up and acting sets (like ceph pg dump pgs)", func(cmd *cobra.Command, m *mapArg) error {
		var pool int64
		if name, _ := cmd.Flags().GetString("pool"); name != "" {
			p := m.m.PoolByName(name)
			if p == nil {
				return fmt.Errorf("pool %q does not exist: `radosctl osd pool ls` lists the pools", name)
			}
			pool = p.ID
		}
		r, err := gatherPGs(m.ctx, m.m, pool)
		if err != nil {
			return err
		}
		d := &report.PGDump{PGs: r.PGs}
		return output(cmd, d, func(w io.Writer) error { return report.WritePGDump(w, d) })
	})
	dump.Flags().StringP("pool", "p", "", "only the PGs of this pool")
	pg.AddCommand(stat, dump)
	df := mapView("df", "Show each OSD's space, data and PG count (like ceph osd df)", func(cmd *cobra.Command, m *mapArg) error {
		r, err := gatherPGs(m.ctx, m.m, 0)
		if err != nil {
			return err
		}
		d := report.BuildDF(m.m, r)
		return output(cmd, d, func(w io.Writer) error { return report.WriteDF(w, d) })
	})
	subcommand(root, "osd", "OSD and placement commands").AddCommand(df)
}
