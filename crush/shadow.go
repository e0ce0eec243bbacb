package crush

// This file builds the per-class shadow trees (spec/crush-formats.md section
// 4): for every bucket B reachable from a root and every device class C, a
// bucket "B~C" holding only C's devices under B, mirroring B's structure.
// `take B class C` rules start at that shadow. The compiler builds them once,
// before its first rule; the builder rebuilds them after every change,
// pinning existing shadows to their ids so that rules keep their meaning.

import "sort"

// shadowBuilder clones buckets into shadow buckets.
type shadowBuilder struct {
	m        *Map
	byName   map[string]int32          // every item name -> id, shadows included
	pins     map[int32]map[int32]int32 // bucket id -> class id -> shadow id wanted
	reserved map[int32]bool            // every pinned shadow id
	nextFree int32                     // no id above this is free: slots only fill up
}

func newShadowBuilder(m *Map, pins map[int32]map[int32]int32) *shadowBuilder {
	s := &shadowBuilder{m: m, byName: map[string]int32{}, pins: pins, reserved: map[int32]bool{}, nextFree: -1}
	for id, name := range m.Names {
		s.byName[name] = id
	}
	for _, byClass := range pins {
		for _, id := range byClass {
			s.reserved[id] = true
		}
	}
	return s
}

// buildAll clones every root for every class, roots in ascending id order
// (most negative first) and classes in id order. Like crushtool it stops
// silently at the first clone that fails, keeping the shadows made so far;
// it reports whether everything was built.
func (s *shadowBuilder) buildAll() bool {
	classes := sortedKeys(s.m.ClassNames)
	for _, root := range rootBuckets(s.m) {
		for _, cls := range classes {
			if _, ok := s.clone(root, cls); !ok {
				return false
			}
		}
	}
	return true
}

// rootBuckets returns the ids of the buckets that are no bucket's item, in
// ascending order.
func rootBuckets(m *Map) []int32 {
	child := map[int32]bool{}
	for _, b := range m.Buckets {
		if b != nil {
			for _, it := range b.Items {
				child[it] = true
			}
		}
	}
	var roots []int32
	for _, b := range m.Buckets {
		if b != nil && !child[b.ID] {
			roots = append(roots, b.ID)
		}
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i] < roots[j] })
	return roots
}

// clone returns the id of the shadow of bucket id for class cls, creating
// it (children first, so ids are handed out post-order) when it does not
// exist yet. It fails where Ceph's incremental bucket building fails.
func (s *shadowBuilder) clone(id, cls int32) (int32, bool) {
	b := s.m.Bucket(id)
	if b == nil {
		return 0, false
	}
	name := s.m.Names[id] + "~" + s.m.ClassNames[cls]
	if existing, ok := s.byName[name]; ok {
		return existing, true
	}
	var items []int32
	var weights []uint32
	var total uint64
	for j, it := range b.Items {
		w := b.ItemWeight(j)
		if it >= 0 {
			if c, ok := s.m.ClassMap[it]; !ok || c != cls {
				continue
			}
		} else {
			child, ok := s.clone(it, cls)
			if !ok {
				return 0, false
			}
			it, w = child, s.m.Bucket(child).Weight
		}
		// Ceph appends each item as soon as it has it, so an item the copy
		// refuses stops the clone before later children are cloned.
		if total += uint64(w); total > 0xffffffff || (b.Alg == AlgUniform && w != 0) {
			return 0, false
		}
		items, weights = append(items, it), append(weights, w)
	}
	shadowID, ok := s.pins[id][cls]
	if !ok {
		shadowID = s.freeID()
	}
	shadow, ok := s.build(b, shadowID, items, weights)
	if !ok || placeBucket(s.m, shadow) != nil {
		return 0, false
	}
	s.m.Names[shadowID] = name
	s.byName[name] = shadowID
	s.m.ClassMap[shadowID] = cls
	if s.m.ClassBucket[id] == nil {
		s.m.ClassBucket[id] = map[int32]int32{}
	}
	s.m.ClassBucket[id][cls] = shadowID
	return shadowID, true
}

// freeID returns the first of -1, -2, ... whose slot is empty and that no
// pin reserves. The search resumes where the last one stopped, because
// slots are only ever filled while shadows are built.
func (s *shadowBuilder) freeID() int32 {
	for s.m.Bucket(s.nextFree) != nil || s.reserved[s.nextFree] {
		s.nextFree--
	}
	return s.nextFree
}

// build makes the shadow bucket. Ceph appends the items one at a time, which
// gives the from-scratch result except for uniform buckets: their copy
// starts with item weight 0 and (as clone checked) accepts only zero
// weights, which NewBucket would refuse.
func (s *shadowBuilder) build(b *Bucket, id int32, items []int32, weights []uint32) (*Bucket, bool) {
	if b.Alg != AlgUniform {
		shadow, err := NewBucket(id, b.Type, b.Alg, b.Hash, items, weights, s.m.StrawCalcVersion)
		return shadow, err == nil
	}
	return &Bucket{ID: id, Type: b.Type, Alg: AlgUniform, Hash: b.Hash,
		Items: items, ItemWeights: weights}, true
}
