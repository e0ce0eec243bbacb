package crush

// This file holds rjenkins1, the only hash family CRUSH uses
// (spec/crush-mapping.md section 3). Every function copies its arguments into
// locals that mix then mutates; later mix calls reuse the mutated values,
// which is what makes the hashes Ceph's.

// Hash constants of rjenkins1.
const (
	hashSeed uint32 = 1315423911
	hashX0   uint32 = 231232
	hashY0   uint32 = 1232
)

// HashRjenkins1 is the id of the rjenkins1 hash in a bucket's Hash field.
const HashRjenkins1 uint8 = 0

// Robert Jenkins' 96-bit mixing step, mix(a, b, c), is written
// mixTail(mixHead(a, b, c)): it returns all three updated values because
// callers keep using them, and it is split in two halves only so that the Go
// compiler inlines both (one function exceeds the inlining budget, and the
// calls cost a third of a mapping).

// mixHead is rounds 1 to 5 of mix.
func mixHead(a, b, c uint32) (uint32, uint32, uint32) {
	a = (a - b - c) ^ (c >> 13)
	b = (b - c - a) ^ (a << 8)
	c = (c - a - b) ^ (b >> 13)
	a = (a - b - c) ^ (c >> 12)
	b = (b - c - a) ^ (a << 16)
	return a, b, c
}

// mixTail is rounds 6 to 9 of mix.
func mixTail(a, b, c uint32) (uint32, uint32, uint32) {
	c = (c - a - b) ^ (b >> 5)
	a = (a - b - c) ^ (c >> 3)
	b = (b - c - a) ^ (a << 10)
	c = (c - a - b) ^ (b >> 15)
	return a, b, c
}

// Hash1 is rjenkins1 of one value.
func Hash1(a uint32) uint32 {
	h := hashSeed ^ a
	b, x, y := a, hashX0, hashY0
	b, x, h = mixTail(mixHead(b, x, h))
	y, a, h = mixTail(mixHead(y, a, h))
	_, _, _ = b, x, y
	return h
}

// Hash2 is rjenkins1 of two values.
func Hash2(a, b uint32) uint32 {
	h := hashSeed ^ a ^ b
	x, y := hashX0, hashY0
	a, b, h = mixTail(mixHead(a, b, h))
	x, a, h = mixTail(mixHead(x, a, h))
	_, _, h = mixTail(mixHead(b, y, h))
	return h
}

// Hash3 is rjenkins1 of three values.
func Hash3(a, b, c uint32) uint32 {
	h := hashSeed ^ a ^ b ^ c
	x, y := hashX0, hashY0
	a, b, h = mixTail(mixHead(a, b, h))
	c, x, h = mixTail(mixHead(c, x, h))
	y, a, h = mixTail(mixHead(y, a, h))
	b, x, h = mixTail(mixHead(b, x, h))
	_, _, h = mixTail(mixHead(y, c, h))
	return h
}

// Hash4 is rjenkins1 of four values.
func Hash4(a, b, c, d uint32) uint32 {
	h := hashSeed ^ a ^ b ^ c ^ d
	x, y := hashX0, hashY0
	a, b, h = mixTail(mixHead(a, b, h))
	c, d, h = mixTail(mixHead(c, d, h))
	a, x, h = mixTail(mixHead(a, x, h))
	y, b, h = mixTail(mixHead(y, b, h))
	c, x, h = mixTail(mixHead(c, x, h))
	_, _, h = mixTail(mixHead(y, d, h))
	return h
}

// Hash5 is rjenkins1 of five values.
func Hash5(a, b, c, d, e uint32) uint32 {
	h := hashSeed ^ a ^ b ^ c ^ d ^ e
	x, y := hashX0, hashY0
	a, b, h = mixTail(mixHead(a, b, h))
	c, d, h = mixTail(mixHead(c, d, h))
	e, x, h = mixTail(mixHead(e, x, h))
	y, a, h = mixTail(mixHead(y, a, h))
	b, x, h = mixTail(mixHead(b, x, h))
	y, c, h = mixTail(mixHead(y, c, h))
	d, x, h = mixTail(mixHead(d, x, h))
	_, _, h = mixTail(mixHead(y, e, h))
	return h
}
