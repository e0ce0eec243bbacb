package cluster

import "testing"

// The golden values come from ceph-facts.md section 1 (checked against real
// `ceph osd map` output).
func TestStrHashRjenkinsGolden(t *testing.T) {
	cases := []struct {
		name  string
		hash  uint32
		pgNum uint32
		pg    uint32
	}{
		{"issue", 0x651f88da, 64, 0x1a},
		{"ceph-file", 0x7753490d, 64, 0xd},
		{"Closer.mp3", 0x21df0aa8, 32, 0x8},
		{"object.1", 0xf560f2ec, 8, 0x4},
		{"10000000001.00000000", 0x0c9e0747, 128, 0x47},
		{"test", 0x40e8aab5, 64, 0x35},
		{"test-object-1", 0x74dc35e2, 0, 0},
	}
	for _, c := range cases {
		got := StrHashRjenkins([]byte(c.name))
		if got != c.hash {
			t.Errorf("rjenkins(%q) = %#x, want %#x", c.name, got, c.hash)
		}
		if c.pgNum == 0 {
			continue
		}
		if pg := StableMod(got, c.pgNum, PGMask(c.pgNum)); pg != c.pg {
			t.Errorf("stable_mod(%#x, %d) = %#x, want %#x", got, c.pgNum, pg, c.pg)
		}
	}
}

// The tail handling must treat each of the 0..11 trailing byte counts; a
// reference built from whole 12-byte blocks padded by hand checks them.
func TestStrHashRjenkinsTailPositions(t *testing.T) {
	for n := 0; n <= 40; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(0x80 + 7*i)
		}
		if got, want := StrHashRjenkins(data), refLookup2(data); got != want {
			t.Errorf("len %d: got %#x want %#x", n, got, want)
		}
	}
}

// refLookup2 is a deliberately different formulation of lookup2: it pads the
// tail to a full block and adds the length to c before the final mix, with
// the tail bytes of c shifted up one position.
func refLookup2(data []byte) uint32 {
	a, b, c := golden, golden, uint32(0)
	full := len(data) / 12 * 12
	for i := 0; i < full; i += 12 {
		a, b, c = mix(a+le32(data[i:]), b+le32(data[i+4:]), c+le32(data[i+8:]))
	}
	var tail [12]byte
	copy(tail[:], data[full:])
	c += uint32(len(data))
	a += le32(tail[0:])
	b += le32(tail[4:])
	c += le32(tail[8:]) << 8
	_, _, c = mix(a, b, c)
	return c
}

func TestStrHashLinux(t *testing.T) {
	// Hand-computed: 'a' = 0x61: (0 + 0x610 + 0x6) * 11 = 0x42F2;
	// then 'b' = 0x62: (0x42F2 + 0x620 + 0x6) * 11 = 0x32408.
	if got := StrHashLinux([]byte("a")); got != 0x42f2 {
		t.Errorf("linux(a) = %#x", got)
	}
	if got := StrHashLinux([]byte("ab")); got != 0x32408 {
		t.Errorf("linux(ab) = %#x", got)
	}
	if StrHashLinux(nil) != 0 {
		t.Error("linux(empty) != 0")
	}
	if HashLinux.Sum([]byte("ab")) != 0x32408 || HashRjenkins.Sum([]byte("issue")) != 0x651f88da {
		t.Error("ObjectHash.Sum dispatches wrongly")
	}
}

func BenchmarkStrHashRjenkins(b *testing.B) {
	name := []byte("rbd_data.1234567890ab.0000000000000042")
	b.ReportAllocs()
	for b.Loop() {
		StrHashRjenkins(name)
	}
}
