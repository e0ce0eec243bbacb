package crush

// This file holds Ceph's binary CRUSH map encoding (spec/crush-formats.md
// section 5): what `crushtool -c` and `ceph osd getcrushmap` write. Encode
// reproduces crushtool 16.2's output byte for byte; Decode reads it and the
// shorter layouts of older writers, and refuses hostile input with an error
// instead of panicking or allocating memory that the input cannot pay for.

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// Magic is the first u32 of every binary CRUSH map.
const Magic uint32 = 0x00010000

// chooseArgEntriesMax bounds the number of choose_args entries (sets times
// bucket slots) a decoded map may hold. Ceph allocates one entry per bucket
// slot and set, so a small forged input could otherwise demand memory
// quadratic in its size; real maps stay far below this (a few sets times a
// few thousand buckets).
const chooseArgEntriesMax = 1 << 20

// Encode returns the binary encoding of m, byte-identical to what
// crushtool 16.2 writes for the same map (spec section 5.2).
func (m *Map) Encode() []byte {
	e := &encoder{buf: make([]byte, 0, 1024)}
	e.u32(Magic)
	e.s32(int32(len(m.Buckets)))
	e.u32(uint32(len(m.Rules)))
	e.s32(m.MaxDevices)
	for _, b := range m.Buckets {
		e.bucket(b)
	}
	for _, r := range m.Rules {
		e.rule(r)
	}
	e.stringMap(m.TypeNames)
	e.stringMap(m.Names)
	e.stringMap(m.RuleNames)
	e.tunables(&m.Tunables)
	e.classes(m)
	e.chooseArgs(m)
	return e.buf
}

// encoder appends little-endian primitives to a buffer.
type encoder struct{ buf []byte }

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u16(v uint16) { e.buf = binary.LittleEndian.AppendUint16(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }
func (e *encoder) s32(v int32)  { e.u32(uint32(v)) }
func (e *encoder) s64(v int64)  { e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(v)) }

func (e *encoder) str(s string) {
	e.u32(uint32(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) bucket(b *Bucket) {
	if b == nil {
		e.u32(0)
		return
	}
	e.u32(uint32(b.Alg))
	e.s32(b.ID)
	e.u16(b.Type)
	e.u8(uint8(b.Alg))
	e.u8(b.Hash)
	e.u32(b.Weight)
	e.u32(uint32(len(b.Items)))
	for _, it := range b.Items {
		e.s32(it)
	}
	switch b.Alg {
	case AlgUniform:
		e.u32(b.UniformWeight)
	case AlgList:
		for j := range b.Items {
			e.u32(b.ItemWeights[j])
			e.u32(b.SumWeights[j])
		}
	case AlgTree:
		e.u8(uint8(len(b.NodeWeights)))
		for _, w := range b.NodeWeights {
			e.u32(w)
		}
	case AlgStraw:
		for j := range b.Items {
			e.u32(b.ItemWeights[j])
			e.u32(b.Straws[j])
		}
	case AlgStraw2:
		for j := range b.Items {
			e.u32(b.ItemWeights[j])
		}
	}
}

func (e *encoder) rule(r *Rule) {
	if r == nil {
		e.u32(0)
		return
	}
	e.u32(1)
	e.u32(uint32(len(r.Steps)))
	e.u8(r.Ruleset)
	e.u8(r.Type)
	e.u8(r.MinSize)
	e.u8(r.MaxSize)
	for _, s := range r.Steps {
		e.u32(uint32(s.Op))
		e.s32(s.Arg1)
		e.s32(s.Arg2)
	}
}

func (e *encoder) stringMap(m map[int32]string) {
	e.u32(uint32(len(m)))
	for _, k := range sortedKeys(m) {
		e.s32(k)
		e.str(m[k])
	}
}

func (e *encoder) tunables(t *Tunables) {
	e.u32(t.ChooseLocalTries)
	e.u32(t.ChooseLocalFallbackTries)
	e.u32(t.ChooseTotalTries)
	e.u32(t.ChooseLeafDescendOnce)
	e.u8(t.ChooseLeafVaryR)
	e.u8(t.StrawCalcVersion)
	e.u32(t.AllowedBucketAlgs)
	e.u8(t.ChooseLeafStable)
}

func (e *encoder) classes(m *Map) {
	e.u32(uint32(len(m.ClassMap)))
	for _, k := range sortedKeys(m.ClassMap) {
		e.s32(k)
		e.s32(m.ClassMap[k])
	}
	e.stringMap(m.ClassNames)
	e.u32(uint32(len(m.ClassBucket)))
	for _, k := range sortedKeys(m.ClassBucket) {
		e.s32(k)
		inner := m.ClassBucket[k]
		e.u32(uint32(len(inner)))
		for _, c := range sortedKeys(inner) {
			e.s32(c)
			e.s32(inner[c])
		}
	}
}

func (e *encoder) chooseArgs(m *Map) {
	ids := make([]int64, 0, len(m.ChooseArgs))
	for id := range m.ChooseArgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	e.u32(uint32(len(ids)))
	for _, id := range ids {
		set := m.ChooseArgs[id]
		e.s64(id)
		n := 0
		for i := range set {
			if !set[i].Empty() {
				n++
			}
		}
		e.u32(uint32(n))
		for slot := range set {
			if !set[slot].Empty() {
				e.chooseArg(uint32(slot), &set[slot])
			}
		}
	}
}

func (e *encoder) chooseArg(slot uint32, a *ChooseArg) {
	e.u32(slot)
	e.u32(uint32(len(a.WeightSet)))
	for _, row := range a.WeightSet {
		e.u32(uint32(len(row)))
		for _, w := range row {
			e.u32(w)
		}
	}
	e.u32(uint32(len(a.IDs)))
	for _, id := range a.IDs {
		e.s32(id)
	}
}

// sortedKeys returns the keys of an int32-keyed map in ascending (signed)
// order, the order of every map in Ceph's encoding.
func sortedKeys[V any](m map[int32]V) []int32 {
	keys := make([]int32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// Decode parses a binary CRUSH map (spec section 5.10): it accepts the
// layouts of older writers (missing trailing tunable, class and choose_args
// groups keep their legacy values), drops choose_args entries of buckets
// that are not straw2, and recomputes max_devices. Every count is checked
// against the bytes that remain, so truncated, foreign or forged input
// returns an error wrapping ErrBadMagic, ErrTruncated or ErrCorrupt.
func Decode(data []byte) (*Map, error) {
	d := &decoder{data: data, slot: -1}
	m, err := d.decodeMap()
	if err != nil {
		return nil, err
	}
	if err := checkBucketGraph(m); err != nil {
		return nil, err
	}
	cleanChooseArgs(m)
	if err := recomputeMaxDevices(m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return m, nil
}

// decoder reads little-endian primitives. The first failure is sticky:
// later reads return zero values, and the caller checks d.err at the points
// where a value is used to size something.
type decoder struct {
	data []byte
	pos  int
	err  error
	what string // field being read, for error messages
	slot int    // slot of that field when it is a bucket or rule slot, else -1
}

// field names the field being read, for error messages. It is built only
// when an error happens, so decoding large maps formats nothing.
func (d *decoder) field() string {
	if d.slot >= 0 {
		return fmt.Sprintf("%s %d", d.what, d.slot)
	}
	return d.what
}

func (d *decoder) remaining() int { return len(d.data) - d.pos }

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.remaining() {
		d.err = fmt.Errorf("%w: %s needs %d bytes at offset %d but only %d remain",
			ErrTruncated, d.field(), n, d.pos, d.remaining())
		return nil
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b
}

func (d *decoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if b := d.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) s32() int32 { return int32(d.u32()) }

func (d *decoder) s64() int64 {
	if b := d.take(8); b != nil {
		return int64(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// count reads a u32 element count and checks that the remaining input can
// hold that many elements of at least minSize bytes each, so that a forged
// count can never make the decoder allocate more than the input justifies.
func (d *decoder) count(minSize int) int {
	n := d.u32()
	if d.err != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(d.remaining()) {
		d.err = fmt.Errorf("%w: %s claims %d entries of at least %d bytes at offset %d, but only %d bytes remain",
			ErrTruncated, d.field(), n, minSize, d.pos-4, d.remaining())
		return 0
	}
	return int(n)
}

func (d *decoder) corrupt(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) decodeMap() (*Map, error) {
	d.what = "magic"
	if len(d.data) < 4 || binary.LittleEndian.Uint32(d.data) != Magic {
		return nil, ErrBadMagic
	}
	d.pos = 4
	m := NewMap()
	d.what = "header"
	maxBuckets := d.s32()
	if d.err == nil && maxBuckets < 0 {
		d.corrupt("max_buckets is negative (%d)", maxBuckets)
	}
	maxRules := d.u32()
	m.MaxDevices = d.s32()
	d.decodeBuckets(m, maxBuckets)
	d.decodeRules(m, maxRules)
	d.what = "type names"
	m.TypeNames = d.legacyStringMap()
	d.what = "item names"
	m.Names = d.legacyStringMap()
	d.what = "rule names"
	m.RuleNames = d.legacyStringMap()
	d.decodeOptional(m)
	if d.err != nil {
		return nil, d.err
	}
	if d.remaining() > 0 {
		// Later releases append more tunables; Pacific ignores them too.
		d.pos = len(d.data)
	}
	return m, nil
}

func (d *decoder) decodeBuckets(m *Map, maxBuckets int32) {
	d.what = "bucket slots"
	if d.err != nil || int64(maxBuckets)*4 > int64(d.remaining()) {
		if d.err == nil {
			d.err = fmt.Errorf("%w: max_buckets is %d but only %d bytes remain",
				ErrTruncated, maxBuckets, d.remaining())
		}
		return
	}
	m.Buckets = make([]*Bucket, maxBuckets)
	for slot := range m.Buckets {
		d.what, d.slot = "bucket slot", slot
		m.Buckets[slot] = d.bucket(slot)
		if d.err != nil {
			return
		}
	}
	d.slot = -1
}

func (d *decoder) bucket(slot int) *Bucket {
	tag := d.u32()
	if tag == 0 || d.err != nil {
		return nil
	}
	if tag < uint32(AlgUniform) || tag > uint32(AlgStraw2) {
		d.corrupt("bucket slot %d has unsupported bucket algorithm %d", slot, tag)
		return nil
	}
	b := &Bucket{ID: d.s32(), Type: d.u16(), Alg: Alg(d.u8()), Hash: d.u8(), Weight: d.u32()}
	if d.err == nil && b.ID != int32(-1-slot) {
		d.corrupt("bucket in slot %d has id %d, expected %d", slot, b.ID, -1-slot)
	}
	if d.err == nil && uint32(b.Alg) != tag {
		d.corrupt("bucket %d has algorithm %d in its tag but %d in its body", b.ID, tag, b.Alg)
	}
	size := d.count(4)
	b.Items = make([]int32, size)
	for j := range b.Items {
		b.Items[j] = d.s32()
	}
	d.bucketPayload(b)
	return b
}

func (d *decoder) bucketPayload(b *Bucket) {
	size := len(b.Items)
	switch b.Alg {
	case AlgUniform:
		b.UniformWeight = d.u32()
		b.ItemWeights = make([]uint32, size)
		for j := range b.ItemWeights {
			b.ItemWeights[j] = b.UniformWeight
		}
	case AlgList:
		b.ItemWeights, b.SumWeights = d.weightPairs(size)
	case AlgStraw:
		b.ItemWeights, b.Straws = d.weightPairs(size)
	case AlgStraw2:
		b.ItemWeights = make([]uint32, size)
		for j := range b.ItemWeights {
			b.ItemWeights[j] = d.u32()
		}
	case AlgTree:
		d.treePayload(b)
	}
}

// weightPairs reads size interleaved (item weight, derived value) pairs.
func (d *decoder) weightPairs(size int) (weights, derived []uint32) {
	if d.err != nil || size*8 > d.remaining() {
		d.take(size * 8)
		return nil, nil
	}
	weights = make([]uint32, size)
	derived = make([]uint32, size)
	for j := 0; j < size; j++ {
		weights[j] = d.u32()
		derived[j] = d.u32()
	}
	return weights, derived
}

func (d *decoder) treePayload(b *Bucket) {
	n := int(d.u8())
	if d.err != nil {
		return
	}
	if want := treeNodeCount(len(b.Items)); n != want {
		d.corrupt("tree bucket %d has %d items but %d nodes; a tree of that size has %d nodes",
			b.ID, len(b.Items), n, want)
		return
	}
	if n*4 > d.remaining() {
		d.take(n * 4)
		return
	}
	b.NodeWeights = make([]uint32, n)
	for i := range b.NodeWeights {
		b.NodeWeights[i] = d.u32()
	}
	b.ItemWeights = make([]uint32, len(b.Items))
	for j := range b.ItemWeights {
		b.ItemWeights[j] = b.NodeWeights[2*j+1]
	}
}

// treeNodeCount is the node count of a tree bucket with size items
// (spec 3.6): 2^depth, or 0 for an empty tree. Sizes above 64 would need 256
// nodes, which the u8 node count cannot hold; they return -1 so that no
// stored count matches.
func treeNodeCount(size int) int {
	switch {
	case size == 0:
		return 0
	case size > treeItemsMax:
		return -1
	}
	return 1 << treeDepth(size)
}

func (d *decoder) decodeRules(m *Map, maxRules uint32) {
	d.what = "rule slots"
	if d.err != nil || uint64(maxRules)*4 > uint64(d.remaining()) {
		if d.err == nil {
			d.err = fmt.Errorf("%w: max_rules is %d but only %d bytes remain",
				ErrTruncated, maxRules, d.remaining())
		}
		return
	}
	m.Rules = make([]*Rule, maxRules)
	for i := range m.Rules {
		d.what, d.slot = "rule slot", i
		if d.u32() == 0 {
			continue
		}
		n := d.u32()
		r := &Rule{Ruleset: d.u8(), Type: d.u8(), MinSize: d.u8(), MaxSize: d.u8()}
		if d.err != nil || uint64(n)*12 > uint64(d.remaining()) {
			d.take(int(min(uint64(n)*12, math.MaxInt32)))
			return
		}
		r.Steps = make([]Step, n)
		for j := range r.Steps {
			r.Steps[j] = Step{Op: Op(d.u32()), Arg1: d.s32(), Arg2: d.s32()}
		}
		m.Rules[i] = r
	}
	d.slot = -1
}

// legacyStringMap reads a map s32 -> string whose keys very old encoders
// wrote as 64 bits (spec 5.5): a zero length means the real length follows.
func (d *decoder) legacyStringMap() map[int32]string {
	n := d.count(8)
	m := make(map[int32]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.s32()
		l := d.u32()
		if l == 0 {
			l = d.u32()
		}
		if d.err == nil && l == 0 {
			// The format cannot carry an empty name: its zero length would
			// be read back as the high half of a 64-bit key.
			d.corrupt("%s: id %d has an empty name", d.what, k)
		}
		if d.err == nil && uint64(l) > uint64(d.remaining()) {
			d.take(int(min(uint64(l), math.MaxInt32)))
			break
		}
		m[k] = string(d.take(int(l)))
	}
	return m
}

func (d *decoder) stringMap() map[int32]string {
	n := d.count(8)
	m := make(map[int32]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.s32()
		l := d.u32()
		if d.err == nil && uint64(l) > uint64(d.remaining()) {
			d.take(int(min(uint64(l), math.MaxInt32)))
			break
		}
		m[k] = string(d.take(int(l)))
	}
	return m
}

// decodeOptional reads the trailing groups that older writers omit (spec
// 5.10 step 4); each group is read only if bytes remain before it.
func (d *decoder) decodeOptional(m *Map) {
	groups := []struct {
		what string
		read func()
	}{
		{"tunables (tries)", func() {
			m.ChooseLocalTries, m.ChooseLocalFallbackTries, m.ChooseTotalTries = d.u32(), d.u32(), d.u32()
		}},
		{"tunable chooseleaf_descend_once", func() { m.ChooseLeafDescendOnce = d.u32() }},
		{"tunable chooseleaf_vary_r", func() { m.ChooseLeafVaryR = d.u8() }},
		{"tunable straw_calc_version", func() { m.StrawCalcVersion = d.u8() }},
		{"tunable allowed_bucket_algs", func() { m.AllowedBucketAlgs = d.u32() }},
		{"tunable chooseleaf_stable", func() { m.ChooseLeafStable = d.u8() }},
		{"device classes", func() { d.decodeClasses(m) }},
		{"choose_args", func() { d.decodeChooseArgs(m) }},
	}
	for _, g := range groups {
		if d.err != nil || d.remaining() == 0 {
			return
		}
		d.what = g.what
		g.read()
	}
}

func (d *decoder) decodeClasses(m *Map) {
	n := d.count(8)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.s32()
		m.ClassMap[k] = d.s32()
	}
	m.ClassNames = d.stringMap()
	n = d.count(8)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.s32()
		inner := map[int32]int32{}
		cn := d.count(8)
		for j := 0; j < cn && d.err == nil; j++ {
			c := d.s32()
			inner[c] = d.s32()
		}
		m.ClassBucket[k] = inner
	}
}

func (d *decoder) decodeChooseArgs(m *Map) {
	n := d.count(12)
	if uint64(n)*uint64(len(m.Buckets)) > chooseArgEntriesMax {
		d.corrupt("%d choose_args sets over %d bucket slots exceed the supported %d entries",
			n, len(m.Buckets), chooseArgEntriesMax)
		return
	}
	for i := 0; i < n && d.err == nil; i++ {
		id := d.s64()
		set := make(ChooseArgSet, len(m.Buckets))
		entries := d.count(12)
		for j := 0; j < entries && d.err == nil; j++ {
			d.chooseArg(m, id, set)
		}
		m.ChooseArgs[id] = set
	}
}

func (d *decoder) chooseArg(m *Map, setID int64, set ChooseArgSet) {
	slot := d.u32()
	if d.err == nil && uint64(slot) >= uint64(len(set)) {
		d.corrupt("choose_args set %d has an entry for bucket slot %d but max_buckets is %d",
			setID, slot, len(set))
		return
	}
	var a ChooseArg
	positions := d.count(4)
	if positions > 0 {
		a.WeightSet = make([][]uint32, positions)
	}
	for p := range a.WeightSet {
		row := make([]uint32, d.count(4))
		for k := range row {
			row[k] = d.u32()
		}
		a.WeightSet[p] = row
	}
	if ids := d.count(4); ids > 0 {
		a.IDs = make([]int32, ids)
		for k := range a.IDs {
			a.IDs[k] = d.s32()
		}
	}
	if d.err != nil {
		return
	}
	if b := m.Buckets[slot]; len(a.IDs) > 0 && (b == nil || len(a.IDs) != len(b.Items)) {
		d.corrupt("choose_args set %d gives %d ids for bucket slot %d, which does not have that many items",
			setID, len(a.IDs), slot)
		return
	}
	set[slot] = a
}

// checkBucketGraph rejects bucket items that name missing buckets and cycles
// between buckets. Ceph does not check either, but its mapper would crash or
// loop forever on them; no tool writes such maps.
func checkBucketGraph(m *Map) error {
	state := make([]uint8, len(m.Buckets)) // 0 unvisited, 1 on the path, 2 done
	var visit func(slot int) error
	visit = func(slot int) error {
		state[slot] = 1
		for _, it := range m.Buckets[slot].Items {
			if it >= 0 {
				continue
			}
			child := int(-1 - int64(it))
			if child >= len(m.Buckets) || m.Buckets[child] == nil {
				return fmt.Errorf("%w: bucket %d lists item %d, which is not a bucket of this map",
					ErrCorrupt, m.Buckets[slot].ID, it)
			}
			if state[child] == 1 {
				return fmt.Errorf("%w: bucket %d contains itself through item %d", ErrCorrupt, m.Buckets[slot].ID, it)
			}
			if state[child] == 0 {
				if err := visit(child); err != nil {
					return err
				}
			}
		}
		state[slot] = 2
		return nil
	}
	for slot, b := range m.Buckets {
		if b != nil && state[slot] == 0 {
			if err := visit(slot); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanChooseArgs applies Ceph's decode-time clean-up (spec 5.10 step 6):
// entries of empty slots and of buckets that are not straw2 are cleared, and
// the rows of entries with the common position count are resized to the
// bucket size.
func cleanChooseArgs(m *Map) {
	for _, set := range m.ChooseArgs {
		positions := 1
		for i := range set {
			if len(set[i].WeightSet) > 0 {
				positions = len(set[i].WeightSet)
				break
			}
		}
		for slot := range set {
			b := m.Buckets[slot]
			if b == nil || b.Alg != AlgStraw2 {
				set[slot] = ChooseArg{}
				continue
			}
			if len(set[slot].WeightSet) != positions {
				continue
			}
			for p, row := range set[slot].WeightSet {
				if len(row) != len(b.Items) {
					resized := make([]uint32, len(b.Items))
					copy(resized, row)
					set[slot].WeightSet[p] = resized
				}
			}
		}
	}
}

// recomputeMaxDevices sets MaxDevices to 1 + the largest device id used as a
// bucket item or named in the name map (spec 3.11), or 0 when there is none.
func recomputeMaxDevices(m *Map) error {
	largest := int64(-1)
	for _, b := range m.Buckets {
		if b == nil {
			continue
		}
		for _, it := range b.Items {
			largest = max(largest, int64(it))
		}
	}
	for id := range m.Names {
		largest = max(largest, int64(id))
	}
	if largest >= int64(ItemNone) {
		return fmt.Errorf("device id %d is reserved for CRUSH_ITEM_NONE; device ids must be below %d",
			largest, ItemNone)
	}
	m.MaxDevices = int32(largest + 1)
	return nil
}
