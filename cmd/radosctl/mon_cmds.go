package main

// Online commands against the monitors. This file holds the connection
// flags (--mon, GORADOS_MON, --conf), output helpers and the read-only
// cluster views; mon_cmds_*.go hold the command groups.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/mon/report"
)

// defaultConfPath is read when neither --mon nor GORADOS_MON is given.
const defaultConfPath = "/etc/gorados/gorados.conf"

var monFlags struct {
	mon     string
	conf    string
	timeout time.Duration
}

func init() {
	commandGroups = append(commandGroups, addMonConnFlags, addStatusCommands, addPoolCommands,
		addOSDStateCommands, addCrushRuleCommands)
	osdMapLive = runOSDMapLive
	osdMapLiveFlags = func(cmd *cobra.Command) { addFormatFlag(cmd) }
}

func addMonConnFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&monFlags.mon, "mon", "", "monitor addresses host:port[,...] (default $GORADOS_MON, then the config file)")
	pf.StringVar(&monFlags.conf, "conf", "", "config file with a line `mon = host:port,...` (default $GORADOS_CONF or "+defaultConfPath+")")
	pf.DurationVar(&monFlags.timeout, "timeout", 15*time.Second, "give up on the monitors after this long")
}

// monAddrs resolves the monitor list: --mon, then GORADOS_MON, then the
// config file.
func monAddrs() ([]string, error) {
	if monFlags.mon != "" {
		return monclient.ParseAddrs(monFlags.mon), nil
	}
	if env := os.Getenv("GORADOS_MON"); env != "" {
		return monclient.ParseAddrs(env), nil
	}
	path, explicit := monFlags.conf, monFlags.conf != ""
	if !explicit {
		path = os.Getenv("GORADOS_CONF")
		explicit = path != ""
	}
	if path == "" {
		path = defaultConfPath
	}
	addrs, err := readConfMon(path)
	if err != nil && (explicit || !errors.Is(err, os.ErrNotExist)) {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, monclient.ErrNoMonitors
	}
	return addrs, nil
}

// readConfMon reads `mon = a,b` (or `mon_host = ...`) from a config file
// of key = value lines; '#' and ';' start comments.
func readConfMon(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if k = strings.TrimSpace(k); k == "mon" || k == "mon_host" || k == "mon host" {
			return monclient.ParseAddrs(strings.TrimSpace(v)), nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return nil, fmt.Errorf("config file %s has no `mon = host:port,...` line", path)
}

// withClient connects to the monitors and runs fn within --timeout.
func withClient(cmd *cobra.Command, fn func(ctx context.Context, c *monclient.Client) error) error {
	addrs, err := monAddrs()
	if err != nil {
		return err
	}
	c, err := monclient.New(addrs)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), monFlags.timeout)
	defer cancel()
	return fn(ctx, c)
}

// printResult prints a command's message like Ceph does on stderr, with
// the epoch that holds the change.
func printResult(cmd *cobra.Command, r monclient.Result, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s (epoch %d)\n", r.Message, r.Epoch)
	return nil
}

func addFormatFlag(cmd *cobra.Command) {
	cmd.Flags().String("format", "plain", "output format: plain or json (json-pretty too)")
}

// output writes v as JSON when --format asks for it, else calls plain.
func output(cmd *cobra.Command, v any, plain func(w io.Writer) error) error {
	format, _ := cmd.Flags().GetString("format")
	w := cmd.OutOrStdout()
	switch format {
	case "", "plain":
		return plain(w)
	case "json", "json-pretty":
		enc := json.NewEncoder(w)
		if format == "json-pretty" {
			enc.SetIndent("", "  ")
		}
		return enc.Encode(v)
	}
	return fmt.Errorf("--format %q: use plain, json or json-pretty", format)
}

// parseOSDID accepts "3" or "osd.3".
func parseOSDID(s string) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "osd."), 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not an OSD id (N or osd.N)", s)
	}
	return int32(n), nil
}

func parseFraction(what, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", what, s)
	}
	return v, nil
}

func addStatusCommands(root *cobra.Command) {
	status := &cobra.Command{Use: "status", Short: "Show cluster status (like ceph -s)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				m, st, pgs, err := clusterView(ctx, c)
				if err != nil {
					return err
				}
				s := report.BuildStatus(m, st, pgs)
				return output(cmd, s, func(w io.Writer) error { return report.WriteStatus(w, s) })
			})
		}}
	health := &cobra.Command{Use: "health", Short: "Show cluster health", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				m, st, pgs, err := clusterView(ctx, c)
				if err != nil {
					return err
				}
				h := report.ComputeHealth(m, st, pgs)
				return output(cmd, h, func(w io.Writer) error { return report.WriteHealth(w, h) })
			})
		}}
	monStat := &cobra.Command{Use: "stat", Short: "Show the monitors, the leader and the quorum", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				st, err := c.Status(ctx)
				if err != nil {
					return err
				}
				ms := report.BuildMonStat(st)
				return output(cmd, ms, func(w io.Writer) error { return report.WriteMonStat(w, ms) })
			})
		}}
	for _, c := range []*cobra.Command{status, health, monStat} {
		addFormatFlag(c)
	}
	root.AddCommand(status, health)
	subcommand(root, "mon", "Monitor commands").AddCommand(monStat)
	osd := subcommand(root, "osd", "OSD and placement commands")
	osd.AddCommand(mapView("dump", "Show the cluster map (like ceph osd dump)", func(cmd *cobra.Command, m *mapArg) error {
		d := report.BuildDump(m.m)
		return output(cmd, d, func(w io.Writer) error { return report.WriteDump(w, d) })
	}), mapView("tree", "Show the CRUSH hierarchy with OSD states (like ceph osd tree)", func(cmd *cobra.Command, m *mapArg) error {
		t := report.BuildTree(m.m)
		return output(cmd, t, func(w io.Writer) error { return report.WriteTree(w, t) })
	}))
}
