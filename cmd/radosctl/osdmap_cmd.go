package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
	"github.com/spf13/cobra"
)

// osdMapLive, when set by the online command files, serves `radosctl osd map`
// without --crush (the live form against the monitors). osdMapLiveFlags lets
// them add their flags to the shared command.
var (
	osdMapLive      func(cmd *cobra.Command, args []string) error
	osdMapLiveFlags func(cmd *cobra.Command)
)

func init() {
	commandGroups = append(commandGroups, addOSDMapCommand)
}

// osdMapFlags are the flags of the offline form.
type osdMapFlags struct {
	crushPath string
	poolID    int64
	pgNum     int64
	pgpNum    int64
	size      int
	rule      int
	out       []int
	namespace string
	pgs       bool
}

func addOSDMapCommand(root *cobra.Command) {
	osd := subcommand(root, "osd", "OSD and placement commands")
	var f osdMapFlags
	cmd := &cobra.Command{
		Use:   "map --crush MAP --pool-id P --pg-num N [flags] OBJECT...",
		Short: "Show where objects (or, with --pgs, all PGs) map, offline from a CRUSH map",
		Long: "With --crush, builds a one-pool map around a CRUSH map (text or binary): every\n" +
			"device exists, is up and in except the --out ones, the pool is replicated with\n" +
			"HASHPSPOOL. Prints what `ceph osd map` prints for each object, or with --pgs what\n" +
			"`osdmaptool --test-map-pgs-dump-all` prints for every PG.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.crushPath == "" && osdMapLive != nil {
				return osdMapLive(cmd, args)
			}
			return runOSDMapOffline(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.crushPath, "crush", "", "CRUSH map file, text or binary (offline form)")
	fl.Int64Var(&f.poolID, "pool-id", 0, "pool id")
	fl.Int64Var(&f.pgNum, "pg-num", 0, "pg_num of the pool (1 .. 2^31-1)")
	fl.Int64Var(&f.pgpNum, "pgp-num", 0, "pgp_num of the pool (default pg_num)")
	fl.IntVar(&f.size, "size", 3, "pool size (replicas)")
	fl.IntVar(&f.rule, "rule", 0, "CRUSH rule id")
	fl.IntSliceVar(&f.out, "out", nil, "OSD id marked out (reweight 0); repeatable")
	fl.StringVar(&f.namespace, "namespace", "", "RADOS namespace of the objects")
	fl.BoolVar(&f.pgs, "pgs", false, "dump every PG instead of mapping objects")
	if osdMapLiveFlags != nil {
		osdMapLiveFlags(cmd)
	}
	osd.AddCommand(cmd)
}

// runOSDMapOffline validates the flags, loads the CRUSH map and prints.
func runOSDMapOffline(cmd *cobra.Command, f *osdMapFlags, objects []string) error {
	if f.crushPath == "" {
		return errors.New("--crush MAP is required (the live form needs the monitor commands)")
	}
	if !f.pgs && len(objects) == 0 {
		return errors.New("name at least one OBJECT, or use --pgs to dump every PG")
	}
	if f.pgNum <= 0 || f.pgNum > cluster.PGNumMax {
		return fmt.Errorf("--pg-num %d is outside 1..%d", f.pgNum, int64(cluster.PGNumMax))
	}
	if f.pgpNum < 0 || f.pgpNum > f.pgNum {
		return fmt.Errorf("--pgp-num %d must be between 1 and --pg-num %d", f.pgpNum, f.pgNum)
	}
	data, err := os.ReadFile(f.crushPath)
	if err != nil {
		return fmt.Errorf("cannot read the CRUSH map: %w", err)
	}
	cm, err := crush.Load(data)
	if err != nil {
		return fmt.Errorf("%s: %w", f.crushPath, err)
	}
	cfg := cluster.OfflineConfig{Crush: cm, PoolID: f.poolID, PGNum: uint64(f.pgNum),
		PGPNum: uint64(f.pgpNum), Size: f.size, Rule: f.rule}
	for _, o := range f.out {
		if o < 0 || int64(o) > int64(^uint32(0)>>1) {
			return fmt.Errorf("--out %d: the CRUSH map has no device %d", o, o)
		}
		cfg.Out = append(cfg.Out, int32(o))
	}
	m, err := cluster.NewOfflineMap(cfg)
	if err != nil {
		return err
	}
	if f.pgs {
		return m.WritePGMappings(cmd.OutOrStdout(), f.poolID)
	}
	return m.WriteObjectMappings(cmd.OutOrStdout(), f.poolID, f.namespace, objects)
}
