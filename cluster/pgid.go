package cluster

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// PGID names a placement group: a pool and a seed. For a real PG the seed is
// already folded below the pool's pg_num; the "raw" PG of an object carries
// the full 32-bit name hash instead (see ObjectToRawPG).
type PGID struct {
	Pool int64
	Seed uint32
}

// String formats the id as Ceph does: decimal pool, a dot, lowercase hex seed
// without leading zeros ("1.1a").
func (p PGID) String() string {
	return strconv.FormatInt(p.Pool, 10) + "." + strconv.FormatUint(uint64(p.Seed), 16)
}

// ParsePGID parses the "POOL.HEXSEED" form that PGID.String prints.
func ParsePGID(s string) (PGID, error) {
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return PGID{}, fmt.Errorf("%w: %q has no '.': write POOL.HEXSEED, e.g. 1.1a", ErrBadPGID, s)
	}
	pool, err := strconv.ParseInt(s[:dot], 10, 64)
	if err != nil || pool < 0 {
		return PGID{}, fmt.Errorf("%w: %q: pool %q is not a non-negative decimal number", ErrBadPGID, s, s[:dot])
	}
	seedText := s[dot+1:]
	if seedText == "" || strings.HasPrefix(seedText, "+") || strings.HasPrefix(seedText, "-") {
		return PGID{}, fmt.Errorf("%w: %q: seed %q is not a hex number", ErrBadPGID, s, seedText)
	}
	seed, err := strconv.ParseUint(seedText, 16, 32)
	if err != nil {
		return PGID{}, fmt.Errorf("%w: %q: seed %q is not a 32-bit hex number", ErrBadPGID, s, seedText)
	}
	return PGID{Pool: pool, Seed: uint32(seed)}, nil
}

// Less orders PG ids by pool, then seed: the order of every sorted list of
// PGs in this package and in its encoding.
func (p PGID) Less(q PGID) bool {
	if p.Pool != q.Pool {
		return p.Pool < q.Pool
	}
	return p.Seed < q.Seed
}

// comparePGID is Less as a three-way comparison for slices.SortFunc.
func comparePGID(p, q PGID) int {
	switch {
	case p.Less(q):
		return -1
	case q.Less(p):
		return 1
	}
	return 0
}

// PGMask returns Ceph's calc_pg_masks mask for b placement groups: the
// smallest all-ones value covering b-1 (b=12 gives 15, b=64 gives 63).
func PGMask(b uint32) uint32 {
	if b <= 1 {
		return 0
	}
	return uint32(1)<<bits.Len32(b-1) - 1
}

// StableMod is ceph_stable_mod: it folds x onto [0, b) so that growing b
// from one power of two to the next only moves values into the new slots
// (PG splitting in place). bmask must be PGMask(b).
func StableMod(x, b, bmask uint32) uint32 {
	if x&bmask < b {
		return x & bmask
	}
	return x & (bmask >> 1)
}
