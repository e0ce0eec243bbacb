package crush

// This file writes a map as crushtool's text format, byte for byte what
// `crushtool -d` prints (spec/crush-formats.md section 6). The text
// recompiles to the same map, except for weights that are not multiples of
// 1/1000 (printed rounded to three decimals).

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Decompile returns the map as crushtool's text format, identical to what
// `crushtool -d` prints. Maps that crushtool cannot decompile (a take step
// on a shadow bucket whose name does not split into a known bucket and
// class) are written as far as possible; WriteText reports them instead.
func (m *Map) Decompile() []byte {
	var buf bytes.Buffer
	_ = m.WriteText(&buf) // the buffer cannot fail; map errors are documented above
	return buf.Bytes()
}

// WriteText writes the map as crushtool's text format (see Decompile). It
// returns an error wrapping ErrDecompile where crushtool would fail, after
// writing everything else, or the writer's error.
func (m *Map) WriteText(w io.Writer) error {
	d := &decompiler{m: m, w: &errWriter{w: w}}
	d.p("# begin crush map\n")
	d.tunables()
	d.p("\n# devices\n")
	d.devices()
	d.p("\n# types\n")
	d.types()
	d.p("\n# buckets\n")
	d.buckets()
	d.p("\n# rules\n")
	d.rules()
	if len(m.ChooseArgs) > 0 {
		d.p("\n# choose_args\n")
		d.chooseArgs()
	}
	d.p("\n# end crush map\n")
	if d.w.err != nil {
		return d.w.err
	}
	return d.err
}

// errWriter keeps the first write error so that printing code stays flat.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

type decompiler struct {
	m   *Map
	w   *errWriter
	err error // first map problem (crushtool would have failed)
}

func (d *decompiler) p(format string, args ...any) { fmt.Fprintf(d.w, format, args...) }

func (d *decompiler) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrDecompile, fmt.Sprintf(format, args...))
	}
}

// fmt3 prints a 16.16 weight as crushtool does: the u32 read as signed,
// converted to float32, divided by 65536 in float32 and printed with three
// decimals, rounding the exact binary value half to even (glibc %.3f).
func fmt3(v uint32) string {
	f := float32(int32(v)) / 65536
	return strconv.FormatFloat(float64(f), 'f', 3, 64)
}

func (d *decompiler) tunables() {
	t, l := d.m.Tunables, LegacyTunables()
	lines := []struct {
		name     string
		val, old uint32
	}{
		{"choose_local_tries", t.ChooseLocalTries, l.ChooseLocalTries},
		{"choose_local_fallback_tries", t.ChooseLocalFallbackTries, l.ChooseLocalFallbackTries},
		{"choose_total_tries", t.ChooseTotalTries, l.ChooseTotalTries},
		{"chooseleaf_descend_once", t.ChooseLeafDescendOnce, l.ChooseLeafDescendOnce},
		{"chooseleaf_vary_r", uint32(t.ChooseLeafVaryR), uint32(l.ChooseLeafVaryR)},
		{"chooseleaf_stable", uint32(t.ChooseLeafStable), uint32(l.ChooseLeafStable)},
		{"straw_calc_version", uint32(t.StrawCalcVersion), uint32(l.StrawCalcVersion)},
		{"allowed_bucket_algs", t.AllowedBucketAlgs, l.AllowedBucketAlgs},
	}
	for _, x := range lines {
		if x.val != x.old {
			d.p("tunable %s %d\n", x.name, x.val)
		}
	}
}

func (d *decompiler) devices() {
	for _, id := range sortedKeys(d.m.Names) {
		if id < 0 || id >= d.m.MaxDevices {
			continue
		}
		d.p("device %d %s", id, d.m.Names[id])
		if cls, ok := d.m.deviceClass(id); ok {
			d.p(" class %s", cls)
		}
		d.p("\n")
	}
}

// deviceClass returns the class name of an item, if it has one.
func (m *Map) deviceClass(id int32) (string, bool) {
	c, ok := m.ClassMap[id]
	if !ok {
		return "", false
	}
	name, ok := m.ClassNames[c]
	return name, ok
}

// types prints the type lines. crushtool walks the ids 0, 1, 2, ... with a
// 32-bit counter until it has printed every type, so negative ids come last
// (after the counter wraps), and a nameless type 0 is printed as "osd".
func (d *decompiler) types() {
	if len(d.m.TypeNames) == 0 {
		return
	}
	if _, ok := d.m.TypeNames[0]; !ok {
		d.p("type 0 osd\n")
	}
	for _, id := range typeWalkOrder(d.m) {
		d.p("type %d %s\n", id, d.m.TypeNames[id])
	}
}

// typeWalkOrder returns the type ids in crushtool's walk order: 0 and up,
// then the negative ids from -2^31 up.
func typeWalkOrder(m *Map) []int32 {
	ids := sortedKeys(m.TypeNames)
	split := sort.Search(len(ids), func(i int) bool { return ids[i] >= 0 })
	return append(ids[split:], ids[:split]...)
}

// typeName is the name crushtool prints for a type id.
func (m *Map) typeName(t int32) string {
	if n, ok := m.TypeNames[t]; ok {
		return n
	}
	if t == 0 {
		return "device"
	}
	return fmt.Sprintf("type%d", t)
}

// itemName is the name crushtool prints for an item id.
func (m *Map) itemName(id int32) string {
	if n, ok := m.Names[id]; ok {
		return n
	}
	if id >= 0 {
		return fmt.Sprintf("device%d", id)
	}
	return fmt.Sprintf("bucket%d", -1-int64(id))
}

// isShadowName reports whether a bucket name is a shadow's: it holds a
// character that the text grammar does not allow in names (the '~').
func isShadowName(name string) bool { return !isName(name) }

func (d *decompiler) buckets() {
	state := make(map[int32]uint8, len(d.m.Buckets)) // 1 visiting, 2 printed
	for slot := range d.m.Buckets {
		d.visitBucket(int32(-1-slot), state)
	}
}

// visitBucket prints the bucket's child buckets first, then the bucket.
func (d *decompiler) visitBucket(id int32, state map[int32]uint8) {
	b := d.m.Bucket(id)
	if b == nil || state[id] != 0 {
		if b != nil && state[id] == 1 {
			d.fail("bucket %d contains itself", id)
		}
		return
	}
	state[id] = 1
	for _, it := range b.Items {
		if it < 0 {
			d.visitBucket(it, state)
		}
	}
	state[id] = 2
	if name := d.m.itemName(id); !isShadowName(name) {
		d.printBucket(b, name)
	}
}

var algText = map[Alg]struct{ name, note string }{
	AlgUniform: {"uniform", ""},
	AlgList:    {"list", "\t# add new items at the end; do not change order unnecessarily"},
	AlgTree:    {"tree", "\t# do not change pos for existing items unnecessarily"},
	AlgStraw:   {"straw", ""},
	AlgStraw2:  {"straw2", ""},
}

func (d *decompiler) printBucket(b *Bucket, name string) {
	d.p("%s %s {\n", d.m.typeName(int32(b.Type)), name)
	d.p("\tid %d\t\t# do not change unnecessarily\n", b.ID)
	for _, cls := range sortedKeys(d.m.ClassBucket[b.ID]) {
		d.p("\tid %d class %s\t\t# do not change unnecessarily\n", d.m.ClassBucket[b.ID][cls], d.m.ClassNames[cls])
	}
	d.p("\t# weight %s\n", fmt3(b.Weight))
	alg, ok := algText[b.Alg]
	if !ok {
		alg.name = "unknown"
	}
	if b.Alg == AlgUniform {
		alg.note = fmt.Sprintf("\t# do not change bucket size (%d) unnecessarily", len(b.Items))
	}
	d.p("\talg %s%s\n", alg.name, alg.note)
	hash := "unknown"
	if b.Hash == 0 {
		hash = "rjenkins1"
	}
	d.p("\thash %d\t# %s\n", b.Hash, hash)
	for j, it := range b.Items {
		d.p("\titem %s weight %s", d.m.itemName(it), fmt3(b.ItemWeight(j)))
		if b.Alg == AlgUniform || b.Alg == AlgTree {
			d.p(" pos %d", j)
		}
		d.p("\n")
	}
	d.p("}\n")
}

func (d *decompiler) rules() {
	for id, r := range d.m.Rules {
		if r == nil {
			continue
		}
		d.p("rule %s {\n", d.m.RuleNames[int32(id)])
		d.p("\tid %d\n", id)
		if int(r.Ruleset) != id {
			d.p("\t# WARNING: ruleset %d != id %d; this will not recompile to the same map\n", r.Ruleset, id)
		}
		switch r.Type {
		case RuleTypeReplicated:
			d.p("\ttype replicated\n")
		case RuleTypeErasure:
			d.p("\ttype erasure\n")
		default:
			d.p("\ttype %d\n", r.Type)
		}
		d.p("\tmin_size %d\n\tmax_size %d\n", r.MinSize, r.MaxSize)
		for _, s := range r.Steps {
			d.step(s)
		}
		d.p("}\n")
	}
}

// stepNames maps the ops that print as "step <name> <arg1>".
var stepNames = map[Op]string{
	OpSetChooseTries: "set_choose_tries", OpSetChooseLocalTries: "set_choose_local_tries",
	OpSetChooseLocalFallbackTries: "set_choose_local_fallback_tries",
	OpSetChooseLeafTries:          "set_chooseleaf_tries", OpSetChooseLeafVaryR: "set_chooseleaf_vary_r",
	OpSetChooseLeafStable: "set_chooseleaf_stable",
}

// chooseNames maps the choose ops to their text.
var chooseNames = map[Op]string{
	OpChooseFirstN: "choose firstn", OpChooseIndep: "choose indep",
	OpChooseLeafFirstN: "chooseleaf firstn", OpChooseLeafIndep: "chooseleaf indep",
}

func (d *decompiler) step(s Step) {
	switch {
	case s.Op == OpNoop:
		d.p("\tstep noop\n")
	case s.Op == OpTake:
		d.take(s.Arg1)
	case s.Op == OpEmit:
		d.p("\tstep emit\n")
	case stepNames[s.Op] != "":
		d.p("\tstep %s %d\n", stepNames[s.Op], s.Arg1)
	case chooseNames[s.Op] != "":
		d.p("\tstep %s %d type %s\n", chooseNames[s.Op], s.Arg1, d.m.typeName(s.Arg2))
	}
}

// take prints a take step; a shadow bucket prints as "<bucket> class <class>".
func (d *decompiler) take(id int32) {
	name := d.m.itemName(id)
	if !strings.Contains(name, "~") {
		d.p("\tstep take %s\n", name)
		return
	}
	base, cls, _ := strings.Cut(name, "~")
	if !d.m.hasItemName(base) || !d.m.hasClassName(cls) {
		d.fail("take step on %s, which is neither a bucket nor a shadow of a known bucket and class", name)
	}
	d.p("\tstep take %s class %s\n", base, cls)
}

func (m *Map) hasItemName(name string) bool {
	for _, n := range m.Names {
		if n == name {
			return true
		}
	}
	return false
}

func (m *Map) hasClassName(name string) bool {
	_, ok := classByName(m, name)
	return ok
}

func (d *decompiler) chooseArgs() {
	ids := make([]int64, 0, len(d.m.ChooseArgs))
	for id := range d.m.ChooseArgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		d.p("choose_args %d {\n", uint64(id))
		for slot, a := range d.m.ChooseArgs[id] {
			if !a.Empty() {
				d.chooseArg(int32(-1-slot), a)
			}
		}
		d.p("}\n")
	}
}

func (d *decompiler) chooseArg(bucketID int32, a ChooseArg) {
	d.p("  {\n    bucket_id %d\n", bucketID)
	if len(a.WeightSet) > 0 {
		d.p("    weight_set [\n")
		for _, row := range a.WeightSet {
			d.p("      [ ")
			for _, w := range row {
				d.p("%s ", fmt3(w))
			}
			d.p("]\n")
		}
		d.p("    ]\n")
	}
	if len(a.IDs) > 0 {
		d.p("    ids [ ")
		for _, id := range a.IDs {
			d.p("%d ", id)
		}
		d.p("]\n")
	}
	d.p("  }\n")
}
