// Command osd runs one gorados object storage daemon and its offline tools.
//
//	osd mkfs --data DIR --mon ADDRS [--host NAME] [--class hdd|ssd|nvme]
//	osd --data DIR --public-addr HOST:PORT --cluster-addr HOST:PORT [--metrics-addr HOST:PORT]
//	osd store list|list-pgs|export|import|get --data DIR ...   (OSD stopped)
//
// This file holds flag parsing and wiring only; the logic is in package osd.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/osd"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "osd: %v\n", err)
		return 1
	}
	return 0
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	var cfg osd.RunConfig
	var mons, level string
	var crushUpdate bool
	root := &cobra.Command{
		Use:           "osd --data DIR --public-addr HOST:PORT --cluster-addr HOST:PORT",
		Short:         "Run a gorados OSD (object storage daemon)",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(stderr, level)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			tuneGC(cfg.CacheBytes)
			cfg.Monitors = monclient.ParseAddrs(mons)
			cfg.KeepCrushLocation = !crushUpdate
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return osd.Run(ctx, cfg)
		},
	}
	f := root.Flags()
	f.StringVar(&cfg.DataDir, "data", "", "data directory prepared by osd mkfs (required)")
	f.StringVar(&cfg.PublicAddr, "public-addr", "", "HOST:PORT for clients (required)")
	f.StringVar(&cfg.ClusterAddr, "cluster-addr", "", "HOST:PORT for replication and peering (required)")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "HOST:PORT for /metrics and /healthz")
	f.StringVar(&mons, "mon", "", "monitor addresses HOST:PORT,... (default: those given to mkfs)")
	f.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	f.BoolVar(&crushUpdate, "crush-update-on-start", true, "place this OSD under its host in CRUSH at boot (false: keep the operator's CRUSH map)")
	f.Int64Var(&cfg.CacheBytes, "cache-bytes", defaultCacheBytes, "memory for recently read object data, bytes (0: none)")
	f.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", osd.DefaultHeartbeatInterval, "how often to ping the OSDs this one shares PGs with")
	f.DurationVar(&cfg.HeartbeatGrace, "heartbeat-grace", osd.DefaultHeartbeatGrace, "how long a peer may not answer before it is reported to the monitors")
	_ = root.MarkFlagRequired("data")
	root.AddCommand(newMkfs(stdout), newStore(stdout))
	return root
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func newMkfs(stdout io.Writer) *cobra.Command {
	var cfg osd.MkfsConfig
	var mons string
	cmd := &cobra.Command{
		Use:   "mkfs --data DIR --mon ADDRS [--host NAME] [--class hdd|ssd|nvme]",
		Short: "Prepare a data directory: get an OSD id and the fsid from the monitors, create the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Monitors = monclient.ParseAddrs(mons)
			sb, err := osd.Mkfs(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created osd.%d of cluster %s in %s (host %s, class %s)\n", sb.ID, sb.FSID, cfg.DataDir, sb.Host, sb.DeviceClass)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", "", "data directory to create (required)")
	f.StringVar(&mons, "mon", "", "monitor addresses HOST:PORT,... (required)")
	f.StringVar(&cfg.Host, "host", "", "CRUSH host of this OSD (default: the hostname)")
	f.StringVar(&cfg.DeviceClass, "class", "hdd", "device class: hdd, ssd or nvme")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("mon")
	return cmd
}

// defaultCacheBytes is the OSD's block cache unless --cache-bytes says
// otherwise: with it an OSD's resident memory after a bench stays near a
// Ceph 16 OSD's (670-915 MiB on the test machine, docs/BENCHMARKS.md).
const defaultCacheBytes = 512 << 20

// gcPercent is the running OSD's GOGC unless the environment sets one.
// Most of an OSD's allocations are the 4 MiB buffers of the ops in flight,
// each garbage within milliseconds; with Go's default of 100 the collector
// ran several times a second under 4 MiB writes, and every cycle handed
// buffers back to be zeroed and faulted in again. At 400, 4 MiB rados bench
// writes went from 259 to 291 MiB/s on the 2-core test machine, for an
// anonymous RSS of 380-470 MiB under that load (docs/BENCHMARKS.md).
const gcPercent = 400

// gcHeadroom is the memory limit above the block cache: with a full
// cache the live heap is the cache plus the ops in flight, and GOGC 400
// alone would let the heap grow to five times that before collecting.
const gcHeadroom = 768 << 20

func tuneGC(cacheBytes int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(max(cacheBytes, 0) + gcHeadroom)
	}
}

// errUsage marks command-line mistakes.
var errUsage = errors.New("usage")
