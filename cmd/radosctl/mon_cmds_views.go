package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/cluster"
)

type mapArg struct {
	ctx  context.Context // bounded by --timeout
	m    *cluster.OSDMap
	args []string
}

// mapView is a read command that fetches the current map (linearizably)
// and renders it; it takes --format.
func mapView(use, short string, fn func(cmd *cobra.Command, m *mapArg) error) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, RunE: func(cmd *cobra.Command, args []string) error {
		return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
			m, err := c.GetMap(ctx)
			if err != nil {
				return err
			}
			return fn(cmd, &mapArg{ctx: ctx, m: m, args: args})
		})
	}}
	addFormatFlag(c)
	return c
}

// osdMapLiveResult is the JSON form of the live `osd map`.
type osdMapLiveResult struct {
	Epoch         uint32  `json:"epoch"`
	Pool          string  `json:"pool"`
	PoolID        int64   `json:"pool_id"`
	Object        string  `json:"objname"`
	Namespace     string  `json:"namespace"`
	RawPGID       string  `json:"raw_pgid"`
	PGID          string  `json:"pgid"`
	Up            []int32 `json:"up"`
	UpPrimary     int32   `json:"up_primary"`
	Acting        []int32 `json:"acting"`
	ActingPrimary int32   `json:"acting_primary"`
}

// runOSDMapLive is `radosctl osd map POOL OBJECT`: where an object lives in
// the current map, in the line `ceph osd map` prints.
func runOSDMapLive(cmd *cobra.Command, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: radosctl osd map POOL OBJECT (or the offline form with --crush)")
	}
	ns, _ := cmd.Flags().GetString("namespace")
	return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
		m, err := c.GetMap(ctx)
		if err != nil {
			return err
		}
		p := m.PoolByName(args[0])
		if p == nil {
			return fmt.Errorf("pool '%s' does not exist: see `radosctl osd pool ls`", args[0])
		}
		var mp cluster.Mapping
		line, err := m.AppendObjectMapping(nil, p.ID, ns, args[1], &mp)
		if err != nil {
			return err
		}
		raw := cluster.PGID{Pool: p.ID, Seed: p.HashKey(args[1], ns)}
		res := osdMapLiveResult{Epoch: uint32(m.Epoch), Pool: p.Name, PoolID: p.ID, Object: args[1], Namespace: ns,
			RawPGID: raw.String(), PGID: mp.PG.String(), Up: nonNil(mp.Up), UpPrimary: mp.UpPrimary,
			Acting: nonNil(mp.Acting), ActingPrimary: mp.ActingPrimary}
		return output(cmd, res, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "%s\n", line)
			return err
		})
	})
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

// writeFileOrStdout writes data to path, or to stdout for "-".
func writeFileOrStdout(cmd *cobra.Command, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
