package cluster

// This file holds Ceph's object-name hashes (ceph-facts.md section 1). A pool
// chooses one of them with its object_hash field; the result is the 32-bit raw
// placement seed of an object, which stable_mod later folds onto a PG.

// ObjectHash names a pool's object-name hash function, numbered as Ceph's
// CEPH_STR_HASH_* constants.
type ObjectHash uint8

// Object hash functions.
const (
	// HashLinux is the Linux dcache name hash (CEPH_STR_HASH_LINUX).
	HashLinux ObjectHash = 1
	// HashRjenkins is Bob Jenkins' lookup2 hash (CEPH_STR_HASH_RJENKINS), the
	// default of every pool.
	HashRjenkins ObjectHash = 2
)

// String returns the name Ceph prints for the hash ("rjenkins", "linux").
func (h ObjectHash) String() string {
	switch h {
	case HashLinux:
		return "linux"
	case HashRjenkins:
		return "rjenkins"
	}
	return "unknown"
}

// Valid reports whether h is a hash this package implements.
func (h ObjectHash) Valid() bool { return h == HashLinux || h == HashRjenkins }

// Sum hashes data with the function h names. An unknown h hashes with
// rjenkins, which is what a pool without a valid hash would be created with;
// pools are validated before they reach placement, so this is a safe default.
func (h ObjectHash) Sum(data []byte) uint32 {
	if h == HashLinux {
		return StrHashLinux(data)
	}
	return StrHashRjenkins(data)
}

// mix is the nine-round Jenkins mixing step shared by lookup2 and CRUSH's
// rjenkins1 hashes. It mutates all three words.
func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= b
	a -= c
	a ^= c >> 13
	b -= c
	b -= a
	b ^= a << 8
	c -= a
	c -= b
	c ^= b >> 13
	a -= b
	a -= c
	a ^= c >> 12
	b -= c
	b -= a
	b ^= a << 16
	c -= a
	c -= b
	c ^= b >> 5
	a -= b
	a -= c
	a ^= c >> 3
	b -= c
	b -= a
	b ^= a << 10
	c -= a
	c -= b
	c ^= b >> 15
	return a, b, c
}

// golden is lookup2's initial value of a and b, the golden ratio.
const golden uint32 = 0x9e3779b9

// le32 reads a little-endian word from the first four bytes of p.
func le32(p []byte) uint32 {
	return uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
}

// StrHashRjenkins is Ceph's ceph_str_hash_rjenkins: lookup2 over data with an
// initial value of 0. It reads the input as little-endian words whatever the
// host byte order, so every client computes the same seed.
func StrHashRjenkins(data []byte) uint32 {
	a, b, c := golden, golden, uint32(0)
	p := data
	for len(p) >= 12 {
		a += le32(p)
		b += le32(p[4:])
		c += le32(p[8:])
		a, b, c = mix(a, b, c)
		p = p[12:]
	}
	c += uint32(len(data))
	// The tail: bytes 0-3 go to a, 4-7 to b, 8-10 to c shifted by one byte,
	// because c's low byte already carries the length.
	for i := len(p) - 1; i >= 0; i-- {
		v := uint32(p[i])
		switch {
		case i >= 8:
			c += v << (8 * uint(i-7))
		case i >= 4:
			b += v << (8 * uint(i-4))
		default:
			a += v << (8 * uint(i))
		}
	}
	_, _, c = mix(a, b, c)
	return c
}

// StrHashLinux is the Linux dcache name hash Ceph offers as the "linux"
// object hash: for each byte c, h = (h + (c << 4) + (c >> 4)) * 11, modulo
// 2^32.
func StrHashLinux(data []byte) uint32 {
	var h uint32
	for _, c := range data {
		v := uint32(c)
		h = (h + (v << 4) + (v >> 4)) * 11
	}
	return h
}
