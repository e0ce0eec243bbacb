package cluster

import (
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/gorados/gorados/crush"
)

// testCrush builds hosts hosts of perHost OSDs (straw2, weight 1 each) under
// one root, jewel tunables, rule 0 = replicated chooseleaf firstn host, rule
// 1 = erasure chooseleaf indep host.
func testCrush(t testing.TB, hosts, perHost int) *crush.Map {
	t.Helper()
	m := crush.NewMap()
	m.Tunables = crush.Tunables{ChooseTotalTries: 50, ChooseLeafDescendOnce: 1, ChooseLeafVaryR: 1,
		ChooseLeafStable: 1, StrawCalcVersion: 1, AllowedBucketAlgs: 54}
	m.TypeNames = map[int32]string{0: "osd", 1: "host", 2: "root"}
	m.Buckets = make([]*crush.Bucket, hosts+1)
	var hostIDs []int32
	var hostWeights []uint32
	for h := range hosts {
		var items []int32
		var weights []uint32
		for i := range perHost {
			osd := int32(h*perHost + i)
			items = append(items, osd)
			weights = append(weights, crush.WeightOne)
			m.Names[osd] = "osd." + itoa(int(osd))
		}
		id := int32(-2 - h)
		b, err := crush.NewBucket(id, 1, crush.AlgStraw2, 0, items, weights, 1)
		if err != nil {
			t.Fatal(err)
		}
		m.Buckets[-1-id] = b
		m.Names[id] = "host" + itoa(h)
		hostIDs = append(hostIDs, id)
		hostWeights = append(hostWeights, b.Weight)
	}
	root, err := crush.NewBucket(-1, 2, crush.AlgStraw2, 0, hostIDs, hostWeights, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.Buckets[0] = root
	m.Names[-1] = "default"
	m.MaxDevices = int32(hosts * perHost)
	rule := func(typ uint8, op crush.Op) *crush.Rule {
		return &crush.Rule{Type: typ, MinSize: 1, MaxSize: 10, Steps: []crush.Step{
			{Op: crush.OpTake, Arg1: -1}, {Op: op, Arg1: 0, Arg2: 1}, {Op: crush.OpEmit}}}
	}
	m.Rules = []*crush.Rule{rule(crush.RuleTypeReplicated, crush.OpChooseLeafFirstN), rule(crush.RuleTypeErasure, crush.OpChooseLeafIndep)}
	m.RuleNames = map[int32]string{0: "replicated_rule", 1: "ec_rule"}
	return m
}

func itoa(i int) string { return strconv.Itoa(i) }

// testMap is a map of 6 hosts x 2 OSDs, all up and in, with replicated pool
// 1 (size 3, 64 PGs) and erasure pool 2 (size 4, 32 PGs).
func testMap(t testing.TB) *OSDMap {
	t.Helper()
	m, err := NewOfflineMap(OfflineConfig{Crush: testCrush(t, 6, 2), PoolID: 1, PGNum: 64, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	ec := NewReplicatedPool(2, "ec", 4, 1, 32)
	ec.Type = PoolErasure
	m.Pools[2] = ec
	m.PoolMax = 2
	return m
}

// fresh returns a clone of m, so tests can mutate a map after placement ran.
func fresh(m *OSDMap) *OSDMap { return m.Clone() }

func TestReplicatedDownOSDShifts(t *testing.T) {
	base := testMap(t)
	pg := PGID{1, 5}
	up, upPrim, acting, actPrim := base.PGToUpActing(pg)
	if len(up) != 3 || upPrim != up[0] || !slices.Equal(up, acting) || actPrim != upPrim {
		t.Fatalf("healthy mapping: up %v p%d acting %v p%d", up, upPrim, acting, actPrim)
	}
	m := fresh(base)
	m.OSDs[up[0]].Up = false
	up2, upPrim2, acting2, actPrim2 := m.PGToUpActing(pg)
	// The raw CRUSH result does not change (the OSD is still in), so the down
	// primary is simply removed and the others shift left.
	if !slices.Equal(up2, up[1:]) || upPrim2 != up[1] || !slices.Equal(acting2, up2) || actPrim2 != up[1] {
		t.Fatalf("after marking %d down: up %v p%d acting %v p%d; want %v p%d", up[0], up2, upPrim2, acting2, actPrim2, up[1:], up[1])
	}
	raw, rawPrim := m.PGToRaw(pg)
	if !slices.Equal(raw, up) || rawPrim != up[0] {
		t.Fatalf("raw %v p%d, want %v", raw, rawPrim, up)
	}
}

func TestErasureDownOSDLeavesHole(t *testing.T) {
	base := testMap(t)
	pg := PGID{2, 3}
	up, _, _, _ := base.PGToUpActing(pg)
	if len(up) != 4 {
		t.Fatalf("ec up %v", up)
	}
	m := fresh(base)
	m.OSDs[up[0]].Up = false
	m.OSDs[up[2]].Exists = false
	up2, prim, acting, actPrim := m.PGToUpActing(pg)
	want := []int32{crush.ItemNone, up[1], crush.ItemNone, up[3]}
	if !slices.Equal(up2, want) || prim != up[1] || !slices.Equal(acting, want) || actPrim != up[1] {
		t.Fatalf("up %v p%d acting %v p%d, want %v p%d", up2, prim, acting, actPrim, want, up[1])
	}
	raw, _ := m.PGToRaw(pg)
	if raw[2] != crush.ItemNone || raw[0] != up[0] {
		t.Fatalf("raw %v: a nonexistent OSD must become a hole, a down one stays", raw)
	}
}

func TestPGTempAndPrimaryTemp(t *testing.T) {
	base := testMap(t)
	pg := PGID{1, 9}
	up, upPrim, _, _ := base.PGToUpActing(pg)
	other := firstNotIn(base, up)
	m := fresh(base)
	m.PGTemp[pg] = []int32{up[2], other, up[0]}
	m.OSDs[other].Up = false
	gotUp, gotUpPrim, acting, actPrim := m.PGToUpActing(pg)
	if !slices.Equal(gotUp, up) || gotUpPrim != upPrim {
		t.Fatalf("pg_temp changed up: %v p%d", gotUp, gotUpPrim)
	}
	if want := []int32{up[2], up[0]}; !slices.Equal(acting, want) || actPrim != up[2] {
		t.Fatalf("acting %v p%d, want %v p%d (down temp member filtered)", acting, actPrim, want, up[2])
	}
	m2 := fresh(m)
	m2.PrimaryTemp[pg] = up[0]
	if _, _, _, p := m2.PGToUpActing(pg); p != up[0] {
		t.Fatalf("primary_temp ignored: p%d", p)
	}
	// primary_temp without pg_temp: acting is up, primary is the temp one.
	m3 := fresh(base)
	m3.PrimaryTemp[pg] = up[1]
	if _, _, acting, p := m3.PGToUpActing(pg); !slices.Equal(acting, up) || p != up[1] {
		t.Fatalf("acting %v p%d", acting, p)
	}
	// A pg_temp whose members are all down falls back to up.
	m4 := fresh(base)
	m4.PGTemp[pg] = []int32{other}
	m4.OSDs[other].Up = false
	if _, _, acting, p := m4.PGToUpActing(pg); !slices.Equal(acting, up) || p != upPrim {
		t.Fatalf("empty filtered pg_temp: acting %v p%d", acting, p)
	}
}

func firstNotIn(m *OSDMap, osds []int32) int32 {
	for i := range m.MaxOSD() {
		if !slices.Contains(osds, i) {
			return i
		}
	}
	panic("no free OSD")
}

func TestPrimaryAffinity(t *testing.T) {
	base := testMap(t)
	pg := PGID{1, 17}
	up, _, _, _ := base.PGToUpActing(pg)
	m := fresh(base)
	m.OSDs[up[0]].PrimaryAffinity = 0 // never primary while another will do
	up2, prim, acting, actPrim := m.PGToUpActing(pg)
	want := []int32{up[1], up[0], up[2]}
	if !slices.Equal(up2, want) || prim != up[1] || !slices.Equal(acting, want) || actPrim != up[1] {
		t.Fatalf("affinity 0 on primary: up %v p%d acting %v p%d, want %v p%d", up2, prim, acting, actPrim, want, up[1])
	}
	// Everyone declines: the first one is kept as the fallback.
	for _, o := range up {
		m.OSDs[o].PrimaryAffinity = 0
	}
	m = fresh(m)
	if up3, prim, _, _ := m.PGToUpActing(pg); !slices.Equal(up3, up) || prim != up[0] {
		t.Fatalf("all declined: up %v p%d", up3, prim)
	}
	// Erasure pools choose the primary but never reorder shards.
	ec := fresh(base)
	ecUp, _, _, _ := ec.PGToUpActing(PGID{2, 1})
	ec.OSDs[ecUp[0]].PrimaryAffinity = 0
	ec = fresh(ec)
	if up4, prim, _, _ := ec.PGToUpActing(PGID{2, 1}); !slices.Equal(up4, ecUp) || prim != ecUp[1] {
		t.Fatalf("ec affinity: up %v p%d, want %v p%d", up4, prim, ecUp, ecUp[1])
	}
}

// Fractional affinity rejects about the share 1-a of PGs as primary.
func TestPrimaryAffinityFraction(t *testing.T) {
	m := testMap(t)
	m.Pools[1].PGNum, m.Pools[1].PGPNum = 4096, 4096
	for i := range m.OSDs {
		m.OSDs[i].PrimaryAffinity = 0x4000 // 0.25
	}
	m.OSDs[0].PrimaryAffinity = AffinityDefault
	m = fresh(m)
	var asMember, asPrimary int
	for s := range uint32(4096) {
		up, prim, _, _ := m.PGToUpActing(PGID{1, s})
		if slices.Contains(up, 0) {
			asMember++
			if prim == 0 {
				asPrimary++
			}
		}
	}
	// osd.0 is primary whenever the OSDs before it decline: well above 1/3.
	if asMember == 0 || float64(asPrimary)/float64(asMember) < 0.5 {
		t.Fatalf("osd.0 primary in %d of %d PGs", asPrimary, asMember)
	}
}

func TestUpmap(t *testing.T) {
	base := testMap(t)
	pg := PGID{1, 21}
	up, _, _, _ := base.PGToUpActing(pg)
	spare := firstNotIn(base, up)

	m := fresh(base)
	m.PGUpmap[pg] = []int32{spare, up[1]}
	if got, _, _, _ := m.PGToUpActing(pg); !slices.Equal(got, []int32{spare, up[1]}) {
		t.Fatalf("pg_upmap: up %v", got)
	}
	m.OSDs[spare].Weight = WeightOut // an out target voids the exception
	m = fresh(m)
	if got, _, _, _ := m.PGToUpActing(pg); !slices.Equal(got, up) {
		t.Fatalf("pg_upmap to an out OSD applied: up %v, want %v", got, up)
	}

	m = fresh(base)
	m.PGUpmapItems[pg] = []UpmapItem{{From: up[1], To: spare}, {From: up[2], To: up[0]}}
	want := []int32{up[0], spare, up[2]} // second swap skipped: target already present
	if got, _, _, _ := m.PGToUpActing(pg); !slices.Equal(got, want) {
		t.Fatalf("pg_upmap_items: up %v, want %v", got, want)
	}
	m.OSDs[spare].Weight = WeightOut
	m = fresh(m)
	if got, _, _, _ := m.PGToUpActing(pg); !slices.Equal(got, up) {
		t.Fatalf("upmap item to out OSD applied: up %v", got)
	}
}

func TestUnknownPoolAndFolding(t *testing.T) {
	m := testMap(t)
	up, p, acting, ap := m.PGToUpActing(PGID{9, 1})
	if len(up) != 0 || len(acting) != 0 || p != NoOSD || ap != NoOSD {
		t.Fatalf("unknown pool: %v %d %v %d", up, p, acting, ap)
	}
	// A raw seed maps like its folded PG.
	a, _, _, _ := m.PGToUpActing(PGID{1, 0x651f88da})
	b, _, _, _ := m.PGToUpActing(PGID{1, 0x1a})
	if !slices.Equal(a, b) {
		t.Fatalf("raw %v vs folded %v", a, b)
	}
	pg, err := m.ObjectToPG(1, "issue", "", "")
	if err != nil || pg != (PGID{1, 0x1a}) {
		t.Fatalf("ObjectToPG(issue) = %v, %v", pg, err)
	}
	if _, err := m.ObjectToPG(7, "x", "", ""); err == nil {
		t.Fatal("unknown pool accepted")
	}
}

func TestObjectLocator(t *testing.T) {
	m := testMap(t)
	p := m.Pools[1]
	ns, _ := m.ObjectToRawPG(ObjectLocator{Pool: 1, Namespace: "ns", Hash: -1}, "key")
	if ns.Seed != StrHashRjenkins([]byte("ns\x1fkey")) {
		t.Fatalf("namespace hash %#x", ns.Seed)
	}
	keyed, _ := m.ObjectToRawPG(ObjectLocator{Pool: 1, Key: "issue", Hash: -1}, "other")
	if keyed.Seed != 0x651f88da {
		t.Fatalf("locator key not used: %#x", keyed.Seed)
	}
	explicit, _ := m.ObjectToRawPG(ObjectLocator{Pool: 1, Hash: 0x1234}, "other")
	if explicit.Seed != 0x1234 {
		t.Fatalf("explicit hash not used: %#x", explicit.Seed)
	}
	if p.HashKey("key", "ns") != ns.Seed {
		t.Fatal("HashKey disagrees with ObjectToRawPG")
	}
}

func TestPlacementSeed(t *testing.T) {
	p := NewReplicatedPool(3, "p", 3, 0, 12)
	p.PGPNum = 6
	// pgp_num 6 has mask 7: seed 7 folds to 3, seed 5 stays 5.
	if got, want := p.PlacementSeed(7), crush.Hash2(3, 3); got != want {
		t.Fatalf("hashpspool pps = %#x, want %#x", got, want)
	}
	p.Flags = 0
	if got := p.PlacementSeed(5); got != 5+3 {
		t.Fatalf("legacy pps = %d, want 8", got)
	}
}

func TestMapPGDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	m := testMap(t)
	m.PGTemp[PGID{1, 3}] = []int32{1, 2}
	var mp Mapping
	m.MapPG(PGID{1, 3}, &mp) // warm the workspace pool and the slices
	allocs := testing.AllocsPerRun(200, func() {
		for s := range uint32(64) {
			m.MapPG(PGID{1, s}, &mp)
		}
	})
	if allocs != 0 {
		t.Fatalf("MapPG allocates %.1f times per 64 PGs", allocs)
	}
}

// Concurrent mappings on one published map agree with a serial run (and the
// race detector checks the workspace pool).
func TestMapPGConcurrent(t *testing.T) {
	m := testMap(t)
	want := make([][]int32, 64)
	for s := range want {
		want[s], _, _, _ = m.PGToUpActing(PGID{1, uint32(s)})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			var mp Mapping
			for s := range want {
				m.MapPG(PGID{1, uint32(s)}, &mp)
				if !slices.Equal(mp.Up, want[s]) {
					errs <- "mismatch"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
