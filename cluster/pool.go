package cluster

import (
	"fmt"
	"github.com/gorados/gorados/crush"
	"unicode/utf8"
)

// PoolType says how a pool stores objects, numbered as Ceph's pg_pool_t types.
type PoolType uint8

// Pool types.
const (
	// PoolReplicated keeps full copies; an OSD that disappears from the up
	// set shifts the others left.
	PoolReplicated PoolType = 1
	// PoolErasure keeps positional shards; a missing OSD leaves a hole
	// (crush.ItemNone) so every shard keeps its position.
	PoolErasure PoolType = 3
)

// String returns "replicated" or "erasure".
func (t PoolType) String() string {
	switch t {
	case PoolReplicated:
		return "replicated"
	case PoolErasure:
		return "erasure"
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// PoolFlags is a pool's flag bit set, numbered as Ceph's pg_pool_t flags.
type PoolFlags uint64

// Pool flags.
const (
	// PoolFlagHashPSPool mixes the pool id into the CRUSH input so that
	// pools do not place their PGs identically (set on every modern pool).
	PoolFlagHashPSPool PoolFlags = 1 << 0
	// PoolFlagFull marks a pool that refuses writes because it is full.
	PoolFlagFull PoolFlags = 1 << 1
)

// Limits on pool parameters enforced by ValidatePool.
const (
	// PoolNameMax is the longest pool name accepted, in bytes.
	PoolNameMax = 128
	// PoolSizeMax is the largest replica (or shard) count accepted; it is the
	// default max_size of Ceph's replicated rule.
	PoolSizeMax = 10
	// PGNumMax bounds pg_num: PG seeds are 32-bit and Ceph treats pg_num as a
	// signed 32-bit count, so pg_num must stay below 2^31.
	PGNumMax = 1<<31 - 1
)

// Pool is one pool of the cluster map (Ceph's pg_pool_t, reduced to what
// placement and the monitor need).
type Pool struct {
	ID         int64
	Name       string
	Type       PoolType
	Size       int32 // replicas (or shards) wanted
	MinSize    int32 // members needed before a PG serves I/O
	CrushRule  int32 // CRUSH rule id
	PGNum      uint32
	PGPNum     uint32 // placements CRUSH sees; <= PGNum
	Flags      PoolFlags
	ObjectHash ObjectHash
}

// NewReplicatedPool returns a replicated pool with Ceph's defaults: HASHPSPOOL,
// rjenkins, min_size = size - size/2, pgp_num = pg_num. It does not validate;
// call ValidatePool.
func NewReplicatedPool(id int64, name string, size int32, rule int32, pgNum uint32) *Pool {
	return &Pool{
		ID: id, Name: name, Type: PoolReplicated, Size: size, MinSize: DefaultMinSize(size),
		CrushRule: rule, PGNum: pgNum, PGPNum: pgNum, Flags: PoolFlagHashPSPool,
		ObjectHash: HashRjenkins,
	}
}

// DefaultMinSize is Ceph's default min_size for a pool of the given size:
// a majority, size - size/2 (2 for size 3).
func DefaultMinSize(size int32) int32 { return size - size/2 }

// CanShift reports whether placement may compact the OSD list (replicated
// pools) instead of leaving NONE holes (erasure pools).
func (p *Pool) CanShift() bool { return p.Type != PoolErasure }

// HashKey returns the raw placement seed of an object key in namespace ns,
// with the pool's object hash. A non-empty namespace is hashed as
// ns + 0x1F + key so that equal keys in different namespaces spread apart.
func (p *Pool) HashKey(key, ns string) uint32 {
	if ns == "" {
		return p.ObjectHash.Sum([]byte(key))
	}
	buf := make([]byte, 0, len(ns)+1+len(key))
	buf = append(buf, ns...)
	buf = append(buf, 0x1f)
	buf = append(buf, key...)
	return p.ObjectHash.Sum(buf)
}

// FoldSeed maps a raw placement seed onto one of the pool's pg_num PGs.
func (p *Pool) FoldSeed(raw uint32) uint32 {
	return StableMod(raw, p.PGNum, PGMask(p.PGNum))
}

// PlacementSeed returns the CRUSH input (Ceph's pps) for a PG seed: the seed
// is folded onto pgp_num and, with HASHPSPOOL, hashed with the pool id;
// legacy pools add the pool id instead, so their placements overlap.
func (p *Pool) PlacementSeed(seed uint32) uint32 {
	folded := StableMod(seed, p.PGPNum, PGMask(p.PGPNum))
	if p.Flags&PoolFlagHashPSPool != 0 {
		return crush.Hash2(folded, uint32(p.ID))
	}
	return folded + uint32(p.ID)
}

// ValidatePoolName checks the naming rule for pools: 1 to PoolNameMax bytes
// of letters, digits, '_', '-' and '.', not starting with '.' (reserved for
// internal pools, as in Ceph) or '-' (it would read as a flag on a command
// line).
func ValidatePoolName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty pool name: give the pool a name", ErrInvalidPool)
	}
	if len(name) > PoolNameMax {
		return fmt.Errorf("%w: pool name is %d bytes long, the limit is %d", ErrInvalidPool, len(name), PoolNameMax)
	}
	if !utf8.ValidString(name) || name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("%w: pool name %q may not start with '.' or '-'", ErrInvalidPool, name)
	}
	for _, r := range name {
		ok := r == '_' || r == '-' || r == '.' || (r >= '0' && r <= '9') ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return fmt.Errorf("%w: pool name %q contains %q: use letters, digits, '_', '-' and '.'", ErrInvalidPool, name, r)
		}
	}
	return nil
}

// ValidatePoolSize checks size and min_size: 1 <= min_size <= size <=
// PoolSizeMax.
func ValidatePoolSize(size, minSize int32) error {
	if size < 1 || size > PoolSizeMax {
		return fmt.Errorf("%w: size %d is outside 1..%d", ErrInvalidPool, size, PoolSizeMax)
	}
	if minSize < 1 || minSize > size {
		return fmt.Errorf("%w: min_size %d must be between 1 and size %d", ErrInvalidPool, minSize, size)
	}
	return nil
}

// ValidatePGNum checks pg_num and pgp_num: 1 <= pgp_num <= pg_num <= limit,
// where limit is the caller's cap (e.g. the monitor's per-OSD budget times
// the OSD count); a limit of 0 or above PGNumMax means PGNumMax.
func ValidatePGNum(pgNum, pgpNum uint32, limit uint64) error {
	if limit == 0 || limit > PGNumMax {
		limit = PGNumMax
	}
	if pgNum == 0 {
		return fmt.Errorf("%w: pg_num must be at least 1", ErrInvalidArgument)
	}
	if uint64(pgNum) > limit {
		return fmt.Errorf("%w: pg_num %d exceeds the limit %d: choose a smaller pg_num or add OSDs", ErrInvalidArgument, pgNum, limit)
	}
	if pgpNum == 0 || pgpNum > pgNum {
		return fmt.Errorf("%w: pgp_num %d must be between 1 and pg_num %d", ErrInvalidArgument, pgpNum, pgNum)
	}
	return nil
}

// ValidatePool checks every field of a pool on its own (not against a map:
// see OSDMap.Validate for the rule's existence and id uniqueness).
func ValidatePool(p *Pool) error {
	if p.ID < 0 {
		return fmt.Errorf("%w: pool id %d is negative", ErrInvalidPool, p.ID)
	}
	if err := ValidatePoolName(p.Name); err != nil {
		return err
	}
	if p.Type != PoolReplicated && p.Type != PoolErasure {
		return fmt.Errorf("%w: pool %q has unknown type %d (1 replicated, 3 erasure)", ErrInvalidPool, p.Name, p.Type)
	}
	if err := ValidatePoolSize(p.Size, p.MinSize); err != nil {
		return fmt.Errorf("pool %q: %w", p.Name, err)
	}
	if err := ValidatePGNum(p.PGNum, p.PGPNum, 0); err != nil {
		return fmt.Errorf("pool %q: %w", p.Name, err)
	}
	if p.CrushRule < 0 {
		return fmt.Errorf("%w: pool %q has negative crush rule %d", ErrInvalidPool, p.Name, p.CrushRule)
	}
	if !p.ObjectHash.Valid() {
		return fmt.Errorf("%w: pool %q has unknown object hash %d (1 linux, 2 rjenkins)", ErrInvalidPool, p.Name, p.ObjectHash)
	}
	return nil
}
