package crush

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"testing"
)

// TestDecompileGolden decompiles every crushtool binary and compares with
// `crushtool -d` byte for byte.
func TestDecompileGolden(t *testing.T) {
	for _, g := range goldenMaps(t) {
		m, err := Decode(g.read(t, ".bin"))
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		want := g.read(t, ".d.txt")
		if got := m.Decompile(); !bytes.Equal(got, want) {
			t.Errorf("%s: decompiled text differs from crushtool -d at line %d:\n got %q\nwant %q",
				g.name, diffLine(got, want), lineAt(got, diffLine(got, want)), lineAt(want, diffLine(got, want)))
		}
	}
}

// exactThousandths reports whether every weight of m prints exactly in
// three decimals, so that decompiling loses nothing.
func exactThousandths(m *Map) bool {
	ok := func(w uint32) bool { return weightValue(fmt3(w)) == w }
	for _, b := range m.Buckets {
		for j := range b.itemsOrNone() {
			if !ok(b.ItemWeight(j)) {
				return false
			}
		}
	}
	for _, set := range m.ChooseArgs {
		for _, a := range set {
			for _, row := range a.WeightSet {
				for _, w := range row {
					if !ok(w) {
						return false
					}
				}
			}
		}
	}
	return true
}

func (b *Bucket) itemsOrNone() []int32 {
	if b == nil {
		return nil
	}
	return b.Items
}

// losslessText reports whether decompiling m loses nothing besides weights:
// crushtool's text cannot carry a nameless type 0 (printed as osd), negative
// type, device or choose_args set ids (from wrapped numbers; only -1 comes
// back), a rule whose ruleset differs
// from its id, or the class pins and classes of a map whose shadow building
// stopped early.
func losslessText(m *Map) bool {
	if _, ok := m.TypeNames[0]; !ok && len(m.TypeNames) > 0 {
		return false
	}
	for id := range m.TypeNames {
		if id < 0 {
			return false // printed as "type -1 x", which does not parse
		}
	}
	for id := range m.Names {
		if id < 0 && m.Bucket(id) == nil {
			return false // a device with a wrapped negative id is not printed
		}
	}
	for id := range m.ChooseArgs {
		if id < DefaultChooseArgs {
			return false // printed unsigned, which reads back as -1
		}
	}
	used := map[int32]bool{}
	for id, c := range m.ClassMap {
		if id >= 0 {
			used[c] = true
		}
	}
	for _, byClass := range m.ClassBucket {
		for c := range byClass {
			used[c] = true
		}
	}
	if len(used) != len(m.ClassNames) || warnsRuleset(m) {
		return false
	}
	if len(m.ClassBucket) == 0 {
		return true // no rules, so no shadows at all
	}
	for _, b := range m.Buckets {
		if b != nil && !isShadowName(m.itemName(b.ID)) && len(m.ClassBucket[b.ID]) != len(m.ClassNames) {
			return false
		}
	}
	return true
}

// TestDecompileRoundTrip checks compile -> decompile -> compile on every
// golden map whose weights are multiples of 1/1000 and whose text is
// otherwise lossless: the second compile gives the same map.
func TestDecompileRoundTrip(t *testing.T) {
	n := 0
	for _, g := range goldenMaps(t) {
		m, err := Compile(g.read(t, ".txt"))
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		if !exactThousandths(m) || !losslessText(m) {
			continue
		}
		n++
		m2, err := Compile(m.Decompile())
		if err != nil {
			t.Errorf("%s: recompiling the decompiled text: %v", g.name, err)
			continue
		}
		if d := diffMaps(canonicalClasses(withoutTreeShadowNodes(m)), canonicalClasses(withoutTreeShadowNodes(m2))); d != "" {
			t.Errorf("%s: compile(decompile(m)) != m: %s", g.name, d)
		}
	}
	t.Logf("%d golden maps round-tripped", n)
	if n < 20 {
		t.Fatalf("only %d golden maps have exact weights; the round trip is barely tested", n)
	}
}

func warnsRuleset(m *Map) bool {
	for id, r := range m.Rules {
		if r != nil && int(r.Ruleset) != id {
			return true
		}
	}
	return false
}

func TestFmt3(t *testing.T) {
	for v, want := range map[uint32]string{
		65536: "1.000", 242483: "3.700", 8090: "0.123", 4096: "0.062", 6144: "0.094",
		16777217: "256.000", 0: "0.000", 4294901760: "-1.000", 0xffffffff: "-0.000",
	} {
		if got := fmt3(v); got != want {
			t.Errorf("fmt3(%d) = %s, want %s", v, got, want)
		}
	}
}

// TestDecompileProblems checks the maps crushtool cannot decompile: a take
// of a shadow-looking name that does not split into bucket and class, and a
// cycle; both are reported and the rest of the text is still written.
func TestDecompileProblems(t *testing.T) {
	m := NewMap()
	m.TypeNames[1] = "host"
	m.Buckets = []*Bucket{{ID: -1, Type: 1, Alg: AlgStraw2}}
	m.Names[-1] = "a~b"
	m.Rules = []*Rule{{Type: 1, Steps: []Step{{Op: OpTake, Arg1: -1}}}}
	var buf bytes.Buffer
	err := m.WriteText(&buf)
	if !errors.Is(err, ErrDecompile) || !strings.Contains(err.Error(), "a~b") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(buf.String(), "step take a class b") || !strings.HasSuffix(buf.String(), "# end crush map\n") {
		t.Fatalf("text:\n%s", buf.String())
	}
	m.Names[-1] = "a"
	m.Buckets[0].Items, m.Buckets[0].ItemWeights = []int32{-1}, []uint32{0}
	if err := m.WriteText(&buf); !errors.Is(err, ErrDecompile) || !strings.Contains(err.Error(), "contains itself") {
		t.Fatalf("cycle: err = %v", err)
	}
}

func diffLine(a, b []byte) int {
	return bytes.Count(a[:firstDiff(a, b)], []byte("\n")) + 1
}

func lineAt(text []byte, n int) string {
	lines := strings.Split(string(text), "\n")
	if n-1 < len(lines) {
		return lines[n-1]
	}
	return ""
}

// canonicalClasses returns a copy of m whose class ids are renumbered by
// class name. Text maps number classes by first mention, and decompiled
// text lists devices by id, so a round trip may renumber classes without
// changing what the map means.
func canonicalClasses(m *Map) *Map {
	names := make([]string, 0, len(m.ClassNames))
	for _, n := range m.ClassNames {
		names = append(names, n)
	}
	sort.Strings(names)
	newID := map[int32]int32{}
	for old, n := range m.ClassNames {
		newID[old] = int32(sort.SearchStrings(names, n))
	}
	c := m.clone()
	c.ClassNames = map[int32]string{}
	for i, n := range names {
		c.ClassNames[int32(i)] = n
	}
	for id, cls := range m.ClassMap {
		c.ClassMap[id] = newID[cls]
	}
	for b, byClass := range m.ClassBucket {
		c.ClassBucket[b] = map[int32]int32{}
		for cls, s := range byClass {
			c.ClassBucket[b][newID[cls]] = s
		}
	}
	return c
}
