package crush

import (
	"testing"
)

// fuzzMap builds a small, possibly malformed map from fuzz bytes: buckets
// of any algorithm whose items may name missing buckets, devices beyond
// max_devices or form cycles, derived data of the wrong length, choose_args
// rows of the wrong length, and a rule of arbitrary steps. Decoded binary
// maps can carry all of these, and mapping must survive them.
func fuzzMap(data []byte) (*Map, []uint32) {
	next := func() int32 {
		if len(data) == 0 {
			return 0
		}
		v := int32(int8(data[0]))
		data = data[1:]
		return v
	}
	m := NewMap()
	m.MaxDevices = next() & 15
	nb := int(next()&7) + 1
	m.Buckets = make([]*Bucket, nb)
	for slot := range m.Buckets {
		n := int(next() & 7)
		b := &Bucket{ID: int32(-1 - slot), Type: uint16(next() & 3), Alg: Alg(next() & 7), Hash: uint8(next() & 1)}
		for range n {
			b.Items = append(b.Items, next()%20)
			b.ItemWeights = append(b.ItemWeights, uint32(next()&0x7f)<<10)
		}
		b.SumWeights = append([]uint32{}, b.ItemWeights[:len(b.ItemWeights)/2]...)
		b.NodeWeights = make([]uint32, int(next()&15))
		for i := range b.NodeWeights {
			b.NodeWeights[i] = uint32(next()) << 12
		}
		b.Straws = b.ItemWeights[:len(b.ItemWeights)/2]
		m.Buckets[slot] = b
	}
	args := make(ChooseArgSet, nb)
	for slot := range args {
		if next()&1 == 0 {
			continue
		}
		row := make([]uint32, int(next()&7))
		for i := range row {
			row[i] = uint32(next()&0x7f) << 10
		}
		args[slot].WeightSet = [][]uint32{row, row}
		args[slot].IDs = make([]int32, int(next()&7))
	}
	m.ChooseArgs[0] = args
	rule := &Rule{}
	for range int(next()&15) + 1 {
		rule.Steps = append(rule.Steps, Step{Op: Op(next() & 15), Arg1: next(), Arg2: next() & 3})
	}
	m.Rules = []*Rule{rule}
	weights := make([]uint32, int(next()&15))
	for i := range weights {
		weights[i] = uint32(next()&0x3) << 15
	}
	m.ChooseTotalTries = uint32(next() & 7)
	m.ChooseLocalTries = uint32(next() & 3)
	m.ChooseLocalFallbackTries = uint32(next() & 3)
	m.ChooseLeafVaryR = uint8(next() & 3)
	m.ChooseLeafStable = uint8(next() & 1)
	m.ChooseLeafDescendOnce = uint32(next() & 1)
	return m, weights
}

// FuzzDoRule checks that mapping any map never panics, never hangs, never
// writes past result_max and never lets the internal UNDEF value escape.
func FuzzDoRule(f *testing.F) {
	f.Add([]byte{4, 2, 3, 1, 5, 0, 1, 0, 2, 0, 3, 1, 2, 3, 1, 1, 4, 1, 0, 0, 6, 0, 1, 4, 0, 0, 8})
	f.Add([]byte{15, 7, 7, 2, 3, 0, 0xfe, 9, 0xfd, 9, 1, 0x30, 7, 1, 1, 0xff, 0, 7, 0xff, 1, 4})
	f.Add([]byte{3, 1, 2, 1, 1, 0, 0xff, 0x10, 0xff, 0x10, 0, 0, 3, 1, 0xff, 0, 2, 0, 1, 4, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, weights := fuzzMap(data)
		ws := NewWorkspace(m)
		for _, size := range []int{1, 3, 40} {
			result := make([]int32, size)
			for x := uint32(0); x < 4; x++ {
				n := m.DoRule(ws, 0, x, result, weights, m.ChooseArgs[0])
				if n < 0 || n > size {
					t.Fatalf("DoRule wrote %d items into %d slots", n, size)
				}
				for _, it := range result[:n] {
					if it == ItemUndef {
						t.Fatalf("UNDEF escaped: %v", result[:n])
					}
				}
			}
		}
	})
}
