package crush

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// formatsDirs lists the golden-vector folders written by
// testdata/formats/gen.sh with crushtool 16.2, plus the folders named in
// $CRUSH_FORMATS_EXTRA (a path list) for larger differential runs.
var formatsDirs = append([]string{"testdata/formats/ok", "testdata/formats/random"},
	filepath.SplitList(os.Getenv("CRUSH_FORMATS_EXTRA"))...)

// goldenMap is one text map with crushtool's outputs for it.
type goldenMap struct {
	name string // folder/base, for messages
	base string // path without extension
}

func (g goldenMap) read(t testing.TB, ext string) []byte {
	t.Helper()
	data, err := os.ReadFile(g.base + ext)
	if err != nil {
		t.Fatalf("%s: %v (regenerate with crush/testdata/formats/gen.sh)", g.name, err)
	}
	return data
}

// goldenMaps returns every golden map; it fails if there are none, so a
// broken path cannot make the tests pass vacuously.
func goldenMaps(t testing.TB) []goldenMap {
	t.Helper()
	var out []goldenMap
	for _, dir := range formatsDirs {
		bins, _ := filepath.Glob(filepath.Join(dir, "*.bin"))
		for _, bin := range bins {
			base := strings.TrimSuffix(bin, ".bin")
			out = append(out, goldenMap{name: filepath.Base(dir) + "/" + filepath.Base(base), base: base})
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %d golden maps under %v", len(out), formatsDirs)
	}
	return out
}

func TestDecodeSpecVector(t *testing.T) {
	data, err := os.ReadFile("testdata/formats/ok/spec59.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 442 {
		t.Fatalf("spec 5.9 vector is %d bytes, want 442", len(data))
	}
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.MaxDevices != 2 || len(m.Buckets) != 8 || len(m.Rules) != 1 {
		t.Fatalf("counts: max_devices %d, max_buckets %d, max_rules %d; want 2, 8, 1",
			m.MaxDevices, len(m.Buckets), len(m.Rules))
	}
	h := m.Bucket(-1)
	if h == nil || h.Alg != AlgStraw2 || h.Weight != 0x18000 || !reflect.DeepEqual(h.Items, []int32{0, 1}) ||
		!reflect.DeepEqual(h.ItemWeights, []uint32{0x10000, 0x8000}) || h.Type != 1 {
		t.Fatalf("bucket -1 = %+v", h)
	}
	if got := m.Rules[0].Steps[0]; got != (Step{OpTake, -2, 0}) {
		t.Fatalf("rule 0 step 0 = %+v, want take -2", got)
	}
	if m.Names[-2] != "h~ssd" || m.ClassNames[1] != "hdd" || m.ClassBucket[-1][1] != -3 || m.ClassMap[-3] != 1 {
		t.Fatalf("names/classes: %v %v %v %v", m.Names, m.ClassNames, m.ClassBucket, m.ClassMap)
	}
	want := ChooseArg{WeightSet: [][]uint32{{0x20000, 0x10000}}, IDs: []int32{10, 11}}
	if set := m.ChooseArgs[3]; len(set) != 8 || !reflect.DeepEqual(set[0], want) {
		t.Fatalf("choose_args[3] = %+v", set)
	}
	wantTun := Tunables{0, 0, 50, 1, 1, 1, 1, 54}
	if m.Tunables != wantTun {
		t.Fatalf("tunables %+v, want %+v", m.Tunables, wantTun)
	}
	if enc := m.Encode(); !bytes.Equal(enc, data) {
		t.Fatalf("re-encoding differs at byte %d", firstDiff(enc, data))
	}
}

// TestDecodeEncodeGolden decodes every crushtool binary and checks that the
// encoder writes it back byte for byte (or, when the decoder's choose_args
// clean-up legitimately changed the map, that the result is stable).
func TestDecodeEncodeGolden(t *testing.T) {
	for _, g := range goldenMaps(t) {
		data := g.read(t, ".bin")
		m, err := Decode(data)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		enc := m.Encode()
		if bytes.Equal(enc, data) {
			continue
		}
		if !hasNonStraw2ChooseArgs(t, data) {
			t.Errorf("%s: re-encoding differs at byte %d of %d", g.name, firstDiff(enc, data), len(data))
			continue
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Errorf("%s: re-decode: %v", g.name, err)
		} else if d := diffMaps(m, m2); d != "" {
			t.Errorf("%s: decode(encode(decode)) differs: %s", g.name, d)
		}
	}
}

// hasNonStraw2ChooseArgs reports whether the text map of a golden binary
// gives choose_args entries that the decoder is required to drop: the
// decompiled text then lacks some entries of the source.
func hasNonStraw2ChooseArgs(t *testing.T, data []byte) bool {
	t.Helper()
	d := &decoder{data: data, slot: -1}
	m, err := d.decodeMap()
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range m.ChooseArgs {
		for slot := range set {
			if !set[slot].Empty() && (m.Buckets[slot] == nil || m.Buckets[slot].Alg != AlgStraw2) {
				return true
			}
		}
	}
	return false
}

// TestDecodeTruncated cuts golden binaries at every length: each prefix
// must fail with ErrTruncated/ErrBadMagic, except the eight that end exactly
// before an optional trailing group (spec 5.10 step 4), which decode with
// the missing groups at their legacy values.
func TestDecodeTruncated(t *testing.T) {
	for _, g := range goldenMaps(t)[:5] {
		data := g.read(t, ".bin")
		full, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		var ok []*Map
		for n := 0; n < len(data); n++ {
			m, err := Decode(data[:n])
			if err != nil {
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBadMagic) {
					t.Fatalf("%s cut at %d: unexpected error %v", g.name, n, err)
				}
				continue
			}
			if !reflect.DeepEqual(m.Buckets, full.Buckets) || !reflect.DeepEqual(m.Rules, full.Rules) {
				t.Fatalf("%s cut at %d decoded with different buckets or rules", g.name, n)
			}
			ok = append(ok, m)
		}
		if len(ok) != 8 {
			t.Fatalf("%s: %d prefixes decoded, want 8 (one per optional group)", g.name, len(ok))
		}
		if ok[0].Tunables != LegacyTunables() || ok[7].Tunables != full.Tunables {
			t.Fatalf("%s: tunables of shortest/longest prefix %+v / %+v", g.name, ok[0].Tunables, ok[7].Tunables)
		}
		if d := diffMaps(ok[7], full); len(full.ChooseArgs) == 0 && d != "" {
			t.Fatalf("%s: prefix without choose_args differs: %s", g.name, d)
		}
	}
}

func TestDecodeOldWriterLayouts(t *testing.T) {
	data, err := os.ReadFile("testdata/formats/ok/spec59.bin")
	if err != nil {
		t.Fatal(err)
	}
	// The rule_name_map ends at 0x119; tunables start there (spec 5.9).
	const tunablesAt = 0x119
	cases := []struct {
		cut  int
		want Tunables
	}{
		{tunablesAt, LegacyTunables()},
		{tunablesAt + 12, Tunables{0, 0, 50, 0, 0, 0, 0, 22}},
		{tunablesAt + 16, Tunables{0, 0, 50, 1, 0, 0, 0, 22}},
		{tunablesAt + 17, Tunables{0, 0, 50, 1, 1, 0, 0, 22}},
		{tunablesAt + 18, Tunables{0, 0, 50, 1, 1, 0, 1, 22}},
		{tunablesAt + 22, Tunables{0, 0, 50, 1, 1, 0, 1, 54}},
		{tunablesAt + 23, Tunables{0, 0, 50, 1, 1, 1, 1, 54}},
	}
	for _, c := range cases {
		m, err := Decode(data[:c.cut])
		if err != nil {
			t.Fatalf("cut %#x: %v", c.cut, err)
		}
		if m.Tunables != c.want {
			t.Errorf("cut %#x: tunables %+v, want %+v", c.cut, m.Tunables, c.want)
		}
		if len(m.ClassMap) != 0 || len(m.ChooseArgs) != 0 {
			t.Errorf("cut %#x: classes or choose_args decoded from nothing", c.cut)
		}
	}
	for _, cut := range []int{tunablesAt + 5, tunablesAt + 13, tunablesAt + 20} {
		if _, err := Decode(data[:cut]); !errors.Is(err, ErrTruncated) {
			t.Errorf("cut %#x inside a group: err %v, want ErrTruncated", cut, err)
		}
	}
}

// TestDecodeHostile forges counts and fields; every case must fail cleanly
// with the right sentinel and a message naming the problem.
func TestDecodeHostile(t *testing.T) {
	base, err := os.ReadFile("testdata/formats/ok/spec59.bin")
	if err != nil {
		t.Fatal(err)
	}
	put := func(off int, v uint32) []byte {
		b := bytes.Clone(base)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	cases := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrBadMagic, "magic"},
		{"text", []byte("device 0 osd.0\n"), ErrBadMagic, "magic"},
		{"huge max_buckets", put(4, 0x7fffffff), ErrTruncated, "max_buckets"},
		{"negative max_buckets", put(4, 0xfffffff0), ErrCorrupt, "negative"},
		{"huge max_rules", put(8, 0xffffffff), ErrTruncated, "max_rules"},
		{"bad alg tag", put(0x10, 9), ErrCorrupt, "unsupported bucket algorithm 9"},
		{"id not matching slot", put(0x14, 0xfffffff0), ErrCorrupt, "slot 0 has id -16"},
		{"huge bucket size", put(0x20, 0x40000000), ErrTruncated, "bucket slot 0"},
		{"dangling item", put(0x28, 0xffffff00), ErrCorrupt, "not a bucket"},
		{"self item", put(0x28, 0xffffffff), ErrCorrupt, "contains itself"},
		{"huge step count", put(0x84, 0x10000000), ErrTruncated, "rule slot 0"},
		{"huge name count", put(0xcb, 0x10000000), ErrTruncated, "item names"},
		{"device id none", put(0x28, 0x7fffffff), ErrCorrupt, "CRUSH_ITEM_NONE"},
		{"choose_args slot", put(0x19a, 9), ErrCorrupt, "slot 9"},
		{"choose_args positions", put(0x19e, 0x7fffffff), ErrTruncated, "choose_args"},
	}
	for _, c := range cases {
		_, err := Decode(c.data)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v; want %v mentioning %q", c.name, err, c.want, c.msg)
		}
	}
}

func TestDecodeTreeNodeCount(t *testing.T) {
	for size, want := range map[int]int{0: 0, 1: 2, 2: 4, 3: 8, 4: 8, 5: 16, 8: 16, 9: 32, 33: 128, 64: 128, 65: -1} {
		if got := treeNodeCount(size); got != want {
			t.Errorf("treeNodeCount(%d) = %d, want %d", size, got, want)
		}
	}
}

// TestDecodeCleansChooseArgs checks spec 5.10 step 6 on a hand-made map:
// entries of non-straw2 buckets vanish and short rows are padded.
func TestDecodeCleansChooseArgs(t *testing.T) {
	m := NewMap()
	m.Buckets = []*Bucket{
		{ID: -1, Type: 1, Alg: AlgStraw2, Weight: 3 << 16, Items: []int32{0, 1}, ItemWeights: []uint32{1 << 16, 2 << 16}},
		{ID: -2, Type: 1, Alg: AlgStraw, Weight: 1 << 16, Items: []int32{2}, ItemWeights: []uint32{1 << 16}, Straws: []uint32{1 << 16}},
		nil,
	}
	m.ChooseArgs[-1] = ChooseArgSet{
		{WeightSet: [][]uint32{{5}}},
		{WeightSet: [][]uint32{{7}}, IDs: []int32{9}},
		{},
	}
	got, err := Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	want := ChooseArgSet{{WeightSet: [][]uint32{{5, 0}}}, {}, {}}
	if !reflect.DeepEqual(got.ChooseArgs[-1], want) {
		t.Fatalf("cleaned choose_args = %+v, want %+v", got.ChooseArgs[-1], want)
	}
	if got.MaxDevices != 3 {
		t.Fatalf("max_devices = %d, want 3 (recomputed from items)", got.MaxDevices)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// diffMaps returns "" when a and b are the same map (treating nil and empty
// slices and maps alike), else a description of the first difference.
func diffMaps(a, b *Map) string {
	if a.Tunables != b.Tunables {
		return fmt.Sprintf("tunables %+v vs %+v", a.Tunables, b.Tunables)
	}
	if a.MaxDevices != b.MaxDevices {
		return fmt.Sprintf("max_devices %d vs %d", a.MaxDevices, b.MaxDevices)
	}
	if len(a.Buckets) != len(b.Buckets) || len(a.Rules) != len(b.Rules) {
		return fmt.Sprintf("max_buckets/max_rules %d/%d vs %d/%d", len(a.Buckets), len(a.Rules), len(b.Buckets), len(b.Rules))
	}
	for i := range a.Buckets {
		if !reflect.DeepEqual(normBucket(a.Buckets[i]), normBucket(b.Buckets[i])) {
			return fmt.Sprintf("bucket slot %d: %+v vs %+v", i, a.Buckets[i], b.Buckets[i])
		}
	}
	for i := range a.Rules {
		if !reflect.DeepEqual(normRule(a.Rules[i]), normRule(b.Rules[i])) {
			return fmt.Sprintf("rule %d: %+v vs %+v", i, a.Rules[i], b.Rules[i])
		}
	}
	for _, p := range []struct {
		what string
		x, y any
	}{
		{"type names", a.TypeNames, b.TypeNames}, {"names", a.Names, b.Names},
		{"rule names", a.RuleNames, b.RuleNames}, {"class map", a.ClassMap, b.ClassMap},
		{"class names", a.ClassNames, b.ClassNames}, {"class buckets", normClassBucket(a), normClassBucket(b)},
		{"choose_args", normChooseArgs(a), normChooseArgs(b)},
	} {
		if fmt.Sprint(p.x) != fmt.Sprint(p.y) {
			return fmt.Sprintf("%s: %v vs %v", p.what, p.x, p.y)
		}
	}
	return ""
}

func normBucket(b *Bucket) any {
	if b == nil {
		return nil
	}
	c := *b
	for _, s := range []*[]uint32{&c.ItemWeights, &c.SumWeights, &c.NodeWeights, &c.Straws} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	if len(c.Items) == 0 {
		c.Items = nil
	}
	return c
}

func normRule(r *Rule) any {
	if r == nil {
		return nil
	}
	c := *r
	if len(c.Steps) == 0 {
		c.Steps = nil
	}
	return c
}

func normClassBucket(m *Map) string {
	var parts []string
	for _, k := range sortedKeys(m.ClassBucket) {
		parts = append(parts, fmt.Sprintf("%d:%v", k, m.ClassBucket[k]))
	}
	return strings.Join(parts, " ")
}

// normChooseArgs prints the non-empty entries of every set: the sets' own
// lengths follow max_buckets, which is compared separately.
func normChooseArgs(m *Map) string {
	ids := make([]int64, 0, len(m.ChooseArgs))
	for id := range m.ChooseArgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var sb strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&sb, "set %d:", id)
		for slot, a := range m.ChooseArgs[id] {
			if !a.Empty() {
				fmt.Fprintf(&sb, " [%d %v %v]", slot, a.WeightSet, a.IDs)
			}
		}
		sb.WriteString("; ")
	}
	return sb.String()
}

// BenchmarkDecode decodes the binary of the deploy example (240 devices).
func BenchmarkDecode(b *testing.B) {
	src, err := os.ReadFile("../deploy/examples/crushmap.txt")
	if err != nil {
		b.Fatal(err)
	}
	m, err := Compile(src)
	if err != nil {
		b.Fatal(err)
	}
	data := m.Encode()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes the deploy example (240 devices).
func BenchmarkEncode(b *testing.B) {
	src, err := os.ReadFile("../deploy/examples/crushmap.txt")
	if err != nil {
		b.Fatal(err)
	}
	m, err := Compile(src)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m.Encode()
	}
}
