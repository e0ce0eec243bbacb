package crush

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
)

var updateBuilderGolden = flag.Bool("update-builder", false,
	"rewrite testdata/formats/ok/builder_*.txt from the builder (then run gen.sh)")

// builderGolden checks a builder-made map against crushtool: its text is
// committed as ok/NAME.txt (written with -update-builder), gen.sh compiled
// it with crushtool, and our encoding must equal crushtool's binary byte for
// byte, our text crushtool's decompiled text, and both maps must map alike.
func builderGolden(t *testing.T, name string, m *Map) {
	t.Helper()
	base := "testdata/formats/ok/" + name
	if *updateBuilderGolden {
		if err := os.WriteFile(base+".txt", m.Decompile(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	g := goldenMap{name: name, base: base}
	if got := m.Decompile(); !bytes.Equal(got, g.read(t, ".txt")) {
		t.Fatalf("%s: text differs from the committed one (rerun with -update-builder and gen.sh if intended)", name)
	}
	if !bytes.Equal(g.read(t, ".txt"), g.read(t, ".d.txt")) {
		t.Fatalf("%s: crushtool -d does not give back our text", name)
	}
	bin := g.read(t, ".bin")
	if enc := m.Encode(); !bytes.Equal(enc, bin) {
		t.Fatalf("%s: encoding differs from crushtool -c of our text at byte %d", name, firstDiff(enc, bin))
	}
	compiled, err := Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	sameMappings(t, m, compiled)
}

// sameMappings runs every rule for 1000 inputs on both maps.
func sameMappings(t *testing.T, a, b *Map) {
	t.Helper()
	wa, wb := NewWorkspace(a), NewWorkspace(b)
	weights := make([]uint32, a.MaxDevices)
	for i := range weights {
		weights[i] = WeightOne
	}
	ra, rb := make([]int32, 3), make([]int32, 3)
	for rule := range a.Rules {
		for x := uint32(0); x < 1000; x++ {
			na := a.DoRule(wa, rule, x, ra, weights, nil)
			nb := b.DoRule(wb, rule, x, rb, weights, nil)
			if fmt.Sprint(ra[:na]) != fmt.Sprint(rb[:nb]) {
				t.Fatalf("rule %d x %d: builder map gives %v, compiled map %v", rule, x, ra[:na], rb[:nb])
			}
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewDefaultMap(t *testing.T) {
	builderGolden(t, "builder_default", NewDefaultMap())
}

// buildScenario grows a default map as a monitor would: classed devices
// linked under hosts and racks created on the way, class rules, a reweight,
// a host moved between racks, a device removed, a bucket added and linked.
func buildScenario(t *testing.T) *Map {
	m := NewDefaultMap()
	for id := int32(0); id < 16; id++ {
		class := []string{"hdd", "ssd"}[id%4/3] // ids 3, 7, 11, 15 are ssd
		mustDo(t, m.AddDevice(id, fmt.Sprintf("osd.%d", id), class))
		loc := map[string]string{"host": fmt.Sprintf("node%d", id/4), "rack": fmt.Sprintf("rack%d", id/8), "root": "default"}
		mustDo(t, m.LinkDevice(id, WeightOne*uint32(1+id%3), loc))
	}
	if _, err := m.CreateReplicatedRule("fast", "default", "host", "ssd"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateReplicatedRule("racks", "default", "rack", ""); err != nil {
		t.Fatal(err)
	}
	mustDo(t, m.ReweightItem("osd.5", WeightOne/2))
	mustDo(t, m.MoveItem("node3", map[string]string{"rack": "rack0"}))
	mustDo(t, m.RemoveItem("osd.9"))
	if _, err := m.AddBucket("spare", "host"); err != nil {
		t.Fatal(err)
	}
	mustDo(t, m.AddDevice(20, "osd.20", "ssd"))
	mustDo(t, m.LinkDevice(20, 3*WeightOne, map[string]string{"host": "spare"}))
	mustDo(t, m.MoveItem("spare", map[string]string{"rack": "rack2", "root": "default"}))
	return m
}

func TestBuilderScenario(t *testing.T) {
	m := buildScenario(t)
	builderGolden(t, "builder_scenario", m)
	// The class rule follows the class: osd.20 (ssd) joined default~ssd.
	take := m.Rules[1].Steps[0].Arg1
	if m.Names[take] != "default~ssd" {
		t.Fatalf("rule fast takes %s, want default~ssd", m.itemName(take))
	}
	if w := m.Bucket(take).Weight; w != m.Bucket(m.ClassBucket[-1][1]).Weight || w == 0 {
		t.Fatalf("default~ssd weight %d", w)
	}
}

// TestBuilderShadowIDsStable checks that shadows keep their ids while the
// hierarchy changes, so class rules keep their meaning.
func TestBuilderShadowIDsStable(t *testing.T) {
	m := NewDefaultMap()
	mustDo(t, m.AddDevice(0, "osd.0", "ssd"))
	mustDo(t, m.LinkDevice(0, WeightOne, map[string]string{"host": "a", "root": "default"}))
	rule, err := m.CreateReplicatedRule("r", "default", "host", "ssd")
	if err != nil {
		t.Fatal(err)
	}
	take := m.Rules[rule].Steps[0].Arg1
	before := m.ClassBucket[-2][0]
	for id := int32(1); id < 6; id++ {
		mustDo(t, m.AddDevice(id, fmt.Sprintf("osd.%d", id), "hdd"))
		mustDo(t, m.LinkDevice(id, WeightOne, map[string]string{"host": fmt.Sprintf("h%d", id), "root": "default"}))
	}
	if m.Rules[rule].Steps[0].Arg1 != take || m.Names[take] != "default~ssd" || m.ClassBucket[-2][0] != before {
		t.Fatalf("shadow ids moved: take %d (%s), a~ssd %d -> %d", take, m.itemName(take), before, m.ClassBucket[-2][0])
	}
	if got := m.Bucket(take).Weight; got != WeightOne {
		t.Fatalf("default~ssd weighs %d, want one device", got)
	}
}

func TestLinkDeviceKeepsWeightAndMoves(t *testing.T) {
	m := NewDefaultMap()
	mustDo(t, m.LinkDevice(3, 2*WeightOne, map[string]string{"host": "a", "root": "default"}))
	if m.Names[3] != "osd.3" {
		t.Fatalf("unnamed device got name %q, want osd.3", m.Names[3])
	}
	mustDo(t, m.LinkDevice(3, 9*WeightOne, map[string]string{"host": "a", "root": "default"}))
	a, _ := m.ItemID("a")
	if w := m.Bucket(a).Weight; w != 2*WeightOne {
		t.Fatalf("relinking in place changed the weight to %d", w)
	}
	mustDo(t, m.LinkDevice(3, 9*WeightOne, map[string]string{"host": "b", "root": "default"}))
	b, _ := m.ItemID("b")
	if m.Bucket(a).Weight != 0 || m.Bucket(b).Weight != 2*WeightOne || m.Bucket(-1).Weight != 2*WeightOne {
		t.Fatalf("after the move: a %d, b %d, root %d", m.Bucket(a).Weight, m.Bucket(b).Weight, m.Bucket(-1).Weight)
	}
}

// TestBuilderErrors checks that bad requests fail with the right sentinel
// and leave the map exactly as it was.
func TestBuilderErrors(t *testing.T) {
	m := buildScenario(t)
	before := m.Encode()
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate bucket", second(m.AddBucket("node0", "host")), ErrExists},
		{"bucket named like a device", second(m.AddBucket("osd.1", "rack")), ErrExists},
		{"bad bucket name", second(m.AddBucket("a~b", "host")), ErrInvalid},
		{"unknown type", second(m.AddBucket("x", "cabinet")), ErrNotFound},
		{"device type bucket", second(m.AddBucket("x", "osd")), ErrInvalid},
		{"duplicate device id", m.AddDevice(1, "osd.99", ""), ErrExists},
		{"duplicate device name", m.AddDevice(99, "osd.1", ""), ErrExists},
		{"negative device id", m.AddDevice(-4, "x", ""), ErrInvalid},
		{"bad class", m.AddDevice(99, "osd.99", "a b"), ErrInvalid},
		{"empty location", m.LinkDevice(99, WeightOne, nil), ErrInvalid},
		{"location of wrong type", m.LinkDevice(99, WeightOne, map[string]string{"rack": "node0"}), ErrInvalid},
		{"location type unknown", m.LinkDevice(99, WeightOne, map[string]string{"shelf": "x"}), ErrNotFound},
		{"move unknown", m.MoveItem("nope", map[string]string{"root": "default"}), ErrNotFound},
		{"move under itself", m.MoveItem("rack0", map[string]string{"root": "rack0"}), ErrInvalid},
		{"move under a descendant", m.MoveItem("default", map[string]string{"rack": "rack1"}), ErrInvalid},
		{"move below its type", m.MoveItem("rack0", map[string]string{"host": "node1"}), ErrInvalid},
		{"move a shadow", m.MoveItem("node0~ssd", map[string]string{"rack": "rack1"}), ErrInvalid},
		{"move unlinked device", m.MoveItem("osd.9", map[string]string{"host": "node1"}), ErrNotFound},
		{"remove non-empty", m.RemoveItem("rack1"), ErrInvalid},
		{"remove taken root", m.RemoveItem("default"), ErrInvalid},
		{"reweight bucket", m.ReweightItem("node1", WeightOne), ErrInvalid},
		{"reweight unknown", m.ReweightItem("osd.77", WeightOne), ErrNotFound},
		{"rule exists", second(m.CreateReplicatedRule("fast", "default", "host", "")), ErrExists},
		{"rule unknown class", second(m.CreateReplicatedRule("x", "default", "host", "nvme")), ErrNotFound},
		{"rule unknown root", second(m.CreateReplicatedRule("x", "nowhere", "host", "")), ErrNotFound},
		{"rule device root", second(m.CreateReplicatedRule("x", "osd.1", "host", "")), ErrInvalid},
		{"rule unknown type", second(m.CreateReplicatedRule("x", "default", "shelf", "")), ErrNotFound},
		{"remove unknown rule", m.RemoveRule("nope"), ErrNotFound},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
		}
	}
	if !bytes.Equal(m.Encode(), before) {
		t.Fatal("a failed request changed the map")
	}
}

func second[T any](_ T, err error) error { return err }

func TestRemoveRuleAndItems(t *testing.T) {
	m := buildScenario(t)
	mustDo(t, m.RemoveRule("fast"))
	if m.Rules[1] != nil || m.RuleNames[1] != "" {
		t.Fatal("rule 1 still there")
	}
	id, err := m.CreateReplicatedRule("again", "rack1", "osd", "")
	if err != nil || id != 1 {
		t.Fatalf("new rule got id %d (%v), want the freed id 1", id, err)
	}
	if m.Rules[1].Steps[1].Op != OpChooseFirstN {
		t.Fatal("a device failure domain must use choose, not chooseleaf")
	}
	for _, d := range []string{"osd.20"} {
		mustDo(t, m.RemoveItem(d))
	}
	mustDo(t, m.RemoveItem("spare"))
	if _, ok := m.ItemID("spare~ssd"); ok {
		t.Fatal("the shadow of a removed bucket survived")
	}
	if m.MaxDevices != 16 {
		t.Fatalf("max_devices %d after removing osd.20, want 16", m.MaxDevices)
	}
}
