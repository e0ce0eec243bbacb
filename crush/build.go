package crush

// This file builds buckets from their item lists: the bucket total and the
// per-algorithm derived data (list sums, tree node weights, straw v1 straws)
// of spec/crush-formats.md 3.6 and spec/crush-mapping.md 5. The text compiler,
// the builder API and the tests all create buckets through NewBucket so that
// every path computes the derived data the same way crushtool does.

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sort"
)

// treeItemsMax is the largest tree bucket Ceph can build: it stores the node
// count (2^depth) in eight bits, so depth 7 (64 items) is the limit.
const treeItemsMax = 64

// NewBucket builds a bucket with the given id, type, algorithm and hash from
// parallel item and weight lists, computing its total weight and the derived
// data of its algorithm exactly as crushtool does. strawCalcVersion is the
// map's straw_calc_version at build time; it only matters for straw (v1)
// buckets. The lists are copied.
func NewBucket(id int32, typ uint16, alg Alg, hash uint8, items []int32, weights []uint32, strawCalcVersion uint8) (*Bucket, error) {
	if len(items) != len(weights) {
		return nil, fmt.Errorf("%w %d: %d items but %d weights; give one weight per item", ErrBadBucket, id, len(items), len(weights))
	}
	if id >= 0 {
		return nil, fmt.Errorf("%w %d: bucket ids must be negative", ErrBadBucket, id)
	}
	total, err := sumWeights(id, weights)
	if err != nil {
		return nil, err
	}
	b := &Bucket{
		ID: id, Type: typ, Alg: alg, Hash: hash, Weight: total,
		Items:       append([]int32{}, items...),
		ItemWeights: append([]uint32{}, weights...),
	}
	switch alg {
	case AlgUniform:
		err = b.buildUniform()
	case AlgList:
		b.buildList()
	case AlgTree:
		err = b.buildTree()
	case AlgStraw:
		b.Straws = strawLengths(weights, strawCalcVersion)
	case AlgStraw2:
	default:
		err = fmt.Errorf("%w %d: unknown algorithm %d; use 1 uniform, 2 list, 3 tree, 4 straw or 5 straw2", ErrBadBucket, id, alg)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// sumWeights returns the 32-bit total of the item weights, refusing totals
// that do not fit: Ceph stores the bucket weight in a u32.
func sumWeights(id int32, weights []uint32) (uint32, error) {
	var total uint64
	for _, w := range weights {
		total += uint64(w)
	}
	if total > math.MaxUint32 {
		return 0, fmt.Errorf("%w %d: item weights add up to %d, more than a 32-bit bucket weight holds; lower the item weights", ErrBadBucket, id, total)
	}
	return uint32(total), nil
}

// buildUniform checks that every item has the same non-zero weight and
// records it: a uniform bucket stores only one item weight.
func (b *Bucket) buildUniform() error {
	if len(b.Items) == 0 {
		return nil
	}
	w := b.ItemWeights[0]
	if w == 0 {
		return fmt.Errorf("%w %d: uniform bucket items weigh 0; give them a positive weight", ErrBadBucket, b.ID)
	}
	for j, wj := range b.ItemWeights {
		if wj != w {
			return fmt.Errorf("%w %d: item %d of a uniform bucket has weight %d but the first item has %d; uniform items must all weigh the same",
				ErrBadBucket, b.ID, b.Items[j], wj, w)
		}
	}
	b.UniformWeight = w
	return nil
}

// buildList computes the cumulative sums the list choice walks.
func (b *Bucket) buildList() {
	b.SumWeights = make([]uint32, len(b.ItemWeights))
	var sum uint32
	for j, w := range b.ItemWeights {
		sum += w
		b.SumWeights[j] = sum
	}
}

// buildTree lays the items out as the odd leaves of a complete binary tree
// and adds each item weight to all of its ancestors up to the root.
func (b *Bucket) buildTree() error {
	n := len(b.Items)
	if n > treeItemsMax {
		return fmt.Errorf("%w %d: a tree bucket holds at most %d items, this one has %d; use straw2 or split it", ErrBadBucket, b.ID, treeItemsMax, n)
	}
	if n == 0 {
		b.NodeWeights = []uint32{}
		return nil
	}
	depth := treeDepth(n)
	b.NodeWeights = make([]uint32, 1<<depth)
	for j, w := range b.ItemWeights {
		node := 2*j + 1
		b.NodeWeights[node] = w
		for range depth - 1 {
			node = treeParent(node)
			b.NodeWeights[node] += w
		}
	}
	return nil
}

// treeDepth is the number of levels of the tree holding n >= 1 items.
func treeDepth(n int) int { return 1 + bits.Len(uint(n-1)) }

// treeParent returns the parent of a tree node: a node of height h (trailing
// zero bits) moves down by 2^h when bit h+1 is set, else up by 2^h.
func treeParent(node int) int {
	h := bits.TrailingZeros(uint(node))
	if node&(1<<(h+1)) != 0 {
		return node - 1<<h
	}
	return node + 1<<h
}

// ItemWeight returns the 16.16 weight of item j as the bucket's algorithm
// stores it, or 0 when j is out of range.
func (b *Bucket) ItemWeight(j int) uint32 {
	if j < 0 || j >= len(b.Items) {
		return 0
	}
	switch b.Alg {
	case AlgUniform:
		return b.UniformWeight
	case AlgTree:
		if 2*j+1 < len(b.NodeWeights) {
			return b.NodeWeights[2*j+1]
		}
		return 0
	default:
		if j < len(b.ItemWeights) {
			return b.ItemWeights[j]
		}
		return 0
	}
}

// strawLengths computes the straw (v1) factor of every item, operation by
// operation in float64 as Ceph does, so that the truncated results agree bit
// for bit. version 0 is the legacy rule in which equal weights share one
// straw; every version >= 1 behaves like 1.
func strawLengths(weights []uint32, version uint8) []uint32 {
	n := len(weights)
	straws := make([]uint32, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return weights[order[a]] < weights[order[b]] })
	scale, below, prev := 1.0, 0.0, 0.0
	left := n
	for p := 0; p < n; {
		cur := weights[order[p]]
		if cur == 0 {
			straws[order[p]] = 0
			if version >= 1 {
				left--
			}
			p++
			continue
		}
		straws[order[p]] = truncToU32(scale * 65536.0)
		p++
		if p == n {
			break
		}
		next := weights[order[p]]
		if version == 0 && next == cur {
			continue
		}
		below += (float64(cur) - prev) * float64(left)
		if version == 0 {
			for q := p; q < n && weights[order[q]] == next; q++ {
				left--
			}
		} else {
			left--
		}
		gap := float64(uint32(left) * (next - cur))
		frac := below / (below + gap)
		scale *= powCorrectlyRounded(1.0/frac, 1.0/float64(left))
		prev = float64(cur)
	}
	return straws
}

// truncToU32 converts a non-negative double to u32 the way Ceph's compiled C
// does on x86-64: truncate to a 64-bit integer, keep the low 32 bits. Go
// leaves out-of-range float conversions implementation-defined, so this is
// spelled out; it only matters for straws of extreme weight ratios.
func truncToU32(v float64) uint32 {
	if v >= 1<<63 || v != v {
		return 0
	}
	return uint32(int64(v))
}

// powPrecision is the working precision, in bits, of powCorrectlyRounded:
// far more than the 53 bits of a double, so that rounding the result once
// gives the correctly rounded power in every case that is not a
// near-midpoint to within 2^-140.
const powPrecision = 192

// powCorrectlyRounded returns x**y for x > 0 rounded to the nearest double.
// Go's math.Pow can be off by a few ulps, while glibc's pow (which crushtool
// uses for straw v1) is within 0.52 ulp, so it returns the correctly rounded
// value whenever the exact power lies near a representable double (for
// example pow(8, 1.0/3) is 2). Computing in extended precision reproduces
// that; the cost is irrelevant because straws are computed once per build.
func powCorrectlyRounded(x, y float64) float64 {
	if x <= 0 || math.IsInf(x, 0) || math.IsNaN(x) || math.IsNaN(y) || math.IsInf(y, 0) {
		return math.Pow(x, y)
	}
	if y == 0 || x == 1 {
		return 1
	}
	lnx := bigLn(newBig(x))
	t := newBig(y)
	t.Mul(t, lnx)
	f, _ := bigExp(t).Float64()
	return f
}

// newBig returns v as a big.Float at the working precision.
func newBig(v float64) *big.Float {
	return new(big.Float).SetPrec(powPrecision).SetFloat64(v)
}

// bigLn returns the natural logarithm of x > 0: x = m * 2^e with m in
// [0.5, 1), and ln m = 2 atanh((m-1)/(m+1)) converges quickly there.
func bigLn(x *big.Float) *big.Float {
	m := new(big.Float).SetPrec(powPrecision)
	e := x.MantExp(m)
	res := bigAtanhLn(m)
	if e != 0 {
		ln2 := bigAtanhLn(newBig(2))
		res.Add(res, ln2.Mul(ln2, newBig(float64(e))))
	}
	return res
}

// bigAtanhLn returns ln m for m > 0 by the series 2 * sum z^(2k+1)/(2k+1)
// with z = (m-1)/(m+1); for m in [0.5, 2] |z| <= 1/3.
func bigAtanhLn(m *big.Float) *big.Float {
	one := newBig(1)
	z := new(big.Float).SetPrec(powPrecision).Sub(m, one)
	den := new(big.Float).SetPrec(powPrecision).Add(m, one)
	z.Quo(z, den)
	z2 := new(big.Float).SetPrec(powPrecision).Mul(z, z)
	sum := new(big.Float).SetPrec(powPrecision).Set(z)
	term := new(big.Float).SetPrec(powPrecision).Set(z)
	for k := 1; k < 200; k++ {
		term.Mul(term, z2)
		q := new(big.Float).SetPrec(powPrecision).Quo(term, newBig(float64(2*k+1)))
		if q.Sign() == 0 || q.MantExp(nil)-sum.MantExp(nil) < -powPrecision {
			break
		}
		sum.Add(sum, q)
	}
	return sum.Mul(sum, newBig(2))
}

// bigExp returns e^t: t is divided by 2^20 so the Taylor series converges in
// a few terms, and the result is squared back 20 times.
func bigExp(t *big.Float) *big.Float {
	const halvings = 20
	r := new(big.Float).SetPrec(powPrecision).SetMantExp(t, -halvings)
	sum := newBig(1)
	term := newBig(1)
	for k := 1; k < 100; k++ {
		term.Mul(term, r)
		term.Quo(term, newBig(float64(k)))
		if term.Sign() == 0 || term.MantExp(nil) < -powPrecision-8 {
			break
		}
		sum.Add(sum, term)
	}
	for range halvings {
		sum.Mul(sum, sum)
	}
	return sum
}
