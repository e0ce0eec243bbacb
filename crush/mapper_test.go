package crush

import (
	"slices"
	"testing"
)

// TestDoRuleTakeAndEmit checks the take validity rules and the emit cap of
// spec/crush-mapping.md 7.3 directly, including ids a text map cannot
// express (devices beyond max_devices, missing buckets).
func TestDoRuleTakeAndEmit(t *testing.T) {
	m := buildHierarchy(t, 1, 2, 2) // OSDs 0..3, hosts -2 -3, rack -4, root -1
	ws := NewWorkspace(m)
	w := fullWeights(m)
	take := func(id int32) Step { return Step{Op: OpTake, Arg1: id} }
	emit := Step{Op: OpEmit}
	cases := []struct {
		name  string
		steps []Step
		size  int
		want  []int32
	}{
		{"device", []Step{take(3), emit}, 3, []int32{3}},
		{"device beyond max_devices ignored", []Step{take(3), take(4), emit}, 3, []int32{3}},
		{"missing bucket ignored", []Step{take(2), take(-9), emit}, 3, []int32{2}},
		{"bucket", []Step{take(-2), emit}, 3, []int32{-2}},
		{"emit clears work", []Step{take(1), emit, emit}, 3, []int32{1}},
		{"blocks concatenate", []Step{take(1), emit, take(1), emit, take(0), emit}, 3, []int32{1, 1, 0}},
		{"emit caps at result_max", []Step{take(1), emit, take(2), emit, take(0), emit}, 2, []int32{1, 2}},
		{"choose on a device yields nothing", []Step{take(1), {Op: OpChooseFirstN, Arg1: 1, Arg2: 0}, emit}, 3, []int32{}},
		{"count -size skips", []Step{take(-1), {Op: OpChooseLeafFirstN, Arg1: -3, Arg2: 1}, emit}, 3, []int32{}},
	}
	for _, c := range cases {
		m.Rules = []*Rule{{Steps: c.steps}}
		result := make([]int32, c.size)
		n := m.DoRule(ws, 0, 7, result, w, nil)
		if !slices.Equal(result[:n], c.want) {
			t.Errorf("%s: %v, want %v", c.name, result[:n], c.want)
		}
	}
	if n := m.DoRule(ws, 5, 7, make([]int32, 3), w, nil); n != 0 {
		t.Errorf("unknown rule wrote %d items", n)
	}
	if n := m.DoRule(ws, 0, 7, nil, w, nil); n != 0 {
		t.Errorf("empty result wrote %d items", n)
	}
}

// TestDoRuleLargeResult checks that a result_max beyond the workspace's
// initial size works (the workspace grows) and gives distinct devices.
func TestDoRuleLargeResult(t *testing.T) {
	m := buildHierarchy(t, 4, 5, 12)
	m.Rules[0].Steps[1] = Step{Op: OpChooseFirstN, Arg1: 0, Arg2: 0}
	ws := NewWorkspace(m)
	result := make([]int32, 100)
	n := m.DoRule(ws, 0, 42, result, fullWeights(m), nil)
	if n != 100 {
		t.Fatalf("%d items, want 100", n)
	}
	seen := map[int32]bool{}
	for _, d := range result {
		if d < 0 || d >= m.MaxDevices || seen[d] {
			t.Fatalf("bad or repeated device %d in %v", d, result)
		}
		seen[d] = true
	}
}
