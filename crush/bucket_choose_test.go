package crush

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// mapSeed seeds the randomized straw2 checks; a failure prints the seed,
// and -mapseed=N replays it.
var mapSeed = flag.Uint64("mapseed", 20260101, "seed of the randomized straw2 tests")

// loadAlgsMap loads the golden map with one host per bucket algorithm,
// which is the example map of spec/crush-mapping.md 14.2.
func loadAlgsMap(t *testing.T) *Map {
	t.Helper()
	data, err := os.ReadFile("testdata/mapping/maps/algs_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := loadDump(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBucketChoiceSpecExamples(t *testing.T) {
	m := loadAlgsMap(t)
	ws := NewWorkspace(m)
	cases := []struct {
		bucket int32
		x      uint32
		want   []int32 // r = 0, 1, 2
	}{
		{-3, 0, []int32{6, 5, 8}}, {-4, 0, []int32{14, 12, 15}}, {-5, 0, []int32{23, 23, 24}},
		{-3, 1, []int32{9, 5, 9}}, {-4, 1, []int32{15, 12, 12}}, {-5, 1, []int32{21, 22, 19}},
	}
	for _, c := range cases {
		b := m.Bucket(c.bucket)
		for r, want := range c.want {
			if got := b.choose(ws, c.x, r, nil, 0); got != want {
				t.Errorf("bucket %d (%d) x=%d r=%d: %d, want %d", c.bucket, b.Alg, c.x, r, got, want)
			}
		}
	}
	// The uniform permutation of bucket -2 (items 0..4).
	u := m.Bucket(-2)
	for x, perm := range map[uint32][]int32{0: {1, 4, 2, 0, 3}, 1: {3, 0, 4, 1, 2}, 7: {2, 3, 0, 4, 1}} {
		for r, want := range perm {
			if got := u.choose(ws, x, r, nil, 0); got != want {
				t.Errorf("uniform x=%d r=%d: %d, want %d", x, r, got, want)
			}
		}
		if u.choose(ws, x, 5, nil, 0) != perm[0] {
			t.Errorf("uniform x=%d: r=5 differs from r=0", x)
		}
	}
}

// TestStraw2SpecWorkedExample checks the draws of spec 14.2 item by item.
func TestStraw2SpecWorkedExample(t *testing.T) {
	items := []int32{-2, -3, -4, -5, -6, -7}
	weights := []uint32{471859, 262144, 471859, 327680, 422707, 537395}
	wantU := []uint32{0x044a, 0x74eb, 0xd648, 0xfe8e, 0xbd5e, 0xf2e7}
	wantLn := []uint64{0xa1a1a5c7aabb, 0xede90725a0bc, 0xfbe4e0cc6fb7, 0xffdeb3d264fd, 0xf90a8e2286c5, 0xfec9b439a858}
	wantDraw := []int64{-219894785, -75873846, -9567548, -436437, -18100592, -2479947}
	for i, it := range items {
		u := Hash3(0, uint32(it), 0) & 0xffff
		ln := crushLn(u)
		draw := (int64(ln) - ln2to48) / int64(weights[i])
		if u != wantU[i] || ln != wantLn[i] || draw != wantDraw[i] {
			t.Errorf("item %d: u %#x ln %#x draw %d, want %#x %#x %d", it, u, ln, draw, wantU[i], wantLn[i], wantDraw[i])
		}
	}
	b, err := NewBucket(-1, 2, AlgStraw2, 0, items, weights, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.straw2Choose(0, 0, nil, 0); got != -5 {
		t.Errorf("winner %d, want -5", got)
	}
}

func TestStraw2ZeroWeightsAndOverrides(t *testing.T) {
	b, err := NewBucket(-1, 1, AlgStraw2, 0, []int32{4, 5, 6}, []uint32{0, 0, 0}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for x := range uint32(50) {
		if got := b.straw2Choose(x, 0, nil, 0); got != 4 {
			t.Fatalf("all-zero bucket x=%d chose %d, want the first item", x, got)
		}
	}
	b.ItemWeights = []uint32{WeightOne, 0, WeightOne}
	// A weight set row that zeroes item 4 and 6 forces item 5; the row index
	// is clamped to the last row; override ids change the draws, never the
	// returned items.
	arg := &ChooseArg{WeightSet: [][]uint32{{WeightOne, 0, WeightOne}, {0, WeightOne, 0}}}
	for x := range uint32(50) {
		if b.straw2Choose(x, 0, nil, 0) == 5 {
			t.Fatal("zero-weight item won")
		}
		if got := b.straw2Choose(x, 0, arg, 7); got != 5 {
			t.Fatalf("position 7 (clamped to row 1) chose %d, want 5", got)
		}
	}
	ids := &ChooseArg{IDs: []int32{100, 101, 102}}
	differ := 0
	for x := range uint32(200) {
		got := b.straw2Choose(x, 0, ids, 0)
		if got != 4 && got != 6 {
			t.Fatalf("id override returned %d", got)
		}
		if got != b.straw2Choose(x, 0, nil, 0) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("id overrides never changed a choice")
	}
}

func TestIsOut(t *testing.T) {
	w := []uint32{0, WeightOne, 0x8000, 0x20000}
	if !isOut(w, 0, 1) || isOut(w, 1, 1) || isOut(w, 3, 1) || !isOut(w, 4, 1) || !isOut(w, -1, 1) {
		t.Error("isOut: wrong verdict for weight 0, 1, >1, or a device beyond the vector")
	}
	in := 0
	for x := range uint32(10000) {
		h := Hash2(x, 2) & 0xffff
		if isOut(w, 2, x) != (h >= 0x8000) {
			t.Fatalf("x=%d: verdict disagrees with hash %#x", x, h)
		}
		if !isOut(w, 2, x) {
			in++
		}
	}
	if in < 4700 || in > 5300 {
		t.Errorf("reweight 0.5 kept %d of 10000 inputs", in)
	}
}

// TestStraw2Frequencies is the reference check of straw2: on random
// buckets, each item wins with probability weight/total.
func TestStraw2Frequencies(t *testing.T) {
	seed := *mapSeed
	rng := rand.New(rand.NewPCG(seed, 0))
	const draws = 100000
	for round := range 5 {
		n := 2 + rng.IntN(10)
		items := make([]int32, n)
		weights := make([]uint32, n)
		var total float64
		for i := range items {
			items[i] = int32(rng.IntN(1000))*10 + int32(i) // distinct
			weights[i] = uint32(rng.IntN(8 * 0x10000))
			if rng.IntN(6) == 0 {
				weights[i] = 0
			}
			total += float64(weights[i])
		}
		if total == 0 {
			continue
		}
		b, err := NewBucket(-1, 1, AlgStraw2, 0, items, weights, 1)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[int32]int{}
		for x := range uint32(draws) {
			counts[b.straw2Choose(x, round, nil, 0)]++
		}
		for i, it := range items {
			p := float64(weights[i]) / total
			got := float64(counts[it]) / draws
			sigma := math.Sqrt(p * (1 - p) / draws)
			if math.Abs(got-p) > 5*sigma+0.002 {
				t.Errorf("seed %d round %d: item %d weight %d won %.4f of draws, want %.4f", seed, round, it, weights[i], got, p)
			}
		}
	}
}

// TestStraw2AgainstFloat compares straw2 with a float version of the same
// idea (draw = log2((u+1)/2^16) / weight): wherever the float winner leads
// by a clear margin, the fixed-point winner must be the same item.
func TestStraw2AgainstFloat(t *testing.T) {
	seed := *mapSeed
	rng := rand.New(rand.NewPCG(seed, 1))
	checked, close := 0, 0
	for range 200 {
		n := 2 + rng.IntN(12)
		items := make([]int32, n)
		weights := make([]uint32, n)
		for i := range items {
			items[i] = -2 - int32(i)
			weights[i] = 1 + uint32(rng.IntN(16*0x10000))
		}
		b, err := NewBucket(-1, 1, AlgStraw2, 0, items, weights, 1)
		if err != nil {
			t.Fatal(err)
		}
		for x := range uint32(100) {
			draws := make([]float64, n)
			for i, it := range items {
				u := Hash3(x, uint32(it), 0) & 0xffff
				draws[i] = math.Log2((float64(u)+1)/65536) / float64(weights[i])
			}
			order := make([]int, n)
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(draws[a], draws[b]) })
			best, second := draws[order[0]], draws[order[1]]
			if math.Abs(best-second) <= 1e-3*math.Abs(second) {
				close++
				continue
			}
			checked++
			if got := b.straw2Choose(x, 0, nil, 0); got != items[order[0]] {
				t.Fatalf("seed %d x=%d: fixed point chose %d, float %d (draws %v)", seed, x, got, items[order[0]], draws)
			}
		}
	}
	if checked < 10*close {
		t.Errorf("seed %d: only %d clear decisions against %d close ones", seed, checked, close)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestStraw2QuotientExact checks the float division of straw2 against
// integer division on edge cases and random operands over the whole range.
func TestStraw2QuotientExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(*mapSeed, 2))
	check := func(a uint64, w uint32) {
		if got, want := straw2Quotient(float64(a), w), int64(a/uint64(w)); got != want {
			t.Fatalf("seed %d: %d / %d = %d, want %d", *mapSeed, a, w, got, want)
		}
	}
	for _, w := range []uint32{1, 2, 3, 7, 0x10000, 0x10001, 0xfffe, 0x7fffffff, 0xffffffff} {
		for _, a := range []uint64{1, 0x29E52F0, 1 << 47, 1<<48 - 1, 1 << 48} {
			check(a, w)
			q := a / uint64(w)
			for _, m := range []uint64{q * uint64(w), (q+1)*uint64(w) - 1} {
				if m > 0 && m <= 1<<48 {
					check(m, w)
				}
			}
		}
	}
	for range 2000000 {
		w := uint32(rng.Uint64N(1<<32-1)) + 1
		if rng.IntN(2) == 0 {
			w = uint32(rng.IntN(1<<20)) + 1
		}
		check(rng.Uint64N(1<<48)+1, w)
		// Just below and at a multiple of w, where truncation is tight.
		k := rng.Uint64N((1<<48)/uint64(w)) + 1
		check(k*uint64(w), w)
		check(k*uint64(w)-1, w)
	}
	// Every table entry against every one of a few weights.
	for u := range 1 << 16 {
		a := uint64(ln2to48) - crushLn(uint32(u))
		if float64(a) != straw2NegLn[u] {
			t.Fatalf("table entry %d: %v, want %d", u, straw2NegLn[u], a)
		}
		for _, w := range []uint32{1, 3, 0x10000, 471859, 0xffffffff} {
			check(a, w)
		}
	}
}

// TestTreeAllZeroWeights pins Ceph's behaviour on a tree bucket whose
// weights are all 0: the descent ends past the items and yields item 0
// (what crushtool reads there), unless the count is a power of two.
func TestTreeAllZeroWeights(t *testing.T) {
	for n, want := range map[int]int32{3: 0, 4: 13, 5: 0, 8: 17} {
		b, err := NewBucket(-1, 1, AlgTree, 0, seqItems(10, n), make([]uint32, n), 1)
		if err != nil {
			t.Fatal(err)
		}
		for x := range uint32(20) {
			if got := b.treeChoose(x, 0); got != want {
				t.Fatalf("n=%d x=%d: %d, want %d", n, x, got, want)
			}
		}
	}
}
