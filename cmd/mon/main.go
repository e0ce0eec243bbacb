// Command mon runs one gorados monitor.
//
// First start of a new cluster (on every member, with the same list):
//
//	mon --id a --data /var/lib/gorados/mon-a --addr 10.0.0.1:6789 \
//	    --initial-members a=10.0.0.1:6789,b=10.0.0.2:6789,c=10.0.0.3:6789 --http 10.0.0.1:9283
//
// Later starts: mon --data /var/lib/gorados/mon-a
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gorados/gorados/mon"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

type options struct {
	cfg      mon.Config
	members  string
	logLevel string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cfg.Name, "id", "", "monitor name (first start only), e.g. a")
	fs.StringVar(&o.cfg.DataDir, "data", "", "data directory (required)")
	fs.StringVar(&o.cfg.ListenAddr, "addr", "", "gRPC listen address HOST:PORT (first start; default: this member's address)")
	fs.StringVar(&o.members, "initial-members", "", "all monitors as NAME=HOST:PORT,... (first start only; later it must match)")
	fs.StringVar(&o.cfg.HTTPAddr, "http", "", "HOST:PORT for /metrics and /healthz (stored at the first start)")
	fs.DurationVar(&o.cfg.BatchWindow, "batch-window", 0, "how long the leader gathers commands into one epoch (default 20ms)")
	fs.Uint64Var(&o.cfg.HistoryEpochs, "history-epochs", 0, "incrementals kept for subscribers (default 500)")
	fs.Uint64Var(&o.cfg.SnapshotEvery, "snapshot-every", 0, "raft entries between snapshots (default 1000)")
	fs.Uint64Var(&o.cfg.Limits.PGPerOSDMax, "pg-per-osd-max", 250, "PG replicas allowed per in OSD (0 = no limit)")
	fs.BoolVar(&o.cfg.Limits.AllowSizeOne, "allow-pool-size-one", false, "allow pools with a single replica")
	def := mon.DefaultFailurePolicy()
	fs.DurationVar(&o.cfg.Failure.Grace, "osd-heartbeat-grace", def.Grace, "how long an OSD must be silent before its peers' reports mark it down")
	fs.IntVar(&o.cfg.Failure.MinReporters, "osd-min-down-reporters", def.MinReporters, "distinct hosts whose OSDs must report an OSD before it is marked down")
	fs.DurationVar(&o.cfg.Failure.Expire, "osd-failure-report-expire", def.Expire, "forget a failure report its OSD stopped repeating after this long")
	fs.DurationVar(&o.cfg.Failure.DownOut, "osd-down-out-interval", def.DownOut, "mark an OSD out after it has been down this long, so its data is copied elsewhere (0: never)")
	fs.Float64Var(&o.cfg.Failure.MinInRatio, "osd-min-in-ratio", def.MinInRatio, "never mark OSDs out automatically below this share of OSDs in")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every option is a flag (see mon -h)", fs.Arg(0))
	}
	if f := o.cfg.Failure; f.MinReporters < 1 || f.Grace < 0 || f.Expire <= 0 || f.DownOut < 0 || f.MinInRatio < 0 || f.MinInRatio > 1 {
		return nil, fmt.Errorf("--osd-min-down-reporters must be at least 1, --osd-heartbeat-grace and --osd-down-out-interval not negative, --osd-failure-report-expire positive and --osd-min-in-ratio within 0..1 (got %d, %s, %s, %s, %g)",
			f.MinReporters, f.Grace, f.DownOut, f.Expire, f.MinInRatio)
	}
	o.cfg.Limits.DefaultSize = 3
	if o.members != "" {
		ms, err := mon.ParseMembers(o.members)
		if err != nil {
			return nil, err
		}
		o.cfg.Members = ms
	}
	return o, nil
}

func run(args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "mon: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "mon: --log-level %q: use debug, info, warn or error\n", o.logLevel)
		return 2
	}
	o.cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	m, err := mon.Open(o.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mon: %v\n", err)
		return 1
	}
	if err := m.Start(); err != nil {
		m.Stop()
		fmt.Fprintf(stderr, "mon: %v\n", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sigs:
		m.Stop()
		return 0
	case err := <-m.Done():
		m.Stop()
		fmt.Fprintf(stderr, "mon: %v\n", err)
		return 1
	}
}
