package crush

// A test-only loader of `crushtool --dump` JSON (spec/crush-mapping.md 2.6),
// so that the mapper can be checked against crushtool without depending on
// the text compiler or the binary decoder.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

type dumpMap struct {
	Devices []struct {
		ID   int32  `json:"id"`
		Name string `json:"name"`
	} `json:"devices"`
	Types []struct {
		ID   int32  `json:"type_id"`
		Name string `json:"name"`
	} `json:"types"`
	Buckets []struct {
		ID    int32  `json:"id"`
		Name  string `json:"name"`
		Type  uint16 `json:"type_id"`
		Alg   string `json:"alg"`
		Hash  string `json:"hash"`
		Items []struct {
			ID     int32  `json:"id"`
			Weight uint32 `json:"weight"`
		} `json:"items"`
	} `json:"buckets"`
	Rules []struct {
		ID    int32            `json:"rule_id"`
		Name  string           `json:"rule_name"`
		Type  uint8            `json:"type"`
		Steps []map[string]any `json:"steps"`
	} `json:"rules"`
	Tunables   map[string]any `json:"tunables"`
	ChooseArgs map[string][]struct {
		BucketID  int32       `json:"bucket_id"`
		WeightSet [][]float64 `json:"weight_set"`
		IDs       []int32     `json:"ids"`
	} `json:"choose_args"`
}

var dumpAlgs = map[string]Alg{"uniform": AlgUniform, "list": AlgList, "tree": AlgTree, "straw": AlgStraw, "straw2": AlgStraw2}

var dumpOps = map[string]Op{
	"noop": OpNoop, "take": OpTake, "emit": OpEmit,
	"choose_firstn": OpChooseFirstN, "choose_indep": OpChooseIndep,
	"chooseleaf_firstn": OpChooseLeafFirstN, "chooseleaf_indep": OpChooseLeafIndep,
	"set_choose_tries": OpSetChooseTries, "set_chooseleaf_tries": OpSetChooseLeafTries,
	"set_choose_local_tries": OpSetChooseLocalTries, "set_choose_local_fallback_tries": OpSetChooseLocalFallbackTries,
	"set_chooseleaf_vary_r": OpSetChooseLeafVaryR, "set_chooseleaf_stable": OpSetChooseLeafStable,
}

// loadDump builds a Map from crushtool --dump JSON, computing the derived
// bucket data with NewBucket.
func loadDump(data []byte) (*Map, error) {
	var d dumpMap
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	m := NewMap()
	if err := d.tunables(m); err != nil {
		return nil, err
	}
	typeIDs := map[string]int32{}
	for _, t := range d.Types {
		m.TypeNames[t.ID] = t.Name
		typeIDs[t.Name] = t.ID
	}
	for _, dev := range d.Devices {
		m.Names[dev.ID] = dev.Name
		m.MaxDevices = max(m.MaxDevices, dev.ID+1)
	}
	if err := d.buckets(m); err != nil {
		return nil, err
	}
	if err := d.rules(m, typeIDs); err != nil {
		return nil, err
	}
	return m, d.chooseArgs(m)
}

func (d *dumpMap) tunables(m *Map) error {
	get := func(name string) (uint32, error) {
		v, ok := d.Tunables[name].(float64)
		if !ok {
			return 0, fmt.Errorf("tunable %s missing", name)
		}
		return uint32(v), nil
	}
	for _, t := range []struct {
		name string
		set  func(uint32)
	}{
		{"choose_local_tries", func(v uint32) { m.ChooseLocalTries = v }},
		{"choose_local_fallback_tries", func(v uint32) { m.ChooseLocalFallbackTries = v }},
		{"choose_total_tries", func(v uint32) { m.ChooseTotalTries = v }},
		{"chooseleaf_descend_once", func(v uint32) { m.ChooseLeafDescendOnce = v }},
		{"chooseleaf_vary_r", func(v uint32) { m.ChooseLeafVaryR = uint8(v) }},
		{"chooseleaf_stable", func(v uint32) { m.ChooseLeafStable = uint8(v) }},
		{"straw_calc_version", func(v uint32) { m.StrawCalcVersion = uint8(v) }},
		{"allowed_bucket_algs", func(v uint32) { m.AllowedBucketAlgs = v }},
	} {
		v, err := get(t.name)
		if err != nil {
			return err
		}
		t.set(v)
	}
	return nil
}

func (d *dumpMap) buckets(m *Map) error {
	for _, db := range d.Buckets {
		alg, ok := dumpAlgs[db.Alg]
		if !ok {
			return fmt.Errorf("bucket %d: unknown alg %q", db.ID, db.Alg)
		}
		items := make([]int32, len(db.Items))
		weights := make([]uint32, len(db.Items))
		for i, it := range db.Items {
			items[i], weights[i] = it.ID, it.Weight
			if it.ID >= 0 {
				m.MaxDevices = max(m.MaxDevices, it.ID+1)
			}
		}
		// The dump names only rjenkins1; every other id prints as
		// "unknown" and behaves the same (all hashes 0), so 1 stands for it.
		hash := HashRjenkins1
		if db.Hash != "rjenkins1" {
			hash = 1
		}
		b, err := NewBucket(db.ID, db.Type, alg, hash, items, weights, m.StrawCalcVersion)
		if err != nil && alg == AlgUniform && weightSum(weights) == 0 {
			// Shadow copies of uniform buckets may hold zero-weight items,
			// which crushtool accepts there (crush-formats.md 4.5).
			b, err = &Bucket{ID: db.ID, Type: db.Type, Alg: alg, Hash: hash, Items: items, ItemWeights: weights}, nil
		}
		if err != nil {
			return err
		}
		slot := int(-1 - db.ID)
		for len(m.Buckets) <= slot {
			m.Buckets = append(m.Buckets, nil)
		}
		m.Buckets[slot] = b
		m.Names[db.ID] = db.Name
	}
	return nil
}

func (d *dumpMap) rules(m *Map, typeIDs map[string]int32) error {
	for _, dr := range d.Rules {
		r := &Rule{Type: dr.Type}
		for _, s := range dr.Steps {
			st, err := dumpStep(s, typeIDs)
			if err != nil {
				return fmt.Errorf("rule %d: %w", dr.ID, err)
			}
			r.Steps = append(r.Steps, st)
		}
		for len(m.Rules) <= int(dr.ID) {
			m.Rules = append(m.Rules, nil)
		}
		m.Rules[dr.ID] = r
		m.RuleNames[dr.ID] = dr.Name
	}
	return nil
}

// dumpStep decodes a step in either of the dumper's forms: named ops, or
// {"opcode", "arg1", "arg2"} for the ops Pacific's dumper has no name for.
func dumpStep(s map[string]any, typeIDs map[string]int32) (Step, error) {
	num := func(k string) int32 { v, _ := s[k].(float64); return int32(v) }
	if _, ok := s["opcode"]; ok {
		return Step{Op: Op(num("opcode")), Arg1: num("arg1"), Arg2: num("arg2")}, nil
	}
	name, _ := s["op"].(string)
	op, ok := dumpOps[name]
	if !ok {
		return Step{}, fmt.Errorf("unknown op %q", name)
	}
	st := Step{Op: op}
	switch op {
	case OpTake:
		st.Arg1 = num("item")
	case OpChooseFirstN, OpChooseIndep, OpChooseLeafFirstN, OpChooseLeafIndep:
		tn, _ := s["type"].(string)
		t, ok := typeIDs[tn]
		if !ok {
			return Step{}, fmt.Errorf("unknown type %q", tn)
		}
		st.Arg1, st.Arg2 = num("num"), t
	case OpNoop, OpEmit:
	default:
		st.Arg1 = num("num")
	}
	return st, nil
}

func (d *dumpMap) chooseArgs(m *Map) error {
	for key, entries := range d.ChooseArgs {
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			// The default set prints as 2^64-1.
			u, uerr := strconv.ParseUint(key, 10, 64)
			if uerr != nil {
				return fmt.Errorf("choose_args key %q: %w", key, err)
			}
			id = int64(u)
		}
		set := make(ChooseArgSet, len(m.Buckets))
		for _, e := range entries {
			slot := int(-1 - e.BucketID)
			if slot < 0 || slot >= len(set) {
				return fmt.Errorf("choose_args %s: bad bucket %d", key, e.BucketID)
			}
			for _, row := range e.WeightSet {
				w := make([]uint32, len(row))
				for i, f := range row {
					w[i] = uint32(math.Round(f * 65536))
				}
				set[slot].WeightSet = append(set[slot].WeightSet, w)
			}
			set[slot].IDs = e.IDs
		}
		m.ChooseArgs[id] = set
	}
	return nil
}
