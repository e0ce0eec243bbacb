package cluster

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/gorados/gorados/crush"
)

// seedEncodings returns encoded maps and incrementals for the fuzz corpora.
func seedEncodings(f *testing.F) (maps, incs [][]byte) {
	r := rand.New(rand.NewPCG(3, 4))
	cm := testCrush(f, 4, 2)
	for range 4 {
		a := randomMap(f, r, cm)
		b := mutate(r, a, []*crush.Map{cm})
		maps = append(maps, mustMarshal(f, a))
		inc, err := Diff(a, b)
		if err != nil {
			f.Fatal(err)
		}
		w, err := inc.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		incs = append(incs, w)
	}
	return maps, incs
}

// FuzzUnmarshal: decoding arbitrary bytes never panics; whatever decodes is
// valid and re-encodes to a fixed point.
func FuzzUnmarshal(f *testing.F) {
	maps, _ := seedEncodings(f)
	for _, m := range maps {
		f.Add(m)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Unmarshal returned an invalid map: %v", err)
		}
		enc := mustMarshal(t, m)
		back, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("re-encoded map does not decode: %v", err)
		}
		if !bytes.Equal(enc, mustMarshal(t, back)) {
			t.Fatal("encoding is not a fixed point")
		}
		for id := range m.Pools {
			m.PGToUpActing(PGID{Pool: id, Seed: 0})
		}
	})
}

// FuzzUnmarshalIncremental: decoding never panics, and applying whatever
// decodes to a valid map either fails cleanly or yields a valid map.
func FuzzUnmarshalIncremental(f *testing.F) {
	_, incs := seedEncodings(f)
	for _, w := range incs {
		f.Add(w)
	}
	r := rand.New(rand.NewPCG(5, 6))
	base := randomMap(f, r, testCrush(f, 4, 2))
	base.Epoch = 0
	f.Fuzz(func(t *testing.T, data []byte) {
		inc, err := UnmarshalIncremental(data)
		if err != nil {
			return
		}
		if _, err := inc.Marshal(); err != nil {
			return // text fields that are not UTF-8 cannot come from a decoder; tolerate
		}
		inc.FSID, inc.Epoch = base.FSID, base.Epoch+1
		next, err := Seal(base, inc)
		if err != nil {
			return
		}
		if err := next.Validate(); err != nil {
			t.Fatalf("Seal produced an invalid map: %v", err)
		}
		if _, err := Apply(base, inc); err != nil {
			t.Fatalf("sealed incremental does not apply: %v", err)
		}
	})
}

// FuzzParsePGID: parsing never panics and round-trips what it accepts.
func FuzzParsePGID(f *testing.F) {
	for _, s := range []string{"1.1a", "0.0", "12.ffffffff", "x", "1.", "-1.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pg, err := ParsePGID(s)
		if err != nil {
			return
		}
		back, err := ParsePGID(pg.String())
		if err != nil || back != pg {
			t.Fatalf("%q -> %v -> %v, %v", s, pg, back, err)
		}
	})
}
