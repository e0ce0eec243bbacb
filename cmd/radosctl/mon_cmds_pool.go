package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/mon/report"
)

// defaultPGNum is the pg_num of `osd pool create NAME` without one (Ceph's
// osd_pool_default_pg_num).
const defaultPGNum = 32

func addPoolCommands(root *cobra.Command) {
	osd := subcommand(root, "osd", "OSD and placement commands")
	pool := subcommand(osd, "pool", "Pool commands")
	pool.AddCommand(poolCreateCmd(), poolRmCmd(), poolSetCmd(), poolLsCmd(), poolGetCmd())
}

func parseU32(what, s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a non-negative integer", what, s)
	}
	return uint32(n), nil
}

func poolCreateCmd() *cobra.Command {
	var size, minSize uint32
	var rule string
	c := &cobra.Command{
		Use:   "create POOL [PG_NUM [PGP_NUM]]",
		Short: "Create a replicated pool (pg_num defaults to 32)",
		Args:  cobra.RangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := monclient.PoolCreateOpts{Name: args[0], PGNum: defaultPGNum, CrushRule: rule}
			var err error
			if len(args) > 1 {
				if o.PGNum, err = parseU32("pg_num", args[1]); err != nil {
					return err
				}
			}
			if len(args) > 2 {
				v, err := parseU32("pgp_num", args[2])
				if err != nil {
					return err
				}
				o.PGPNum = &v
			}
			if cmd.Flags().Changed("size") {
				o.Size = &size
			}
			if cmd.Flags().Changed("min-size") {
				o.MinSize = &minSize
			}
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				r, err := c.PoolCreate(ctx, o)
				return printResult(cmd, r, err)
			})
		},
	}
	c.Flags().Uint32Var(&size, "size", 3, "replicas")
	c.Flags().Uint32Var(&minSize, "min-size", 0, "replicas needed to serve I/O (default size - size/2)")
	c.Flags().StringVar(&rule, "rule", "", "CRUSH rule name (default replicated_rule)")
	return c
}

func poolRmCmd() *cobra.Command {
	var sure bool
	c := &cobra.Command{
		Use:   "rm POOL POOL --yes-i-really-really-mean-it",
		Short: "Remove a pool and all its data",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != args[1] || !sure {
				return fmt.Errorf("removing pool '%s' destroys its data: repeat the pool name and add --yes-i-really-really-mean-it", args[0])
			}
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				r, err := c.PoolRm(ctx, args[0])
				return printResult(cmd, r, err)
			})
		},
	}
	c.Flags().BoolVar(&sure, "yes-i-really-really-mean-it", false, "confirm the removal")
	return c
}

func poolSetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "set POOL KEY VALUE",
		Short: "Set size, min_size, pg_num, pgp_num or crush_rule of a pool",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				r, err := c.PoolSet(ctx, args[0], args[1], args[2])
				return printResult(cmd, r, err)
			})
		},
	}
}

func poolLsCmd() *cobra.Command {
	return mapView("ls [detail]", "List pools", func(cmd *cobra.Command, m *mapArg) error {
		detail := len(m.args) > 0 && m.args[0] == "detail"
		if len(m.args) > 1 || (len(m.args) == 1 && !detail) {
			return fmt.Errorf("usage: radosctl osd pool ls [detail]")
		}
		var pools []report.PoolInfo
		names := []string{}
		for _, p := range report.BuildDump(m.m).Pools {
			pools = append(pools, p)
			names = append(names, p.Name)
		}
		var v any = names
		if detail {
			v = pools
		}
		return output(cmd, v, func(w io.Writer) error {
			for _, p := range pools {
				line := p.Name
				if detail {
					line = report.PoolLine(p)
				}
				if _, err := fmt.Fprintln(w, line); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

func poolGetCmd() *cobra.Command {
	return mapView("get POOL KEY|all", "Show pool variables", func(cmd *cobra.Command, m *mapArg) error {
		if len(m.args) != 2 {
			return fmt.Errorf("usage: radosctl osd pool get POOL KEY|all")
		}
		p := m.m.PoolByName(m.args[0])
		if p == nil {
			return fmt.Errorf("pool '%s' does not exist: see `radosctl osd pool ls`", m.args[0])
		}
		kvs, err := report.PoolGet(m.m, p, m.args[1])
		if err != nil {
			return err
		}
		obj := map[string]any{"pool": p.Name, "pool_id": p.ID}
		for _, kv := range kvs {
			obj[kv[0]] = kv[1]
		}
		return output(cmd, obj, func(w io.Writer) error {
			for _, kv := range kvs {
				if _, err := fmt.Fprintf(w, "%s: %s\n", kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
