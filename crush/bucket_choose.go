package crush

// This file holds the five bucket choice functions of
// spec/crush-mapping.md section 5 and the reweight test of section 6. Each
// takes the rule input x and the attempt number r and returns one item of a
// non-empty bucket; callers never call them on an empty bucket.

import "math"

// straw2Zero is the draw of a zero-weight straw2 item: the smallest int64,
// so it never beats a real draw but still wins an all-zero bucket.
const straw2Zero = math.MinInt64

// ln2to48 is 2^48, the offset that makes crushLn(u) - 2^48 negative.
const ln2to48 = int64(1) << 48

// hash3 and hash4 apply the bucket's hash function. Only rjenkins1 exists;
// Ceph's hash dispatcher returns 0 for any other id, and so do these.
func (b *Bucket) hash3(x, c, d uint32) uint32 {
	if b.Hash != HashRjenkins1 {
		return 0
	}
	return Hash3(x, c, d)
}

func (b *Bucket) hash4(x, c, d, e uint32) uint32 {
	if b.Hash != HashRjenkins1 {
		return 0
	}
	return Hash4(x, c, d, e)
}

// choose dispatches to the bucket's algorithm. arg is the bucket's
// choose_args entry (or nil) and position the weight-set row to use; both
// matter only to straw2. An unknown algorithm returns the first item.
func (b *Bucket) choose(ws *Workspace, x uint32, r int, arg *ChooseArg, position int) int32 {
	switch b.Alg {
	case AlgUniform:
		return b.permChoose(ws, x, r)
	case AlgList:
		return b.listChoose(x, r)
	case AlgTree:
		return b.treeChoose(x, r)
	case AlgStraw:
		return b.strawChoose(x, r)
	case AlgStraw2:
		return b.straw2Choose(x, r, arg, position)
	default:
		return b.Items[0]
	}
}

// permChoose picks position r mod n of a pseudo-random permutation of the
// items that depends only on (bucket, x): a Fisher-Yates shuffle driven by
// hash3(x, id, p), stopped as soon as position r mod n is fixed. It serves
// uniform buckets and firstn's local fallback on any bucket.
func (b *Bucket) permChoose(ws *Workspace, x uint32, r int) int32 {
	n := uint32(len(b.Items))
	pr := uint32(r) % n
	id := uint32(b.ID)
	if pr == 0 {
		return b.Items[b.hash3(x, id, 0)%n]
	}
	perm := ws.permScratch(int(n))
	for i := range perm {
		perm[i] = uint32(i)
	}
	for p := uint32(0); p <= pr && p < n-1; p++ {
		i := b.hash3(x, id, p) % (n - p)
		perm[p], perm[p+i] = perm[p+i], perm[p]
	}
	return b.Items[perm[pr]]
}

// listChoose walks from the last item to the first and takes item i with
// probability weight[i] / sum[i].
func (b *Bucket) listChoose(x uint32, r int) int32 {
	id := uint32(b.ID)
	for i := len(b.Items) - 1; i >= 0; i-- {
		if i >= len(b.SumWeights) || i >= len(b.ItemWeights) {
			continue
		}
		h := uint64(b.hash4(x, uint32(b.Items[i]), uint32(r), id) & 0xffff)
		if h*uint64(b.SumWeights[i])>>16 < uint64(b.ItemWeights[i]) {
			return b.Items[i]
		}
	}
	return b.Items[0]
}

// treeChoose descends the node-weight tree from the root num_nodes/2,
// going left with probability weight(left)/weight(node); the hash takes the
// node number, not an item id.
func (b *Bucket) treeChoose(x uint32, r int) int32 {
	nodes := b.NodeWeights
	id := uint32(b.ID)
	m := len(nodes) / 2
	for m > 0 && m&1 == 0 {
		half := (m & -m) >> 1
		t := uint64(b.hash4(x, uint32(m), uint32(r), id)) * uint64(nodes[m]) >> 32
		if left := m - half; t < uint64(nodes[left]) {
			m = left
		} else {
			m += half
		}
	}
	if j := m >> 1; j < len(b.Items) {
		return b.Items[j]
	}
	// Only a tree whose total weight is 0 gets here (a non-zero node never
	// leads to a zero-weight child): every step goes right, to the last
	// leaf, which lies past the items unless their count is a power of two.
	// Ceph reads past its items array there and, as observed with crushtool
	// on all-zero trees of 3, 5, 6, 7 and 9 items, finds 0; so do we.
	return 0
}

// strawChoose draws hash * straw for every item and keeps the first
// largest draw.
func (b *Bucket) strawChoose(x uint32, r int) int32 {
	best := 0
	var bestDraw uint64
	for i, item := range b.Items {
		var straw uint64
		if i < len(b.Straws) {
			straw = uint64(b.Straws[i])
		}
		d := uint64(b.hash3(x, uint32(item), uint32(r))&0xffff) * straw
		if i == 0 || d > bestDraw {
			best, bestDraw = i, d
		}
	}
	return b.Items[best]
}

// straw2Choose draws ln(u)/weight for every item (an exponential variate
// scaled by the weight) and keeps the first largest draw. A choose_args
// entry may replace the weights (row `position`, clamped to the last row)
// and the ids that are hashed; the returned item is always the real one.
// Override rows or id lists of the wrong length are ignored, since using
// them would read past the bucket's items.
func (b *Bucket) straw2Choose(x uint32, r int, arg *ChooseArg, position int) int32 {
	weights, ids := b.ItemWeights, b.Items
	if arg != nil {
		if rows := len(arg.WeightSet); rows > 0 {
			row := arg.WeightSet[min(position, rows-1)]
			if len(row) == len(b.Items) {
				weights = row
			}
		}
		if len(arg.IDs) == len(b.Items) {
			ids = arg.IDs
		}
	}
	best := 0
	var bestDraw int64
	for i := range b.Items {
		d := int64(straw2Zero)
		if i < len(weights) && weights[i] != 0 {
			u := b.hash3(x, uint32(ids[i]), uint32(r)) & 0xffff
			d = -straw2Quotient(straw2NegLn[u], weights[i])
		}
		if i == 0 || d > bestDraw {
			best, bestDraw = i, d
		}
	}
	return b.Items[best]
}

// straw2NegLn[u] is 2^48 - crushLn(u), the magnitude of straw2's
// logarithm, for every 16-bit u, as a float64 (exact: it is below 2^53). A
// lookup is cheaper than the computation in the innermost loop of mapping,
// and the 512 KiB table is built in well under a millisecond.
var straw2NegLn = func() *[1 << 16]float64 {
	var t [1 << 16]float64
	for u := range t {
		t[u] = float64(uint64(ln2to48) - crushLn(uint32(u)))
	}
	return &t
}()

// straw2Quotient returns trunc(negLn / w) for 0 < negLn <= 2^48 and w > 0,
// which is Ceph's signed division of the negative logarithm by the weight
// (truncating toward zero) up to the sign. It divides in float64 because a
// 64-bit integer division costs several times more, and the result is
// exact: both operands are exact doubles, a quotient that is an integer
// comes out exact, and otherwise the exact quotient is at least 1/w away
// from the integers around it while the rounding error is at most
// 2^-53 * 2^48/w = 2^-5/w, so truncation lands on the same integer.
// TestStraw2QuotientExact checks this against integer division.
func straw2Quotient(negLn float64, w uint32) int64 {
	return int64(negLn / float64(w))
}

// isOut reports whether device d is refused for input x by the reweight
// vector: devices beyond the vector or at weight 0 always, devices at 1.0 or
// more never, others for a hashed fraction of the inputs.
func isOut(weights []uint32, d int32, x uint32) bool {
	if d < 0 || int(d) >= len(weights) {
		return true
	}
	w := weights[d]
	if w >= WeightOne {
		return false
	}
	if w == 0 {
		return true
	}
	return Hash2(x, uint32(d))&0xffff >= w
}
