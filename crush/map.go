package crush

// This file holds the compiled CRUSH map model shared by the mapper, the text
// compiler and decompiler, the binary codec and the builder. Its shape follows
// section 1 of spec/crush-formats.md: it is what crushtool's compiler builds and
// what Ceph's binary encoding carries, so every format round-trips through it.

// Reserved item values.
const (
	// ItemNone marks "no item here": an erasure-code hole in an indep result.
	// Printed as 2147483647.
	ItemNone int32 = 0x7fffffff
	// ItemUndef marks "not decided yet" inside the indep procedure only; it never
	// leaves the mapper.
	ItemUndef int32 = 0x7ffffffe
)

// WeightOne is 1.0 in 16.16 fixed point, the unit of every CRUSH weight.
const WeightOne uint32 = 0x10000

// Alg identifies a bucket algorithm by its Ceph number.
type Alg uint8

// Bucket algorithms.
const (
	AlgUniform Alg = 1
	AlgList    Alg = 2
	AlgTree    Alg = 3
	AlgStraw   Alg = 4
	AlgStraw2  Alg = 5
)

// Op is a rule step opcode, numbered as in Ceph.
type Op uint32

// Rule step opcodes (op 5 does not exist).
const (
	OpNoop                        Op = 0
	OpTake                        Op = 1
	OpChooseFirstN                Op = 2
	OpChooseIndep                 Op = 3
	OpEmit                        Op = 4
	OpChooseLeafFirstN            Op = 6
	OpChooseLeafIndep             Op = 7
	OpSetChooseTries              Op = 8
	OpSetChooseLeafTries          Op = 9
	OpSetChooseLocalTries         Op = 10
	OpSetChooseLocalFallbackTries Op = 11
	OpSetChooseLeafVaryR          Op = 12
	OpSetChooseLeafStable         Op = 13
)

// Rule types.
const (
	RuleTypeReplicated uint8 = 1
	RuleTypeErasure    uint8 = 3
)

// Tunables are the map-wide integers that change how rules behave
// (spec/crush-mapping.md section 10).
type Tunables struct {
	ChooseLocalTries         uint32
	ChooseLocalFallbackTries uint32
	ChooseTotalTries         uint32
	ChooseLeafDescendOnce    uint32 // 0 or 1
	ChooseLeafVaryR          uint8
	ChooseLeafStable         uint8
	StrawCalcVersion         uint8
	AllowedBucketAlgs        uint32 // bit a set = algorithm a allowed; informational
}

// Bucket is an interior node of the hierarchy. Items and ItemWeights are
// parallel. The derived slices are filled when the bucket is built (or taken
// verbatim from a decoded binary map, never recomputed there).
type Bucket struct {
	ID     int32  // negative; lives in slot -1-ID
	Type   uint16 // bucket type id
	Alg    Alg
	Hash   uint8  // 0 = rjenkins1, the only hash
	Weight uint32 // total weight as stored (sum of item weights)
	Items  []int32
	// ItemWeights has one 16.16 weight per item for every algorithm: for
	// uniform buckets every entry equals UniformWeight, for tree buckets entry
	// j equals NodeWeights[2j+1].
	ItemWeights []uint32

	UniformWeight uint32   // uniform: the shared item weight (kept for empty buckets)
	SumWeights    []uint32 // list: cumulative sums
	NodeWeights   []uint32 // tree: node weights, len = num_nodes
	Straws        []uint32 // straw (v1): one straw per item
}

// Step is one rule step.
type Step struct {
	Op   Op
	Arg1 int32
	Arg2 int32
}

// Rule is an ordered list of steps with Ceph's 4-byte mask header.
type Rule struct {
	Ruleset uint8
	Type    uint8
	MinSize uint8
	MaxSize uint8
	Steps   []Step
}

// ChooseArg overrides one bucket's weights (per position) and hashed ids.
// Only straw2 buckets use it.
type ChooseArg struct {
	WeightSet [][]uint32 // rows ("positions"), each one weight per item
	IDs       []int32    // one id per item, used instead of the real id when hashing
}

// Empty reports whether the entry carries no override.
func (a *ChooseArg) Empty() bool { return len(a.WeightSet) == 0 && len(a.IDs) == 0 }

// ChooseArgSet is a choose_args set: one entry per bucket slot (index -1-id).
// A nil set means no overrides.
type ChooseArgSet []ChooseArg

// DefaultChooseArgs is the id of the default ("compat") choose_args set.
const DefaultChooseArgs int64 = -1

// Map is a compiled CRUSH map.
type Map struct {
	Tunables

	// MaxDevices is 1 + the largest device id in use (spec/crush-formats.md 3.11).
	MaxDevices int32
	// Buckets has one slot per bucket index; slot k holds the bucket with id
	// -1-k or nil. len(Buckets) is max_buckets.
	Buckets []*Bucket
	// Rules has one slot per rule id; nil for an empty slot. len(Rules) is
	// max_rules.
	Rules []*Rule

	TypeNames   map[int32]string          // type id -> name
	Names       map[int32]string          // item id -> name (devices and buckets, shadows too)
	RuleNames   map[int32]string          // rule id -> name
	ClassMap    map[int32]int32           // item id -> class id (devices and shadow buckets)
	ClassNames  map[int32]string          // class id -> name
	ClassBucket map[int32]map[int32]int32 // original bucket id -> class id -> shadow bucket id
	ChooseArgs  map[int64]ChooseArgSet    // set id -> set (len = len(Buckets)); -1 is the default set
}

// NewMap returns an empty map with legacy (argonaut) tunables, which is what
// crushtool starts from when it compiles a text map.
func NewMap() *Map {
	return &Map{
		Tunables:    LegacyTunables(),
		TypeNames:   map[int32]string{},
		Names:       map[int32]string{},
		RuleNames:   map[int32]string{},
		ClassMap:    map[int32]int32{},
		ClassNames:  map[int32]string{},
		ClassBucket: map[int32]map[int32]int32{},
		ChooseArgs:  map[int64]ChooseArgSet{},
	}
}

// LegacyTunables returns the argonaut tunables (spec/crush-formats.md 1.1).
func LegacyTunables() Tunables {
	return Tunables{
		ChooseLocalTries:         2,
		ChooseLocalFallbackTries: 5,
		ChooseTotalTries:         19,
		ChooseLeafDescendOnce:    0,
		ChooseLeafVaryR:          0,
		ChooseLeafStable:         0,
		StrawCalcVersion:         0,
		AllowedBucketAlgs:        22,
	}
}

// Bucket returns the bucket with the given id, or nil when id does not name
// an existing bucket.
func (m *Map) Bucket(id int32) *Bucket {
	if id >= 0 {
		return nil
	}
	slot := -1 - int64(id)
	if slot >= int64(len(m.Buckets)) {
		return nil
	}
	return m.Buckets[slot]
}

// Rule returns the rule with the given id, or nil.
func (m *Map) Rule(id int) *Rule {
	if id < 0 || id >= len(m.Rules) {
		return nil
	}
	return m.Rules[id]
}

// ChooseArgsForPool returns the choose_args set the OSDMap uses for a pool:
// the pool's own set if it exists, else the default set, else nil.
func (m *Map) ChooseArgsForPool(pool int64) ChooseArgSet {
	if s, ok := m.ChooseArgs[pool]; ok {
		return s
	}
	return m.ChooseArgs[DefaultChooseArgs]
}
