package main

// `radosctl crush test`: crushtool --test --show-mappings for our mapper,
// printing exactly crushtool's lines so that outputs can be diffed.

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/gorados/gorados/crush"
	"github.com/spf13/cobra"
)

func init() {
	commandGroups = append(commandGroups, addCrushTestCommand)
}

// crushTestFlags are the flags of `radosctl crush test`.
type crushTestFlags struct {
	rule, numRep, minX, maxX int
	weights                  []string
	poolID                   int64
	showUtilization          bool
}

func addCrushTestCommand(root *cobra.Command) {
	group := subcommand(root, "crush", "CRUSH map tools (crushtool's jobs)")
	var f crushTestFlags
	cmd := &cobra.Command{
		Use:   "test MAP --rule R --num-rep N [--min-x A] [--max-x B] [--weight OSD:W]... [--pool-id P] [--show-utilization]",
		Short: "Map inputs A..B with a rule, printing crushtool --test --show-mappings lines",
		Long: "Maps every x from --min-x to --max-x with rule R and N replicas and prints\n" +
			"`CRUSH rule R x X [a,b,c]` per x, exactly as `crushtool --test --show-mappings`.\n" +
			"MAP is a text or binary CRUSH map (detected by content). --weight OSD:W sets the\n" +
			"reweight of a device (W in [0, 1], truncated to 16.16 as crushtool does); --pool-id\n" +
			"hashes each x with the pool id first, as crushtool --pool-id.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCrushTest(cmd, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.rule, "rule", 0, "rule id")
	fl.IntVar(&f.numRep, "num-rep", 0, "number of replicas (result size), at least 1")
	fl.IntVar(&f.minX, "min-x", 0, "first input")
	fl.IntVar(&f.maxX, "max-x", 1023, "last input")
	fl.StringArrayVar(&f.weights, "weight", nil, "device reweight OSD:W with W in [0, 1]; repeatable")
	fl.Int64Var(&f.poolID, "pool-id", 0, "hash every input with this pool id, as crushtool --pool-id (-1 means none)")
	fl.BoolVar(&f.showUtilization, "show-utilization", false, "also print crushtool's utilization summary")
	_ = cmd.MarkFlagRequired("num-rep")
	group.AddCommand(cmd)
}

// runCrushTest loads the map, turns the flags into test options and runs
// the harness, writing to the command's output.
func runCrushTest(cmd *cobra.Command, f *crushTestFlags, path string) error {
	opt := crush.TestOptions{Rule: f.rule, NumRep: f.numRep, MinX: f.minX, MaxX: f.maxX,
		ShowUtilization: f.showUtilization, Weights: map[int32]float32{}}
	if cmd.Flags().Changed("pool-id") {
		opt.PoolID = &f.poolID
	}
	for _, w := range f.weights {
		id, weight, err := parseDeviceWeight(w)
		if err != nil {
			return err
		}
		opt.Weights[id] = weight
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read CRUSH map: %w", err)
	}
	m, err := crush.Load(data)
	if err != nil {
		return fmt.Errorf("load CRUSH map %s: %w", path, err)
	}
	return m.RunTest(cmd.OutOrStdout(), opt)
}

// parseDeviceWeight parses OSD:W, where OSD is a device id or osd.N and W a
// float read in single precision, as crushtool reads it.
func parseDeviceWeight(s string) (int32, float32, error) {
	dev, w, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("--weight %q: use OSD:W, for example 3:0.5", s)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(dev, "osd."), 10, 32)
	if err != nil || id < 0 {
		return 0, 0, fmt.Errorf("--weight %q: %q is not a device id; use a number such as 3 or osd.3", s, dev)
	}
	v, err := strconv.ParseFloat(w, 32)
	if err != nil || math.IsNaN(v) {
		return 0, 0, fmt.Errorf("--weight %q: %q is not a number; give a weight between 0 and 1", s, w)
	}
	return int32(id), float32(v), nil
}
