package main

// radosctl bench and cleanup, as `rados bench` and `rados cleanup`. The
// logic lives in client/bench; this file wires flags.

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/bench"
)

func init() {
	commandGroups = append(commandGroups, addBenchCommands)
}

func addBenchCommands(root *cobra.Command) {
	var cfg bench.Config
	var size, cpuProfile string
	b := &cobra.Command{
		Use:   "bench SECONDS write|seq|rand [-b SIZE] [-t CONCURRENCY] [--no-cleanup] [--run-name NAME]",
		Short: "Measure write or read bandwidth, IOPS and latency (like rados bench)",
		Long: "write keeps -t writes of -b bytes in flight for SECONDS and removes the objects afterwards\n" +
			"unless --no-cleanup; seq reads the objects of the last write run once, in order; rand reads\n" +
			"them at random for SECONDS. Output as rados bench, plus p50 and p99 latencies.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			secs, err := strconv.ParseFloat(args[0], 64)
			if err != nil || secs <= 0 {
				return fmt.Errorf("SECONDS %q: give a positive number of seconds", args[0])
			}
			cfg.Duration, cfg.Mode = time.Duration(secs*float64(time.Second)), args[1]
			if cfg.BlockSize, err = bench.ParseSize(size); err != nil {
				return err
			}
			return withPool(cmd, func(ctx context.Context, io *client.IOContext) error {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
				_, err = bench.Run(ctx, io, cfg, cmd.OutOrStdout())
				return err
			})
		},
	}
	f := b.Flags()
	f.StringVarP(&size, "block-size", "b", "4M", "size of each write and object (bytes, or with K, M, G)")
	f.IntVarP(&cfg.Concurrency, "concurrent-ios", "t", 16, "operations in flight")
	f.BoolVar(&cfg.NoCleanup, "no-cleanup", false, "keep the objects of a write run (for seq and rand)")
	f.StringVar(&cfg.RunName, "run-name", bench.DefaultRunName, "object recording the write run that seq, rand and cleanup use")
	f.BoolVar(&cfg.NoVerify, "no-verify", false, "do not check the data read back")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the client to this file (go tool pprof)")

	var runName, prefix string
	var concurrency int
	c := &cobra.Command{
		Use:   "cleanup [--run-name NAME] [--prefix PREFIX]",
		Short: "Remove the objects of a bench write run (like rados cleanup)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPool(cmd, func(ctx context.Context, io *client.IOContext) error {
				n, err := bench.Cleanup(ctx, io, runName, prefix, concurrency)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Removed %d objects\n", n)
				return nil
			})
		},
	}
	c.Flags().StringVar(&runName, "run-name", bench.DefaultRunName, "object recording the write run to remove")
	c.Flags().StringVar(&prefix, "prefix", "", "remove every object whose name starts with this instead")
	c.Flags().IntVarP(&concurrency, "concurrent-ios", "t", 16, "removals in flight")
	root.AddCommand(b, c)
}

// startCPUProfile profiles the process into path until the returned
// function is called; an empty path profiles nothing. Profiling covers the
// bench run only, not connecting to the cluster.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
