package crush

import (
	"fmt"
	"testing"
)

// buildHierarchy builds root -1 over racks over hosts over OSDs, all straw2
// with weight 1.0 per OSD, optimal tunables and rule 0 = chooseleaf firstn 0
// type host. It uses NewBucket directly, not the builder.
func buildHierarchy(tb testing.TB, racks, hostsPerRack, osdsPerHost int) *Map {
	tb.Helper()
	m := NewMap()
	t, err := TunablesProfile("optimal")
	if err != nil {
		tb.Fatal(err)
	}
	m.Tunables = t
	const (
		typeHost = 1
		typeRack = 2
		typeRoot = 3
	)
	nextID := int32(-2)
	add := func(typ uint16, items []int32, weights []uint32) (int32, uint32) {
		id := nextID
		if typ == typeRoot {
			id = -1
		} else {
			nextID--
		}
		b, err := NewBucket(id, typ, AlgStraw2, HashRjenkins1, items, weights, m.StrawCalcVersion)
		if err != nil {
			tb.Fatal(err)
		}
		for len(m.Buckets) <= int(-1-id) {
			m.Buckets = append(m.Buckets, nil)
		}
		m.Buckets[-1-id] = b
		return id, b.Weight
	}
	osd := int32(0)
	var rackIDs []int32
	var rackW []uint32
	for range racks {
		var hostIDs []int32
		var hostW []uint32
		for range hostsPerRack {
			var items []int32
			var weights []uint32
			for range osdsPerHost {
				items = append(items, osd)
				weights = append(weights, WeightOne)
				osd++
			}
			id, w := add(typeHost, items, weights)
			hostIDs, hostW = append(hostIDs, id), append(hostW, w)
		}
		id, w := add(typeRack, hostIDs, hostW)
		rackIDs, rackW = append(rackIDs, id), append(rackW, w)
	}
	add(typeRoot, rackIDs, rackW)
	m.MaxDevices = osd
	m.Rules = []*Rule{{Type: RuleTypeReplicated, MinSize: 1, MaxSize: 10, Steps: []Step{
		{Op: OpTake, Arg1: -1}, {Op: OpChooseLeafFirstN, Arg1: 0, Arg2: typeHost}, {Op: OpEmit},
	}}}
	return m
}

func fullWeights(m *Map) []uint32 {
	w := make([]uint32, m.MaxDevices)
	for i := range w {
		w[i] = WeightOne
	}
	return w
}

func benchmarkDoRule(b *testing.B, m *Map) {
	ws := NewWorkspace(m)
	weights := fullWeights(m)
	result := make([]int32, 3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if m.DoRule(ws, 0, uint32(i), result, weights, nil) != 3 {
			b.Fatal("short mapping")
		}
	}
}

// BenchmarkDoRule240 maps one input on 4 racks x 5 hosts x 12 OSDs.
func BenchmarkDoRule240(b *testing.B) { benchmarkDoRule(b, buildHierarchy(b, 4, 5, 12)) }

// BenchmarkDoRule10000 maps one input on 25 racks x 20 hosts x 20 OSDs.
func BenchmarkDoRule10000(b *testing.B) { benchmarkDoRule(b, buildHierarchy(b, 25, 20, 20)) }

// TestDoRuleAllocationFree checks the zero-allocation promise of a warm
// workspace for replicated and erasure rules.
func TestDoRuleAllocationFree(t *testing.T) {
	m := buildHierarchy(t, 4, 5, 12)
	m.Rules = append(m.Rules, &Rule{Type: RuleTypeErasure, Steps: []Step{
		{Op: OpTake, Arg1: -1}, {Op: OpChooseLeafIndep, Arg1: 0, Arg2: 1}, {Op: OpEmit},
	}})
	ws := NewWorkspace(m)
	weights := fullWeights(m)
	weights[7] = 0x8000
	for rule, size := range []int{3, 6} {
		result := make([]int32, size)
		x := uint32(0)
		allocs := testing.AllocsPerRun(1000, func() {
			m.DoRule(ws, rule, x, result, weights, nil)
			x++
		})
		if allocs != 0 {
			t.Errorf("rule %d: %v allocations per mapping, want 0", rule, allocs)
		}
	}
}

// TestDoRuleConcurrent maps from several goroutines, each with its own
// workspace, over one shared map and checks every result against a
// sequential run (run with -race to check that mapping only reads the map).
func TestDoRuleConcurrent(t *testing.T) {
	m := buildHierarchy(t, 4, 5, 12)
	weights := fullWeights(m)
	const inputs = 2000
	want := make([][3]int32, inputs)
	ws := NewWorkspace(m)
	for x := range want {
		m.DoRule(ws, 0, uint32(x), want[x][:], weights, nil)
	}
	errs := make(chan string, 4)
	for g := range 4 {
		go func() {
			ws := NewWorkspace(m)
			var got [3]int32
			for x := range inputs {
				m.DoRule(ws, 0, uint32(x), got[:], weights, nil)
				if got != want[x] {
					errs <- fmt.Sprintf("goroutine %d x=%d: %v, sequential %v", g, x, got, want[x])
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
