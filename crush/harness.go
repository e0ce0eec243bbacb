package crush

// This file reproduces `crushtool --test --show-mappings` (and
// --show-utilization) for one rule and one replica count
// (spec/crush-mapping.md section 11), line for line, so that our mappings
// can be compared with Ceph's byte for byte.

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// TestOptions are the options of a crushtool-style test run.
type TestOptions struct {
	Rule       int // rule id
	NumRep     int // result_max, > 0
	MinX, MaxX int // inclusive input range; crushtool's defaults are 0 and 1023
	// PoolID, when set, hashes each x with the pool id (truncated to 32
	// bits) before mapping, like crushtool --pool-id; as there, -1 means no
	// pool. The printed x stays the loop value.
	PoolID *int64
	// Weights are reweight overrides by device id, in [0, 1], like
	// crushtool --weight. Other devices weigh 1 if some bucket holds them.
	Weights map[int32]float32
	// ShowUtilization adds crushtool's per-rule header, result-size counts
	// and per-device stored/expected lines.
	ShowUtilization bool
}

// RunTest maps every x of the range with the options' rule and writes one
// line `CRUSH rule R x X [a,b,c]` per x to w, exactly as crushtool does,
// including its quirks: a negative bound means the default range 0..1023
// and an inverted range maps nothing. It validates the options first and
// returns an error (writing nothing) for an unknown rule, a non-positive
// replica count, an x beyond 32 bits, a weight outside [0, 1] or a device
// the map does not have.
func (m *Map) RunTest(w io.Writer, opt TestOptions) error {
	if opt.MinX < 0 || opt.MaxX < 0 {
		// crushtool treats a negative bound as unset and maps 0..1023.
		opt.MinX, opt.MaxX = 0, 1023
	}
	reweight, err := m.testReweights(opt)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if opt.ShowUtilization {
		fmt.Fprintf(bw, "rule %d (%s), x = %d..%d, numrep = %d..%d\n",
			opt.Rule, m.RuleNames[int32(opt.Rule)], opt.MinX, opt.MaxX, opt.NumRep, opt.NumRep)
	}
	// crushtool skips a rule whose reweight vector is all zero, and an
	// inverted range maps nothing.
	if weightSum(reweight) == 0 || opt.MinX > opt.MaxX {
		return flushTest(bw)
	}
	u := newUtilization(opt.ShowUtilization, len(reweight))
	if err := m.mapRange(bw, opt, reweight, u); err != nil {
		return err
	}
	u.write(bw, m, opt, reweight)
	return flushTest(bw)
}

// mapRange maps MinX..MaxX (MinX <= MaxX) with one workspace and one
// output buffer, writing a line per x and counting utilization.
func (m *Map) mapRange(bw *bufio.Writer, opt TestOptions, reweight []uint32, u *utilization) error {
	args := m.testChooseArgs()
	ws := NewWorkspace(m)
	result := make([]int32, opt.NumRep)
	line := make([]byte, 0, 64+12*opt.NumRep)
	// crushtool's pool id -1 means "no pool", like leaving it out.
	hashPool := opt.PoolID != nil && *opt.PoolID != -1
	for x := opt.MinX; ; x++ {
		in := uint32(x)
		if hashPool {
			in = Hash2(in, uint32(*opt.PoolID))
		}
		n := m.DoRule(ws, opt.Rule, in, result, reweight, args)
		line = appendMappingLine(line[:0], opt.Rule, x, result[:n])
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write test output: %w", err)
		}
		u.add(result[:n])
		if x == opt.MaxX { // not x <= MaxX in the loop: MaxX may be the largest int
			return nil
		}
	}
}

func flushTest(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write test output: %w", err)
	}
	return nil
}

// appendMappingLine appends `CRUSH rule R x X [a,b,c]\n` to dst.
func appendMappingLine(dst []byte, rule, x int, items []int32) []byte {
	dst = append(dst, "CRUSH rule "...)
	dst = strconv.AppendInt(dst, int64(rule), 10)
	dst = append(dst, " x "...)
	dst = strconv.AppendInt(dst, int64(x), 10)
	dst = append(dst, " ["...)
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(it), 10)
	}
	return append(dst, "]\n"...)
}

// testChooseArgs is crushtool's choose_args choice: set 0, else the
// default set -1, else none. Pool sets are ignored even with a pool id.
func (m *Map) testChooseArgs() ChooseArgSet {
	if s, ok := m.ChooseArgs[0]; ok {
		return s
	}
	return m.ChooseArgs[DefaultChooseArgs]
}

// testReweights validates the options and builds crushtool's reweight
// vector: one entry per device id below max_devices, 1.0 for devices that
// some bucket holds and 0 otherwise, then the overrides truncated to 16.16.
func (m *Map) testReweights(opt TestOptions) ([]uint32, error) {
	if m.Rule(opt.Rule) == nil {
		return nil, fmt.Errorf("%w %d: the map has no such rule; list its rules with `radosctl crush decompile`", ErrUnknownRule, opt.Rule)
	}
	if opt.NumRep <= 0 {
		return nil, fmt.Errorf("%w: --num-rep %d must be at least 1", ErrBadTestOption, opt.NumRep)
	}
	if opt.MaxX > math.MaxInt32 {
		return nil, fmt.Errorf("%w: --max-x %d does not fit crushtool's 32-bit x; use at most %d", ErrBadTestOption, opt.MaxX, math.MaxInt32)
	}
	reweight := make([]uint32, max(m.MaxDevices, 0))
	for _, b := range m.Buckets {
		if b == nil {
			continue
		}
		for _, it := range b.Items {
			if it >= 0 && it < m.MaxDevices {
				reweight[it] = WeightOne
			}
		}
	}
	ids := make([]int32, 0, len(opt.Weights))
	for id := range opt.Weights {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	for _, id := range ids {
		fw := opt.Weights[id]
		if !(fw >= 0 && fw <= 1) {
			return nil, fmt.Errorf("%w: weight %v for osd.%d is outside [0, 1]", ErrBadTestOption, fw, id)
		}
		if !m.hasDevice(id) {
			return nil, fmt.Errorf("%w osd.%d: the map has no such device (max_devices %d)", ErrUnknownDevice, id, m.MaxDevices)
		}
		reweight[id] = reweightFixed(fw)
	}
	return reweight, nil
}

// hasDevice reports whether id is a device of the map: below max_devices
// and either named or held by a bucket.
func (m *Map) hasDevice(id int32) bool {
	if id < 0 || id >= m.MaxDevices {
		return false
	}
	if _, ok := m.Names[id]; ok {
		return true
	}
	for _, b := range m.Buckets {
		if b != nil && contains(b.Items, id) {
			return true
		}
	}
	return false
}

// reweightFixed converts a reweight in [0, 1] to 16.16 as crushtool does:
// multiply the float32 by 65536 and truncate.
func reweightFixed(w float32) uint32 {
	v := float64(w) * 65536
	return uint32(math.Min(math.Max(math.Trunc(v), 0), float64(WeightOne)))
}

func weightSum(v []uint32) uint64 {
	var s uint64
	for _, w := range v {
		s += uint64(w)
	}
	return s
}

// utilization gathers crushtool's --show-utilization statistics.
type utilization struct {
	on     bool
	sizes  map[int]int
	stored []int
	total  int
}

func newUtilization(on bool, devices int) *utilization {
	if !on {
		return &utilization{}
	}
	return &utilization{on: true, sizes: map[int]int{}, stored: make([]int, devices)}
}

// add counts one mapping result.
func (u *utilization) add(items []int32) {
	if !u.on {
		return
	}
	u.total++
	u.sizes[len(items)]++
	for _, it := range items {
		if it >= 0 && int(it) < len(u.stored) {
			u.stored[it]++
		}
	}
}

// write prints the result-size counts in ascending size, then for each
// device that stored something and has a non-zero reweight its count and
// its expected share, by reweight, of x count * min(num_rep, the rule's
// placeable replicas).
func (u *utilization) write(w io.Writer, m *Map, opt TestOptions, reweight []uint32) {
	if !u.on {
		return
	}
	sizes := make([]int, 0, len(u.sizes))
	for s := range u.sizes {
		sizes = append(sizes, s)
	}
	sort.Ints(sizes)
	for _, s := range sizes {
		fmt.Fprintf(w, "rule %d (%s) num_rep %d result size == %d:\t%d/%d\n", opt.Rule, m.RuleNames[int32(opt.Rule)], opt.NumRep, s, u.sizes[s], u.total)
	}
	// crushtool computes these figures in single precision from an exact
	// weight total: each device's share of the total and the product with
	// the object count are float32 operations, which shows in the last
	// printed digit.
	sum := float32(float64(weightSum(reweight)) / 65536)
	objects := float32(u.total * min(opt.NumRep, m.placeableReplicas(m.Rule(opt.Rule))))
	for d, n := range u.stored {
		if n == 0 || reweight[d] == 0 {
			continue
		}
		share := float32(reweight[d]) / 65536 / sum
		expected := float64(share * objects)
		fmt.Fprintf(w, "  device %d:\t\t stored : %d\t expected : %s\n", d, n, strconv.FormatFloat(expected, 'g', 6, 64))
	}
}

// placeableReplicas is crushtool's estimate of how many items a rule can
// place per input, used only for the "expected" figures of the utilization
// report; it was established by experiment with crushtool 16.2. Every step
// with an opcode of 2 or more other than emit (choose steps, but set_*
// steps too, whose type argument is 0) names a type T and a count. Each
// naming adds the number of named buckets of type T to a per-type total (a
// type named twice counts its buckets twice); the count of the last step
// naming T, when positive and smaller, replaces that total. The estimate is
// the smallest positive total, or max(max_buckets, max_devices) when there
// is none or it is larger.
func (m *Map) placeableReplicas(r *Rule) int {
	bucketsOfType := map[int32]int{}
	for id := range m.Names {
		if b := m.Bucket(id); b != nil {
			bucketsOfType[int32(b.Type)]++
		}
	}
	total := map[int32]int{}
	last := map[int32]int32{}
	for _, st := range r.Steps {
		if st.Op >= OpChooseFirstN && st.Op != OpEmit {
			total[st.Arg2] += bucketsOfType[st.Arg2]
			last[st.Arg2] = st.Arg1
		}
	}
	best := max(len(m.Buckets), int(m.MaxDevices))
	for t, n := range total {
		if c := int(last[t]); c > 0 && c < n {
			n = c
		}
		if n > 0 && n < best {
			best = n
		}
	}
	return best
}
