package crush

//go:generate go run ./internal/lntablegen -in internal/lntablegen/crush-ln-tables.txt -out ln_table.go

import "math/bits"

// crushLn returns approximately 2^44 * log2(u+1) for u in [0, 0xFFFF], in
// integer arithmetic only, so that straw2 draws are identical on every
// machine (spec/crush-mapping.md 4.2). Inputs above 0xFFFF are masked.
func crushLn(u uint32) uint64 {
	v := (u & 0xFFFF) + 1
	e := uint64(15)
	if v&0x18000 == 0 {
		// Normalise so that bit 15 is the top bit.
		s := uint32(16 - bits.Len32(v))
		v <<= s
		e = 15 - uint64(s)
	}
	k := (v >> 8) - 128
	rh, lh := lnRHLH[2*k], lnRHLH[2*k+1]
	j := (uint64(v) * rh >> 48) & 0xFF
	return e<<44 + (lh+lnLL[j])>>4
}
