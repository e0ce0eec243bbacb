package mon

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
)

// The golden traces in testdata/commands/*.txt drive the pure command core:
//
//	new-cluster            a fresh epoch-1 map with the default CRUSH map
//	exec                   one command per input line, batched into one epoch
//	dump                   pools, OSDs and flags of the current map
//
// exec prints each command's result, then the new epoch and what changed
// (computed from the maps), after checking that Diff/Apply rebuild the
// pending map exactly. Rewrite with: go test ./mon -run TestCommandGolden -rewrite
func TestCommandGolden(t *testing.T) {
	datadriven.Walk(t, "testdata/commands", func(t *testing.T, path string) {
		var cur *cluster.OSDMap
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "new-cluster":
				cur = newTestMap(t)
				return fmt.Sprintf("epoch %d\n", cur.Epoch)
			case "exec":
				var out string
				cur, out = execBatch(t, cur, td.Input)
				return out
			case "dump":
				return describeMap(cur)
			}
			t.Fatalf("unknown directive %q", td.Cmd)
			return ""
		})
	})
}

func newTestMap(t testing.TB) *cluster.OSDMap {
	cm := crush.NewDefaultMap()
	m := cluster.New(cluster.UUID{1, 2, 3, 4, 5, 6, 0x40, 8, 0x80, 10, 11, 12, 13, 14, 15, 16}, time.Unix(1700000000, 0).UTC())
	m.Epoch = 1
	m.SetCrush(cm)
	return m
}

// execBatch runs the lines as one batch, as the leader does, and returns the
// next map and the trace.
func execBatch(t *testing.T, cur *cluster.OSDMap, input string) (*cluster.OSDMap, string) {
	var b strings.Builder
	pending := cur.Clone()
	pending.Epoch = cur.Epoch + 1
	changed := false
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		cmd, err := parseTestCommand(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		trial := pending.Clone()
		res, err := Execute(trial, cmd, DefaultLimits())
		if err != nil {
			fmt.Fprintf(&b, "%s\n  error %s: %v\n", line, errorKind(err), err)
			continue
		}
		fmt.Fprintf(&b, "%s\n  ok: %s\n", line, res.Message)
		if res.Changed {
			pending, changed = trial, true
		}
	}
	if !changed {
		b.WriteString("no new epoch\n")
		return cur, b.String()
	}
	pending.Modified = cur.Modified.Add(time.Second)
	inc, err := diffMaps(cur, pending)
	if err != nil {
		t.Fatal(err)
	}
	next, err := applyInc(cur, inc)
	if err != nil {
		t.Fatalf("apply of the diff: %v", err)
	}
	a, _ := next.Marshal()
	p, _ := pending.Marshal()
	if string(a) != string(p) {
		t.Fatal("Apply(cur, Diff(cur, pending)) differs from pending")
	}
	fmt.Fprintf(&b, "e%d:\n%s", next.Epoch, describeChange(cur, next))
	return next, b.String()
}

func errorKind(err error) string {
	for _, k := range []error{ErrInvalidArgument, ErrNotFound, ErrAlreadyExists, ErrFailedPrecondition} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return "other"
}

func poolLine(p *cluster.Pool) string {
	return fmt.Sprintf("pool %d '%s' size %d min_size %d rule %d pg_num %d pgp_num %d", p.ID, p.Name, p.Size, p.MinSize, p.CrushRule, p.PGNum, p.PGPNum)
}

func osdLine(m *cluster.OSDMap, id int) string {
	o := &m.OSDs[id]
	if !o.Exists {
		return fmt.Sprintf("osd.%d does not exist", id)
	}
	state := "down"
	if o.Up {
		state = "up"
	}
	return fmt.Sprintf("osd.%d %s weight %#x affinity %#x up_from %d up_thru %d down_at %d host %q class %q addr %q",
		id, state, o.Weight, o.PrimaryAffinity, o.UpFrom, o.UpThru, o.DownAt, o.Host, o.DeviceClass, o.PublicAddr)
}

// describeChange lists what differs between two maps, in a stable order.
func describeChange(a, b *cluster.OSDMap) string {
	var out []string
	for _, id := range sortedPoolIDs(a, b) {
		pa, pb := a.Pools[id], b.Pools[id]
		switch {
		case pa == nil:
			out = append(out, "  + "+poolLine(pb))
		case pb == nil:
			out = append(out, "  - "+poolLine(pa))
		case *pa != *pb:
			out = append(out, "  ~ "+poolLine(pb))
		}
	}
	if a.MaxOSD() != b.MaxOSD() {
		out = append(out, fmt.Sprintf("  max_osd %d", b.MaxOSD()))
	}
	for id := 0; id < int(max(a.MaxOSD(), b.MaxOSD())); id++ {
		if id >= int(b.MaxOSD()) || id >= int(a.MaxOSD()) || a.OSDs[id] != b.OSDs[id] {
			if id < int(b.MaxOSD()) {
				out = append(out, "  ~ "+osdLine(b, id))
			}
		}
	}
	if a.Flags != b.Flags {
		out = append(out, fmt.Sprintf("  flags %q", b.Flags.String()))
	}
	if string(a.CrushBlob) != string(b.CrushBlob) {
		out = append(out, "  crush map changed")
	}
	return strings.Join(out, "\n") + "\n"
}

func sortedPoolIDs(maps ...*cluster.OSDMap) []int64 {
	var ids []int64
	for _, m := range maps {
		for id := range m.Pools {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func describeMap(m *cluster.OSDMap) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d flags %q max_osd %d\n", m.Epoch, m.Flags.String(), m.MaxOSD())
	for _, id := range sortedPoolIDs(m) {
		b.WriteString(poolLine(m.Pools[id]) + "\n")
	}
	for id := range m.OSDs {
		if m.OSDs[id].Exists {
			b.WriteString(osdLine(m, id) + "\n")
		}
	}
	return b.String()
}

// parseTestCommand turns a trace line into a Command.
func parseTestCommand(line string) (Command, error) {
	f := strings.Fields(line)
	kv := map[string]string{}
	var pos []string
	for _, w := range f {
		if k, v, ok := strings.Cut(w, "="); ok && k != "" && !strings.Contains(k, "/") {
			kv[k] = v
		} else {
			pos = append(pos, w)
		}
	}
	if len(pos) < 2 {
		return nil, fmt.Errorf("too short")
	}
	key := pos[0] + " " + pos[1]
	args := pos[2:]
	if p, ok := testParsers[key]; ok {
		return p(args, kv)
	}
	return nil, fmt.Errorf("unknown command %q", key)
}

var testParsers = map[string]func(args []string, kv map[string]string) (Command, error){
	"pool create": func(a []string, kv map[string]string) (Command, error) {
		c := PoolCreate{Pool: a[0], PGNum: uint32(atoi(a[1])), CrushRule: kv["rule"]}
		if v, ok := kv["size"]; ok {
			c.Size = new(int32(atoi(v)))
		}
		if v, ok := kv["min_size"]; ok {
			c.MinSize = new(int32(atoi(v)))
		}
		if v, ok := kv["pgp"]; ok {
			c.PGPNum = new(uint32(atoi(v)))
		}
		return c, nil
	},
	"pool rm": func(a []string, _ map[string]string) (Command, error) { return PoolRm{Pool: a[0]}, nil },
	"pool set": func(a []string, _ map[string]string) (Command, error) {
		return PoolSet{Pool: a[0], Key: a[1], Value: a[2]}, nil
	},
	"osd create": func(a []string, _ map[string]string) (Command, error) {
		return OSDCreate{UUID: strings.Join(a, "")}, nil
	},
	"osd boot": func(a []string, kv map[string]string) (Command, error) {
		w, _ := strconv.ParseFloat(kv["weight"], 64)
		return OSDBoot{ID: int32(atoi(a[0])), Host: kv["host"], DeviceClass: kv["class"], PublicAddr: kv["addr"], CrushWeight: w}, nil
	},
	"osd down": markParser("down"), "osd out": markParser("out"), "osd in": markParser("in"), "osd rm": markParser("rm"),
	"osd reweight": func(a []string, _ map[string]string) (Command, error) {
		w, err := strconv.ParseFloat(a[1], 64)
		return OSDReweight{ID: int32(atoi(a[0])), Weight: w}, err
	},
	"osd primary-affinity": func(a []string, _ map[string]string) (Command, error) {
		w, err := strconv.ParseFloat(a[1], 64)
		return OSDPrimaryAffinity{ID: int32(atoi(a[0])), Affinity: w}, err
	},
	"osd set":   func(a []string, _ map[string]string) (Command, error) { return SetFlag{Flag: a[0]}, nil },
	"osd unset": func(a []string, _ map[string]string) (Command, error) { return SetFlag{Flag: a[0], Unset: true}, nil },
	"crush add-bucket": func(a []string, kv map[string]string) (Command, error) {
		return CrushAddBucket{Bucket: a[0], Type: a[1], Location: kv}, nil
	},
	"crush move": func(a []string, kv map[string]string) (Command, error) {
		return CrushMove{Item: a[0], Location: kv}, nil
	},
	"crush reweight": func(a []string, _ map[string]string) (Command, error) {
		w, err := strconv.ParseFloat(a[1], 64)
		return CrushReweight{Item: a[0], Weight: w}, err
	},
	"crush rule-create": func(a []string, _ map[string]string) (Command, error) {
		c := CrushRuleCreateReplicated{Rule: a[0], Root: a[1], FailureDomain: a[2]}
		if len(a) > 3 {
			c.DeviceClass = a[3]
		}
		return c, nil
	},
	"crush rule-rm": func(a []string, _ map[string]string) (Command, error) { return CrushRuleRm{Rule: a[0]}, nil },
	"crush set": func(a []string, _ map[string]string) (Command, error) {
		b, err := os.ReadFile("testdata/" + a[0])
		return SetCrushMap{Data: b}, err
	},
}

func markParser(op string) func([]string, map[string]string) (Command, error) {
	return func(a []string, _ map[string]string) (Command, error) {
		c := OSDMark{Op: op}
		for _, s := range a {
			c.IDs = append(c.IDs, int32(atoi(s)))
		}
		return c, nil
	}
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
