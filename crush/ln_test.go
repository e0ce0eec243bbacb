package crush

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

func TestCrushLnSpecValues(t *testing.T) {
	cases := []struct {
		u    uint32
		want uint64
	}{
		{0x0000, 0x000000000000},
		{0x0001, 0x100000000000},
		{0x0002, 0x195c01a39fbd},
		{0x7fff, 0xf00000000000},
		{0x8000, 0xf0002e2a60a0},
		{0xabcd, 0xf6cb4f87c148},
		{0xfffe, 0xfffffd61ad10},
		{0xffff, 0xfffff0000000},
	}
	for _, c := range cases {
		if got := crushLn(c.u); got != c.want {
			t.Errorf("crushLn(%#x) = %#x, want %#x", c.u, got, c.want)
		}
	}
}

// TestCrushLnRange checks the property the straw2 draw relies on (every
// result is below 2^48, so crushLn(u) - 2^48 is negative) and the spec's
// maximum at 0xfffe over all 65536 inputs.
func TestCrushLnRange(t *testing.T) {
	var maxV uint64
	maxU := uint32(0)
	for u := uint32(0); u <= 0xffff; u++ {
		v := crushLn(u)
		if v >= 1<<48 {
			t.Fatalf("crushLn(%#x) = %#x, not below 2^48", u, v)
		}
		if v > maxV {
			maxV, maxU = v, u
		}
	}
	if maxU != 0xfffe || maxV != 0xfffffd61ad10 {
		t.Errorf("maximum %#x at %#x, want 0xfffffd61ad10 at 0xfffe", maxV, maxU)
	}
}

// TestLnTableChecksums guards the generated tables with the spec's sha256
// values, so a hand edit of ln_table.go cannot go unnoticed.
func TestLnTableChecksums(t *testing.T) {
	lines := func(v []uint64) string {
		var b strings.Builder
		for _, x := range v {
			b.WriteString(strconv.FormatUint(x, 10) + "\n")
		}
		return b.String()
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	rhlh, ll := lines(lnRHLH[:]), lines(lnLL[:])
	for _, c := range []struct{ name, got, want string }{
		{"RH_LH", sum(rhlh), "139fcf8c5d9eecc62cd8bf69c4b65ef08c6b87d71adaa2de667f4a73da1a7627"},
		{"LL", sum(ll), "ebb8ea5eab414d8b84cf651e058f08606d3747a9b052009d1fa0cab179bfed4b"},
		{"both", sum(rhlh + ll), "28ec9e5f24381b241ca87a52988868053c31e76446a08486cc5324f03b17d1e6"},
	} {
		if c.got != c.want {
			t.Errorf("sha256 of %s = %s, want %s", c.name, c.got, c.want)
		}
	}
}
