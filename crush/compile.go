package crush

// This file compiles parsed text maps into the map model exactly as
// crushtool 16.2 does (spec/crush-formats.md sections 3 and 4): legacy
// tunables by default, the pairwise bucket reordering quirk, automatic id
// allocation, float32 weights, class ids, shadow trees and choose_args. Its
// refusals use crushtool's messages, prefixed with the statement's position.

import (
	"fmt"
	"strconv"
)

// Limits of our own, far above real maps, that keep hostile input from
// making the compiler allocate gigabytes (crushtool would try and crash).
const (
	bucketSlotsMax = 1 << 20 // bucket ids must be >= -bucketSlotsMax
	ruleSlotsMax   = 1 << 16 // rule ids must be < ruleSlotsMax
)

// Compile compiles crushtool's text format into a map identical to the one
// `crushtool -c` builds: encoding the result gives crushtool's binary byte
// for byte (apart from the documented shadow-tree-bucket case). Errors are
// *CompileError values naming line and column; syntax errors wrap ErrSyntax,
// maps crushtool refuses wrap ErrCompile and carry crushtool's message.
func Compile(src []byte) (*Map, error) {
	f, err := parseMap(src)
	if err != nil {
		return nil, err
	}
	c := newCompiler()
	c.prescanIDs(f)
	if err := reorderBuckets(f); err != nil {
		return nil, err
	}
	if err := c.run(f); err != nil {
		return nil, err
	}
	if err := recomputeMaxDevices(c.m); err != nil {
		return nil, &CompileError{Line: 1, Col: 1, Msg: err.Error(), kind: ErrCompile}
	}
	return c.m, nil
}

// compiler holds the compiler-side tables of spec 3.2.
type compiler struct {
	m        *Map
	items    map[string]int32 // device and bucket name -> id
	types    map[string]int32 // type name -> id (last declaration wins)
	weights  map[int32]uint32 // bucket id -> total weight
	usedIDs  map[int32]bool   // every number on a bucket id line
	assigned map[int32]bool   // bucket ids given out so far
	pins     map[int32]map[int32]int32
	rules    map[string]bool // rule names so far
	nextAuto int32           // no automatic bucket id above this is free
	inRules  bool            // a rule has been processed
}

func newCompiler() *compiler {
	return &compiler{
		m:        NewMap(),
		items:    map[string]int32{},
		types:    map[string]int32{},
		weights:  map[int32]uint32{},
		usedIDs:  map[int32]bool{},
		assigned: map[int32]bool{},
		pins:     map[int32]map[int32]int32{},
		rules:    map[string]bool{},
		nextAuto: -1,
	}
}

// refuse returns crushtool's message for a statement it refuses.
func refuse(at pos, format string, args ...any) error {
	return &CompileError{Line: at.line, Col: at.col, Msg: fmt.Sprintf(format, args...), kind: ErrCompile}
}

func (c *compiler) prescanIDs(f *mapFile) {
	for _, s := range f.body {
		if s.bucket != nil {
			for _, l := range s.bucket.ids {
				c.usedIDs[l.id] = true
			}
		}
	}
}

// reorderBuckets applies crushtool's pairwise swap (spec 3.3), which moves
// some children before their parents but is not a topological sort.
func reorderBuckets(f *mapFile) error {
	var idx []int // positions of bucket statements in f.body
	for i, s := range f.body {
		if s.bucket != nil {
			idx = append(idx, i)
		}
	}
	orig := make([]*bucketStmt, len(idx))
	for k, i := range idx {
		orig[k] = f.body[i].bucket
	}
	slots := make([]int, len(idx)) // slot -> original statement
	for k := range slots {
		slots[k] = k
	}
	for i := range orig {
		for j := i + 1; j < len(orig); j++ {
			if !listsItem(orig[i], orig[j].name) {
				continue
			}
			if listsItem(orig[j], orig[i].name) {
				return refuse(orig[i].at, "bucket  '%s' and bucket '%s' are included each other", orig[i].name, orig[j].name)
			}
			slots[i], slots[j] = slots[j], slots[i]
		}
	}
	for k, i := range idx {
		f.body[i].bucket = orig[slots[k]]
	}
	return nil
}

func listsItem(b *bucketStmt, name string) bool {
	for _, it := range b.items {
		if it.name == name {
			return true
		}
	}
	return false
}

func (c *compiler) run(f *mapFile) error {
	for _, s := range f.header {
		if err := c.header(s); err != nil {
			return err
		}
	}
	for _, s := range f.body {
		var err error
		if s.bucket != nil {
			err = c.bucket(s.bucket)
		} else {
			err = c.rule(s.rule)
		}
		if err != nil {
			return err
		}
	}
	for _, s := range f.chooseArgs {
		if err := c.chooseArgs(s); err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) header(s any) error {
	switch s := s.(type) {
	case *tunableStmt:
		return c.tunable(s)
	case *deviceStmt:
		c.m.Names[s.id] = s.name
		if _, dup := c.items[s.name]; dup {
			return refuse(s.at, "item %s defined twice", s.name)
		}
		c.items[s.name] = s.id
		if s.class != "" {
			c.m.ClassMap[s.id] = c.classID(s.class)
		}
	case *typeStmt:
		c.m.TypeNames[s.id] = s.name
		c.types[s.name] = s.id
	}
	return nil
}

func (c *compiler) tunable(s *tunableStmt) error {
	t, v := &c.m.Tunables, s.value
	switch s.name {
	case "choose_local_tries":
		t.ChooseLocalTries = uint32(v)
	case "choose_local_fallback_tries":
		t.ChooseLocalFallbackTries = uint32(v)
	case "choose_total_tries":
		t.ChooseTotalTries = uint32(v)
	case "chooseleaf_descend_once":
		t.ChooseLeafDescendOnce = 0
		if v != 0 {
			t.ChooseLeafDescendOnce = 1
		}
	case "chooseleaf_vary_r":
		t.ChooseLeafVaryR = uint8(v)
	case "chooseleaf_stable":
		t.ChooseLeafStable = uint8(v)
	case "straw_calc_version":
		t.StrawCalcVersion = uint8(v)
	case "allowed_bucket_algs":
		t.AllowedBucketAlgs = uint32(v)
	default:
		return refuse(s.at, "tunable %s not recognized", s.name)
	}
	return nil
}

// classID returns the id of a class, creating it (1 + the largest id so
// far, 0 for the first) when it is new.
func (c *compiler) classID(name string) int32 {
	return classIDFor(c.m, name)
}

// classIDFor looks a class name up in m, allocating the next class id for a
// new name (spec 3.4).
func classIDFor(m *Map, name string) int32 {
	next := int32(0)
	for id, n := range m.ClassNames {
		if n == name {
			return id
		}
		next = max(next, id+1)
	}
	m.ClassNames[next] = name
	return next
}

var algNames = map[string]Alg{
	"uniform": AlgUniform, "list": AlgList, "tree": AlgTree, "straw": AlgStraw, "straw2": AlgStraw2,
}

func (c *compiler) bucket(s *bucketStmt) error {
	if c.inRules {
		return refuse(s.at, "buckets must be defined before rules")
	}
	typeID, ok := c.types[s.typeName]
	if !ok {
		return refuse(s.at, "bucket type '%s' is not defined", s.typeName)
	}
	if _, dup := c.items[s.name]; dup {
		return refuse(s.at, "bucket or device '%s' is already defined", s.name)
	}
	id, pins, err := c.bucketIDs(s)
	if err != nil {
		return err
	}
	alg, ok := algNames[s.alg]
	if !ok {
		return refuse(s.at, "unknown bucket alg '%s'", s.alg)
	}
	items, weights, total, err := c.bucketItems(s, alg)
	if err != nil {
		return err
	}
	if id == 0 {
		id = c.autoBucketID()
	}
	c.items[s.name] = id
	c.assigned[id] = true
	c.weights[id] = total
	if len(pins) > 0 {
		c.pins[id] = pins
	}
	b, err := NewBucket(id, uint16(typeID), alg, uint8(s.hash), items, weights, c.m.StrawCalcVersion)
	if err != nil {
		return refuse(s.at, "bucket '%s': %v", s.name, err)
	}
	if err := placeBucket(c.m, b); err != nil {
		return refuse(s.at, "%v", err)
	}
	c.m.Names[id] = s.name
	return nil
}

// bucketIDs applies the id lines: the last plain id wins (0 means none) and
// each class line pins a shadow id, creating the class if needed.
func (c *compiler) bucketIDs(s *bucketStmt) (int32, map[int32]int32, error) {
	var id int32
	pins := map[int32]int32{}
	for _, l := range s.ids {
		if l.class == "" {
			id = l.id
			continue
		}
		cls := c.classID(l.class)
		if _, dup := pins[cls]; dup {
			return 0, nil, refuse(s.at, "duplicate device class %s for bucket %s", l.class, s.name)
		}
		pins[cls] = l.id
	}
	for cls, id := range pins {
		if id == 0 {
			delete(pins, cls) // "id -0 class C" pins nothing, as a plain "id -0"
		}
	}
	return id, pins, nil
}

// autoBucketID returns the first of -1, -2, ... that no id line names and
// no bucket has; both sets only grow, so the search resumes where it ended.
func (c *compiler) autoBucketID() int32 {
	for c.usedIDs[c.nextAuto] || c.assigned[c.nextAuto] {
		c.nextAuto--
	}
	return c.nextAuto
}

// bucketItems resolves, weighs and positions the items of a bucket (spec 3.5
// steps 6 and 7). It returns them in position order with the bucket total.
func (c *compiler) bucketItems(s *bucketStmt, alg Alg) ([]int32, []uint32, uint32, error) {
	n := int32(len(s.items))
	size := n
	claimed := map[int32]bool{}
	for k := range s.items {
		// crushtool takes a position that wrapped negative for "none".
		if s.items[k].pos < 0 {
			s.items[k].hasPos = false
		}
	}
	for _, it := range s.items {
		if !it.hasPos {
			continue
		}
		if claimed[it.pos] {
			return nil, nil, 0, refuse(it.at, "item '%s' in bucket '%s' has explicit pos %d, which is occupied", it.name, s.name, it.pos)
		}
		claimed[it.pos] = true
		size = max(size, it.pos)
	}
	items := make([]int32, size)
	weights := make([]uint32, size)
	next := int32(0) // candidate position for items without pos
	var total uint64
	var first uint32 // a uniform bucket's items must all weigh this
	for k, it := range s.items {
		id, w, err := c.itemWeight(s, it)
		if err != nil {
			return nil, nil, 0, err
		}
		if k == 0 {
			first = w
		}
		if alg == AlgUniform && w != first {
			return nil, nil, 0, refuse(it.at, "item '%s' in uniform bucket '%s' has weight %d but previous item(s) have weight %s; uniform bucket items must all have identical weights.",
				it.name, s.name, w, formatFloatLikeOstream(float32(first)/65536))
		}
		p := it.pos
		if it.hasPos {
			if p >= size {
				return nil, nil, 0, refuse(it.at, "item '%s' in bucket '%s' has pos %d >= size %d", it.name, s.name, p, size)
			}
		} else {
			for claimed[next] {
				next++
			}
			p = next
			next++
		}
		if total += uint64(w); total > 0xffffffff {
			return nil, nil, 0, refuse(it.at, "oh no! our bucket weights are overflowing all over the place, better lower the item weights")
		}
		items[p], weights[p] = id, w
	}
	return items, weights, uint32(total), nil
}

// itemWeight resolves an item line and returns its id and checked weight.
func (c *compiler) itemWeight(s *bucketStmt, it itemLine) (int32, uint32, error) {
	id, ok := c.items[it.name]
	if !ok {
		return 0, 0, refuse(it.at, "item '%s' in bucket '%s' is not defined", it.name, s.name)
	}
	w := it.weight
	if !it.hasWeight {
		w = WeightOne
		if id < 0 {
			w = c.weights[id]
		}
	}
	if id >= 0 && w > 100*WeightOne {
		return 0, 0, refuse(it.at, "device weight limited to 100")
	}
	if id < 0 && w > 0xffff0000 {
		return 0, 0, refuse(it.at, "bucket weight limited to 65535 to prevent overflow")
	}
	return id, w, nil
}

// formatFloatLikeOstream prints a float the way a C++ ostream does by
// default: six significant digits, no trailing zeros.
func formatFloatLikeOstream(f float32) string {
	return strconv.FormatFloat(float64(f), 'g', 6, 32)
}

// placeBucket puts b into its slot, growing the slot array by doubling from
// 8 as crushtool does (spec 3.5 step 10).
func placeBucket(m *Map, b *Bucket) error {
	slot := -1 - int64(b.ID)
	if slot < 0 || slot >= bucketSlotsMax {
		return fmt.Errorf("bucket id %d is out of range; bucket ids must be between -1 and -%d", b.ID, bucketSlotsMax)
	}
	if slot >= int64(len(m.Buckets)) {
		n := max(len(m.Buckets), 8)
		for int64(n) <= slot {
			n *= 2
		}
		grown := make([]*Bucket, n)
		copy(grown, m.Buckets)
		m.Buckets = grown
		for id, set := range m.ChooseArgs {
			m.ChooseArgs[id] = append(set, make(ChooseArgSet, n-len(set))...)
		}
	}
	if m.Buckets[slot] != nil {
		return fmt.Errorf("Duplicate bucket id %d", b.ID)
	}
	m.Buckets[slot] = b
	return nil
}

func (c *compiler) rule(s *ruleStmt) error {
	if !c.inRules {
		c.inRules = true
		newShadowBuilder(c.m, c.pins).buildAll()
		for id, name := range c.m.Names {
			c.items[name] = id
		}
	}
	if s.name != "" && c.rules[s.name] {
		return refuse(s.at, "rule name '%s' already defined", s.name)
	}
	if c.m.Rule(int(s.id)) != nil {
		return refuse(s.at, "rule %d already exists", s.id)
	}
	if s.id < 0 || (int(s.id) >= len(c.m.Rules) && len(c.m.Rules)+1 > 256) {
		return refuse(s.at, "unable to add rule id %d for rule '%s'", s.id, s.name)
	}
	if s.id >= ruleSlotsMax {
		return refuse(s.at, "rule id %d is out of range; rule ids must be below %d", s.id, ruleSlotsMax)
	}
	r := &Rule{Ruleset: uint8(s.id), Type: RuleTypeReplicated, MinSize: uint8(s.minSize), MaxSize: uint8(s.maxSize)}
	if s.typ == "erasure" {
		r.Type = RuleTypeErasure
	}
	for _, st := range s.steps {
		step, err := c.step(s, st)
		if err != nil {
			return err
		}
		r.Steps = append(r.Steps, step)
	}
	if int(s.id) >= len(c.m.Rules) {
		c.m.Rules = append(c.m.Rules, make([]*Rule, int(s.id)+1-len(c.m.Rules))...)
	}
	c.m.Rules[s.id] = r
	if s.name != "" {
		c.m.RuleNames[s.id] = s.name
		c.rules[s.name] = true
	}
	return nil
}

func (c *compiler) step(r *ruleStmt, s stepStmt) (Step, error) {
	switch s.op {
	case "take":
		return c.takeStep(r, s)
	case "emit":
		return Step{Op: OpEmit}, nil
	case "choose", "chooseleaf":
		t, ok := c.types[s.typeName]
		if !ok {
			return Step{}, refuse(s.at, "in rule '%s' type '%s' not defined", r.name, s.typeName)
		}
		op := map[string]Op{"choosefirstn": OpChooseFirstN, "chooseindep": OpChooseIndep,
			"chooseleaffirstn": OpChooseLeafFirstN, "chooseleafindep": OpChooseLeafIndep}[s.op+s.mode]
		return Step{Op: op, Arg1: s.num, Arg2: t}, nil
	default:
		return Step{Op: setSteps[s.op], Arg1: s.num}, nil
	}
}

func (c *compiler) takeStep(r *ruleStmt, s stepStmt) (Step, error) {
	id, ok := c.items[s.item]
	if !ok {
		return Step{}, refuse(s.at, "in rule '%s' item '%s' not defined", r.name, s.item)
	}
	if s.class == "" {
		return Step{Op: OpTake, Arg1: id}, nil
	}
	cls, ok := classByName(c.m, s.class)
	if !ok {
		return Step{}, &CompileError{Line: s.at.line, Col: s.at.col, kind: ErrUnknownClassSilent,
			Msg: fmt.Sprintf("in rule '%s' step take %s class %s: device class '%s' does not exist (crushtool fails silently here)",
				r.name, s.item, s.class, s.class)}
	}
	byClass, ok := c.m.ClassBucket[id]
	if !ok {
		return Step{}, refuse(s.at, "in rule '%s' step take %s has no class information", r.name, s.item)
	}
	shadow, ok := byClass[cls]
	if !ok {
		return Step{}, refuse(s.at, "in rule '%s' step take %s no matching bucket for class %s", r.name, s.item, s.class)
	}
	return Step{Op: OpTake, Arg1: shadow}, nil
}

// classByName returns the id of an existing class.
func classByName(m *Map, name string) (int32, bool) {
	for id, n := range m.ClassNames {
		if n == name {
			return id, true
		}
	}
	return 0, false
}

func (c *compiler) chooseArgs(s *chooseArgsStmt) error {
	id := int64(s.id)
	if _, dup := c.m.ChooseArgs[id]; dup {
		return refuse(s.at, "%d duplicated", id)
	}
	if (len(c.m.ChooseArgs)+1)*len(c.m.Buckets) > chooseArgEntriesMax {
		return refuse(s.at, "choose_args %d: %d sets over %d bucket slots exceed the supported %d entries",
			id, len(c.m.ChooseArgs)+1, len(c.m.Buckets), chooseArgEntriesMax)
	}
	set := make(ChooseArgSet, len(c.m.Buckets))
	for _, a := range s.args {
		if err := c.chooseArg(set, a); err != nil {
			return err
		}
	}
	c.m.ChooseArgs[id] = set
	return nil
}

func (c *compiler) chooseArg(set ChooseArgSet, a chooseArgStmt) error {
	slot := -1 - int64(a.bucketID)
	if slot < 0 || slot >= int64(len(set)) {
		return refuse(a.at, "%d is out of range", a.bucketID)
	}
	b := c.m.Buckets[slot]
	if b == nil {
		return refuse(a.at, "%d does not exist", a.bucketID)
	}
	entry := &set[slot]
	if a.hasWeightSet {
		for _, row := range a.weightSet {
			if len(row) != len(b.Items) {
				return refuse(a.at, "%d needs exactly %d weights but got %d", a.bucketID, len(b.Items), len(row))
			}
		}
		entry.WeightSet = a.weightSet
	}
	if a.hasIDs {
		if len(a.ids) != len(b.Items) {
			return refuse(a.at, "%d needs exactly %d ids but got %d", a.bucketID, len(b.Items), len(a.ids))
		}
		entry.IDs = a.ids
	}
	return nil
}
