package crush

import (
	"bytes"
	"testing"
)

// TestDumpGolden compares DumpJSON of every decoded crushtool binary with
// `crushtool --dump` byte for byte; this also checks the decoder against
// every integer crushtool read from the same binary.
func TestDumpGolden(t *testing.T) {
	for _, g := range goldenMaps(t) {
		m, err := Decode(g.read(t, ".bin"))
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		got, err := m.DumpJSON()
		if err != nil {
			t.Fatal(err)
		}
		want := g.read(t, ".json")
		if !bytes.Equal(got, want) {
			n := diffLine(got, want)
			t.Errorf("%s: dump differs from crushtool --dump at line %d:\n got %q\nwant %q",
				g.name, n, lineAt(got, n), lineAt(want, n))
		}
	}
}
