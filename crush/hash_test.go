package crush

import "testing"

// Test vectors of spec/crush-mapping.md 14.2; signed arguments are passed as
// their two's-complement bit patterns.
func TestHashSpecVectors(t *testing.T) {
	neg := func(v int32) uint32 { return uint32(v) }
	cases := []struct {
		name      string
		got, want uint32
	}{
		{"hash1(0)", Hash1(0), 0x17c4a80b},
		{"hash1(1)", Hash1(1), 0xd5082851},
		{"hash2(0,0)", Hash2(0, 0), 0x19ad4ce9},
		{"hash2(1,2)", Hash2(1, 2), 0xb78dee9c},
		{"hash2(-1,7)", Hash2(0xffffffff, 7), 0xab5ccd1e},
		{"hash2(0,1)", Hash2(0, 1), 91478055},
		{"hash2(1,1)", Hash2(1, 1), 3308535608},
		{"hash3(0,0,0)", Hash3(0, 0, 0), 0x7a3bf3b2},
		{"hash3(1,2,3)", Hash3(1, 2, 3), 0x735ad42b},
		{"hash3(12345,-1,2)", Hash3(12345, neg(-1), 2), 0x97605953},
		{"hash4(1,2,3,4)", Hash4(1, 2, 3, 4), 0x696d1f16},
		{"hash4(7,-3,0,-1)", Hash4(7, neg(-3), 0, neg(-1)), 0x87b4c5a5},
		{"hash5(1,2,3,4,5)", Hash5(1, 2, 3, 4, 5), 0x4b42a1a1},
		{"hash2(42,3)&0xffff", Hash2(42, 3) & 0xffff, 0x4709},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

func BenchmarkHash3(b *testing.B) {
	var h uint32
	for i := range b.N {
		h ^= Hash3(uint32(i), 0xfffffffe, 2)
	}
	sinkU32 = h
}

var sinkU32 uint32
