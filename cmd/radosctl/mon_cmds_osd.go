package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/mon/report"
)

func addOSDStateCommands(root *cobra.Command) {
	osd := subcommand(root, "osd", "OSD and placement commands")
	for _, op := range []string{"down", "out", "in", "rm"} {
		osd.AddCommand(osdMarkCmd(op))
	}
	osd.AddCommand(
		osdValueCmd("reweight", "Set an OSD's reweight (0..1)", func(ctx context.Context, c *monclient.Client, id int32, v float64) (monclient.Result, error) {
			return c.OSDReweight(ctx, id, v)
		}),
		osdValueCmd("primary-affinity", "Set an OSD's primary affinity (0..1)", func(ctx context.Context, c *monclient.Client, id int32, v float64) (monclient.Result, error) {
			return c.OSDPrimaryAffinity(ctx, id, v)
		}),
		osdFlagCmd("set", false), osdFlagCmd("unset", true),
		&cobra.Command{Use: "setcrushmap -i FILE", Short: "Replace the CRUSH map (text or binary)", Args: cobra.NoArgs, RunE: runSetCrushMap},
		mapView("getcrushmap", "Write the CRUSH map in Ceph's binary format, or crushtool text with --text (-o FILE)", func(cmd *cobra.Command, m *mapArg) error {
			path, _ := cmd.Flags().GetString("out")
			data := m.m.CrushBlob
			if text, _ := cmd.Flags().GetBool("text"); text {
				data = m.m.Crush.Decompile()
			}
			if err := writeFileOrStdout(cmd, path, data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "got crush map from osdmap epoch %d\n", m.m.Epoch)
			return nil
		}),
	)
	for _, c := range osd.Commands() {
		switch c.Name() {
		case "setcrushmap":
			c.Flags().StringP("in", "i", "", "CRUSH map file (crushtool text or binary)")
		case "getcrushmap":
			c.Flags().StringP("out", "o", "-", "output file (- for stdout)")
			c.Flags().Bool("text", false, "write crushtool text instead of the binary map")
		}
	}
}

func osdMarkCmd(op string) *cobra.Command {
	return &cobra.Command{
		Use:   op + " ID...",
		Short: "Mark OSDs " + op,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int32, 0, len(args))
			for _, a := range args {
				id, err := parseOSDID(a)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				r, err := c.OSDMark(ctx, op, ids...)
				return printResult(cmd, r, err)
			})
		},
	}
}

func osdValueCmd(name, short string, fn func(context.Context, *monclient.Client, int32, float64) (monclient.Result, error)) *cobra.Command {
	return &cobra.Command{
		Use: name + " ID VALUE", Short: short, Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseOSDID(args[0])
			if err != nil {
				return err
			}
			v, err := parseFraction(name, args[1])
			if err != nil {
				return err
			}
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				r, err := fn(ctx, c, id, v)
				return printResult(cmd, r, err)
			})
		},
	}
}

func osdFlagCmd(verb string, unset bool) *cobra.Command {
	return &cobra.Command{
		Use: verb + " FLAG", Short: verb + " a cluster flag (noout, noup, nodown, noin, pause, full, noscrub, nodeep-scrub)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
				r, err := c.SetFlag(ctx, args[0], unset)
				return printResult(cmd, r, err)
			})
		},
	}
}

func runSetCrushMap(cmd *cobra.Command, _ []string) error {
	path, _ := cmd.Flags().GetString("in")
	if path == "" {
		return fmt.Errorf("give the map with -i FILE")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read the CRUSH map: %w", err)
	}
	return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
		r, err := c.SetCrushMap(ctx, data)
		return printResult(cmd, r, err)
	})
}

func addCrushRuleCommands(root *cobra.Command) {
	osd := subcommand(root, "osd", "OSD and placement commands")
	oc := subcommand(osd, "crush", "CRUSH commands on the live map")
	rule := subcommand(oc, "rule", "CRUSH rule commands")
	rule.AddCommand(
		&cobra.Command{Use: "create-replicated NAME ROOT FAILURE_DOMAIN [CLASS]", Short: "Create a replicated rule",
			Args: cobra.RangeArgs(3, 4), RunE: func(cmd *cobra.Command, args []string) error {
				class := ""
				if len(args) == 4 {
					class = args[3]
				}
				return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
					r, err := c.CrushRuleCreateReplicated(ctx, args[0], args[1], args[2], class)
					return printResult(cmd, r, err)
				})
			}},
		&cobra.Command{Use: "rm NAME", Short: "Remove a rule no pool uses", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
					r, err := c.CrushRuleRm(ctx, args[0])
					return printResult(cmd, r, err)
				})
			}},
		mapView("ls", "List rule names", func(cmd *cobra.Command, m *mapArg) error {
			rules := report.BuildRules(m.m.Crush)
			names := []string{}
			for _, r := range rules {
				names = append(names, r.Name)
			}
			return output(cmd, names, func(w io.Writer) error {
				for _, n := range names {
					if _, err := fmt.Fprintln(w, n); err != nil {
						return err
					}
				}
				return nil
			})
		}),
		ruleDumpCmd(),
	)
	oc.AddCommand(crushEditCmds()...)
}

func ruleDumpCmd() *cobra.Command {
	c := mapView("dump [NAME]", "Show rules as JSON", func(cmd *cobra.Command, m *mapArg) error {
		rules := report.BuildRules(m.m.Crush)
		var v any = rules
		if len(m.args) == 1 {
			v = nil
			for _, r := range rules {
				if r.Name == m.args[0] {
					v = r
				}
			}
			if v == nil {
				return fmt.Errorf("crush rule '%s' does not exist: see `radosctl osd crush rule ls`", m.args[0])
			}
		}
		if f, _ := cmd.Flags().GetString("format"); f == "plain" {
			_ = cmd.Flags().Set("format", "json-pretty") // rules have no plain form, as in Ceph
		}
		return output(cmd, v, nil)
	})
	return c
}

func crushEditCmds() []*cobra.Command {
	return []*cobra.Command{
		{Use: "add-bucket NAME TYPE [TYPE=NAME...]", Short: "Add a bucket, optionally at a location", Args: cobra.MinimumNArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
					r, err := c.CrushAddBucket(ctx, args[0], args[1], args[2:]...)
					return printResult(cmd, r, err)
				})
			}},
		{Use: "move NAME TYPE=NAME...", Short: "Move a bucket to a location", Args: cobra.MinimumNArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
					r, err := c.CrushMove(ctx, args[0], args[1:]...)
					return printResult(cmd, r, err)
				})
			}},
		{Use: "reweight NAME WEIGHT", Short: "Set an item's CRUSH weight", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				w, err := parseFraction("weight", args[1])
				if err != nil {
					return err
				}
				return withClient(cmd, func(ctx context.Context, c *monclient.Client) error {
					r, err := c.CrushReweight(ctx, args[0], w)
					return printResult(cmd, r, err)
				})
			}},
	}
}
