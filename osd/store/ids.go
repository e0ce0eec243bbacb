package store

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// CollID identifies a collection: the objects, log, info and metadata of
// one placement group on this OSD, or the OSD's own meta collection.
type CollID struct {
	// Pool is the pool id; MetaColl uses -1.
	Pool int64 `json:"pool"`
	// Seed is the PG's placement seed (the folded hash, printed in hex).
	Seed uint32 `json:"seed"`
}

// MetaColl is the OSD's private collection (superblock, maps), outside any
// pool, as Ceph's "meta" collection. Its objects use Pool -1.
var MetaColl = CollID{Pool: -1}

// PG returns the collection of PG pool.seed.
func PG(pool int64, seed uint32) CollID { return CollID{Pool: pool, Seed: seed} }

// IsMeta reports whether c is the OSD's meta collection.
func (c CollID) IsMeta() bool { return c == MetaColl }

// String formats c as Ceph prints PG ids ("1.1a"), or "meta".
func (c CollID) String() string {
	if c.IsMeta() {
		return "meta"
	}
	return strconv.FormatInt(c.Pool, 10) + "." + strconv.FormatUint(uint64(c.Seed), 16)
}

// ParseCollID parses "meta", "POOL.SEEDHEX" or Ceph's collection spelling
// "POOL.SEEDHEX_head".
func ParseCollID(s string) (CollID, error) {
	if s == "meta" {
		return MetaColl, nil
	}
	poolText, seedText, ok := strings.Cut(strings.TrimSuffix(s, "_head"), ".")
	if !ok {
		return CollID{}, fmt.Errorf("%w: collection %q: want POOL.SEED with SEED in hex (e.g. 1.1a) or meta", ErrInvalid, s)
	}
	pool, err := strconv.ParseInt(poolText, 10, 64)
	if err != nil || pool < 0 {
		return CollID{}, fmt.Errorf("%w: collection %q: pool must be a non-negative integer", ErrInvalid, s)
	}
	seed, err := strconv.ParseUint(seedText, 16, 32)
	if err != nil {
		return CollID{}, fmt.Errorf("%w: collection %q: seed must be a 32-bit hex number", ErrInvalid, s)
	}
	return CollID{Pool: pool, Seed: uint32(seed)}, nil
}

// validate rejects collection ids that name neither a PG nor the meta
// collection.
func (c CollID) validate() error {
	if c.Pool < 0 && !c.IsMeta() {
		return fmt.Errorf("%w: collection %s: pool ids are non-negative (the meta collection is -1.0)", ErrInvalid, c)
	}
	return nil
}

// ObjectID identifies an object the way Ceph's hobject_t does (without
// snapshots): the pool, the RADOS namespace, the locator key, the name and
// the 32-bit placement hash the PG layer computed from them.
type ObjectID struct {
	// Pool is the object's pool; it must equal its collection's pool.
	Pool int64 `json:"pool"`
	// Namespace is the RADOS namespace ("" is the default one).
	Namespace string `json:"namespace"`
	// Key is the locator key; "" means the name is the key. A key equal
	// to the name is the same object as no key, as in Ceph, and is
	// normalized to "".
	Key string `json:"key"`
	// Name is the object's name; it is never empty.
	Name string `json:"oid"`
	// Hash is the full 32-bit placement hash of (namespace, key or name).
	Hash uint32 `json:"hash"`
}

// Normalize returns o with a key equal to the name cleared, the form the
// store returns from listings.
func (o ObjectID) Normalize() ObjectID {
	if o.Key == o.Name {
		o.Key = ""
	}
	return o
}

// effectiveKey is the key objects sort by after the hash and namespace.
func (o ObjectID) effectiveKey() string {
	if o.Key != "" {
		return o.Key
	}
	return o.Name
}

// String formats o for messages: the quoted name with its namespace, key
// and hash.
func (o ObjectID) String() string {
	s := strconv.Quote(o.Name)
	if o.Namespace != "" {
		s = strconv.Quote(o.Namespace) + "/" + s
	}
	if k := o.Normalize().Key; k != "" {
		s += " key " + strconv.Quote(k)
	}
	return s + fmt.Sprintf(" hash %08x", o.Hash)
}

// Compare orders objects as Ceph's hobject_t sorts them within a pool: by
// bit-reversed hash (so that a PG's objects are contiguous and a PG split
// divides the range), then namespace, effective key (key, or name when
// there is none) and name, comparing strings bytewise. The store lists
// collections in this order. It returns -1, 0 or +1.
func Compare(a, b ObjectID) int {
	if a.Pool != b.Pool {
		return cmpInt(a.Pool, b.Pool)
	}
	if ra, rb := bits.Reverse32(a.Hash), bits.Reverse32(b.Hash); ra != rb {
		return cmpInt(ra, rb)
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	if c := strings.Compare(a.effectiveKey(), b.effectiveKey()); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func cmpInt[T int64 | uint32](a, b T) int {
	if a < b {
		return -1
	}
	return 1
}

// EVersion is Ceph's eversion_t: the (epoch, version) pair the PG layer
// assigns to each write, ordered epoch first. The store keys PG log
// entries by it and records it on objects; it never interprets it further.
type EVersion struct {
	Epoch   uint32 `json:"epoch"`
	Version uint64 `json:"version"`
}

// String prints v as Ceph does: "epoch'version".
func (v EVersion) String() string {
	return strconv.FormatUint(uint64(v.Epoch), 10) + "'" + strconv.FormatUint(v.Version, 10)
}

// Less reports whether v orders before w.
func (v EVersion) Less(w EVersion) bool {
	if v.Epoch != w.Epoch {
		return v.Epoch < w.Epoch
	}
	return v.Version < w.Version
}
