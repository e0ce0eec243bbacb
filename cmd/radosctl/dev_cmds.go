package main

// radosctl dev up|down|status: the local cluster launcher
// (deploy/devcluster) for trying gorados on one machine.

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/deploy/devcluster"
)

func init() {
	commandGroups = append(commandGroups, addDevCommands)
}

func addDevCommands(root *cobra.Command) {
	dev := subcommand(root, "dev", "Run a whole cluster on this machine (monitors and OSDs on loopback)")
	dev.AddCommand(devUpCmd(), devDownCmd(), devStatusCmd(), devDaemonCmd("start"), devDaemonCmd("stop"), devDaemonCmd("kill"))
}

func devUpCmd() *cobra.Command {
	var cfg devcluster.Config
	var pgNum, size, minSize uint32
	c := &cobra.Command{
		Use:   "up",
		Short: "Start a local cluster (3 monitors, 4 OSDs on 4 hosts, pool \"data\"), creating it on first use",
		Long: "Starts the monitors and OSDs as separate processes on loopback, each OSD with its own public\n" +
			"and cluster address, all data and logs under --dir. The first run creates the cluster and a\n" +
			"replicated pool; later runs restart it from its data. It waits until every PG is active,\n" +
			"prints what to try next and keeps running until Ctrl-C, which stops every daemon.\n" +
			"With --background the daemons keep running after it returns; `dev down` stops them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.PGNum, cfg.Size, cfg.MinSize, cfg.Out = pgNum, size, minSize, cmd.ErrOrStderr()
			return runDevUp(cmd, cfg)
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.Dir, "dir", ".dev", "directory for the cluster's data, logs and pid files")
	f.IntVar(&cfg.Monitors, "monitors", 3, "number of monitors (new cluster)")
	f.IntVar(&cfg.Hosts, "hosts", 4, "number of hosts (new cluster)")
	f.IntVar(&cfg.OSDsPerHost, "osds-per-host", 1, "OSDs per host (new cluster)")
	f.StringVar(&cfg.Pool, "pool", "data", `replicated pool to create ("-" for none)`)
	f.Uint32Var(&pgNum, "pg-num", 32, "PGs of the pool")
	f.Uint32Var(&size, "size", 3, "replicas of the pool")
	f.Uint32Var(&minSize, "min-size", 2, "replicas a PG needs to serve I/O")
	f.BoolVar(&cfg.Background, "background", false, "leave the cluster running and return once it is ready")
	f.BoolVar(&cfg.SharedIP, "shared-ip", false, "put every daemon on 127.0.0.1 (default: one 127.0.x.y address per monitor and host)")
	f.StringVar(&cfg.BinDir, "bin-dir", "", "directory holding mon and osd (default: next to radosctl, else built from source, else PATH)")
	f.DurationVar(&cfg.Timeout, "wait", 2*time.Minute, "how long to wait for each startup stage")
	return c
}

// runDevUp starts the cluster and, in the foreground, waits for Ctrl-C.
func runDevUp(cmd *cobra.Command, cfg devcluster.Config) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := devcluster.Up(ctx, cfg)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprint(out, c.NextSteps(devcluster.RadosctlCommand()))
	if cfg.Background {
		fmt.Fprintf(out, "\nThe daemons run in the background: `%s dev status --dir %s`, stop them with `%s dev down --dir %s`.\n",
			devcluster.RadosctlCommand(), cfg.Dir, devcluster.RadosctlCommand(), cfg.Dir)
		return nil
	}
	fmt.Fprintf(out, "\nPress Ctrl-C to stop the cluster (its data stays in %s: `dev up` restarts it, `dev down --purge` removes it).\n", cfg.Dir)
	exited := c.Exited()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(cmd.ErrOrStderr(), "stopping the cluster ...")
			if err := c.Stop(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "stopped; the data stays in %s\n", cfg.Dir)
			return nil
		case ev := <-exited:
			// A daemon that dies (or that the user killed to see what
			// happens) does not stop the others.
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s exited (%v); its log is %s; start it again with `%s dev start %s --dir %s`\n",
				ev.Name, ev.Status, c.LogPath(ev.Name), devcluster.RadosctlCommand(), ev.Name, cfg.Dir)
			exited = c.Exited()
		}
	}
}

func devDownCmd() *cobra.Command {
	var dir string
	var purge bool
	c := &cobra.Command{
		Use:   "down",
		Short: "Stop a local cluster started with `dev up --background` (OSDs first, then monitors)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := devcluster.Down(dir, purge); err != nil {
				return err
			}
			if purge {
				fmt.Fprintf(cmd.OutOrStdout(), "stopped and removed the cluster in %s\n", dir)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "stopped the cluster in %s (`dev up` restarts it, `dev down --purge` removes it)\n", dir)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", ".dev", "the cluster's directory")
	c.Flags().BoolVar(&purge, "purge", false, "also remove the directory with all data")
	return c
}

func devStatusCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the local cluster's daemons, addresses and PG states",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := devcluster.Open(dir)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			c.Status(ctx).Write(cmd.OutOrStdout())
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", ".dev", "the cluster's directory")
	return c
}

// devDaemonCmd is dev start|stop|kill NAME...: one daemon of a running
// cluster, to watch the cluster handle a failure and a restart.
func devDaemonCmd(verb string) *cobra.Command {
	var dir string
	short := map[string]string{
		"start": "Start daemons of the local cluster again (e.g. after a kill): dev start osd.1",
		"stop":  "Stop daemons of the local cluster cleanly (SIGTERM): dev stop osd.1",
		"kill":  "Kill daemons of the local cluster with SIGKILL (a crash): dev kill osd.1",
	}[verb]
	c := &cobra.Command{
		Use:   verb + " NAME...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := devcluster.Open(dir)
			if err != nil {
				return err
			}
			c.SetOutput(cmd.ErrOrStderr())
			for _, name := range args {
				switch verb {
				case "start":
					err = c.StartDaemon(name)
				case "stop":
					err = c.StopDaemon(name)
				default:
					err = c.Kill(name)
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", ".dev", "the cluster's directory")
	return c
}
