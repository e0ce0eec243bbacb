package cluster

import (
	"errors"
	"testing"
)

func TestPGMask(t *testing.T) {
	for _, c := range []struct{ b, mask uint32 }{
		{0, 0}, {1, 0}, {2, 1}, {3, 3}, {4, 3}, {5, 7}, {12, 15}, {64, 63}, {65, 127},
		{123, 127}, {1 << 31, 1<<31 - 1}, {1<<31 + 1, 0xffffffff},
	} {
		if got := PGMask(c.b); got != c.mask {
			t.Errorf("PGMask(%d) = %d, want %d", c.b, got, c.mask)
		}
	}
}

// StableMod must agree with its definition and must split PGs in place: an
// object either stays in its PG or moves to a PG that did not exist before.
func TestStableModSplitsInPlace(t *testing.T) {
	for b := uint32(1); b < 300; b++ {
		mask := PGMask(b)
		for x := uint32(0); x < 2048; x += 7 {
			got := StableMod(x, b, mask)
			if got >= b {
				t.Fatalf("StableMod(%d,%d) = %d out of range", x, b, got)
			}
			next := StableMod(x, b+1, PGMask(b+1))
			if next != got && next != b {
				t.Fatalf("growing pg_num %d->%d moved x=%d from %d to old PG %d", b, b+1, x, got, next)
			}
		}
	}
}

func TestPGIDStringParse(t *testing.T) {
	for _, c := range []struct {
		pg PGID
		s  string
	}{
		{PGID{1, 0x1a}, "1.1a"}, {PGID{0, 0}, "0.0"}, {PGID{12, 0xffffffff}, "12.ffffffff"},
	} {
		if c.pg.String() != c.s {
			t.Errorf("%v.String() = %q, want %q", c.pg, c.pg.String(), c.s)
		}
		back, err := ParsePGID(c.s)
		if err != nil || back != c.pg {
			t.Errorf("ParsePGID(%q) = %v, %v", c.s, back, err)
		}
	}
	for _, bad := range []string{"", "1", "1.", ".1", "x.1", "-1.2", "1.g", "1.100000000", "1.-1", "1.+1"} {
		if _, err := ParsePGID(bad); !errors.Is(err, ErrBadPGID) {
			t.Errorf("ParsePGID(%q) error = %v, want ErrBadPGID", bad, err)
		}
	}
}
