package cluster

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gorados/gorados/crush"
)

var seedFlag = flag.Uint64("seed", 1, "seed of the randomized map tests (printed on failure)")

// randomMap builds a valid map with random pools, OSD records and
// exception tables over a 6x2 CRUSH map.
func randomMap(t testing.TB, r *rand.Rand, cm *crush.Map) *OSDMap {
	var fsid UUID
	for i := range fsid {
		fsid[i] = byte(r.Uint32())
	}
	m := New(fsid, time.Unix(1700000000+r.Int64N(1e6), r.Int64N(1e9)).UTC())
	m.Epoch = Epoch(1 + r.IntN(1000))
	m.Modified = m.Created.Add(time.Duration(r.Int64N(1e12)))
	m.Flags = Flags(r.Uint32()) & FlagsKnown
	m.SetCrush(cm)
	m.SetMaxOSD(int32(cm.MaxDevices) + int32(r.IntN(4)))
	for id := range m.OSDs {
		m.OSDs[id] = randomOSD(r)
	}
	for range 1 + r.IntN(4) {
		addRandomPool(r, m)
	}
	for range r.IntN(12) {
		addRandomException(r, m)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("randomMap built an invalid map: %v", err)
	}
	return m
}

func randomOSD(r *rand.Rand) OSD {
	if r.IntN(6) == 0 {
		return OSD{} // never created
	}
	o := OSD{Exists: true, Up: r.IntN(3) > 0, Weight: []uint32{0, WeightIn, WeightIn, uint32(r.IntN(0x10000))}[r.IntN(4)],
		PrimaryAffinity: []uint32{AffinityDefault, AffinityDefault, uint32(r.IntN(0x10001))}[r.IntN(3)],
		Host:            fmt.Sprintf("host%d", r.IntN(8)), DeviceClass: []string{"hdd", "ssd", ""}[r.IntN(3)],
		PublicAddr: fmt.Sprintf("10.0.0.%d:6800", r.IntN(255)), ClusterAddr: fmt.Sprintf("10.1.0.%d:6801", r.IntN(255)),
		HeartbeatFront: "10.0.0.1:6802", HeartbeatBack: "10.1.0.1:6803",
		UpFrom: Epoch(r.IntN(100)), UpThru: Epoch(r.IntN(100)), DownAt: Epoch(r.IntN(100)),
		LastCleanBegin: Epoch(r.IntN(50)), LastCleanEnd: Epoch(50 + r.IntN(50)), AutoOut: r.IntN(4) == 0}
	o.UUID[0], o.UUID[15] = byte(r.Uint32()), byte(r.Uint32())
	return o
}

func addRandomPool(r *rand.Rand, m *OSDMap) {
	m.PoolMax++
	size := int32(1 + r.IntN(4))
	p := NewReplicatedPool(m.PoolMax, fmt.Sprintf("pool-%d", m.PoolMax), size, int32(r.IntN(2)), uint32(1+r.IntN(300)))
	p.PGPNum = 1 + uint32(r.IntN(int(p.PGNum)))
	if r.IntN(3) == 0 {
		p.Type = PoolErasure
	}
	if r.IntN(4) == 0 {
		p.ObjectHash, p.Flags = HashLinux, 0
	}
	m.Pools[p.ID] = p
}

// randomPG picks a PG of an existing pool.
func randomPG(r *rand.Rand, m *OSDMap) (PGID, bool) {
	for id, p := range m.Pools {
		return PGID{Pool: id, Seed: uint32(r.IntN(int(p.PGNum)))}, true
	}
	return PGID{}, false
}

func randomOSDs(r *rand.Rand, m *OSDMap) []int32 {
	out := make([]int32, 1+r.IntN(3))
	for i := range out {
		out[i] = int32(r.IntN(int(m.MaxOSD())))
	}
	return out
}

func addRandomException(r *rand.Rand, m *OSDMap) {
	pg, ok := randomPG(r, m)
	if !ok || m.MaxOSD() == 0 {
		return
	}
	osds := randomOSDs(r, m)
	switch r.IntN(4) {
	case 0:
		m.PGTemp[pg] = osds
	case 1:
		m.PrimaryTemp[pg] = osds[0]
	case 2:
		m.PGUpmap[pg] = osds
	default:
		m.PGUpmapItems[pg] = []UpmapItem{{From: osds[0], To: int32(r.IntN(int(m.MaxOSD())))}}
	}
}

// mutate returns a changed clone of m, as a monitor would build the next map.
func mutate(r *rand.Rand, m *OSDMap, crushMaps []*crush.Map) *OSDMap {
	b := m.Clone()
	for range 1 + r.IntN(6) {
		mutateOnce(r, b, crushMaps)
	}
	return b
}

func mutateOnce(r *rand.Rand, b *OSDMap, crushMaps []*crush.Map) {
	switch r.IntN(10) {
	case 0:
		b.OSDs[r.IntN(len(b.OSDs))] = randomOSD(r)
	case 1:
		b.SetMaxOSD(b.MaxOSD() + int32(1+r.IntN(3)))
	case 2:
		addRandomPool(r, b)
	case 3:
		if pg, ok := randomPG(r, b); ok {
			delete(b.Pools, pg.Pool)
			dropPool(b.PGTemp, pg.Pool)
			dropPool(b.PrimaryTemp, pg.Pool)
			dropPool(b.PGUpmap, pg.Pool)
			dropPool(b.PGUpmapItems, pg.Pool)
		}
	case 4:
		addRandomException(r, b)
	case 5:
		for pg := range b.PGTemp {
			delete(b.PGTemp, pg)
			break
		}
		for pg := range b.PGUpmapItems {
			delete(b.PGUpmapItems, pg)
			break
		}
	case 6:
		b.Flags ^= 1 << r.IntN(9)
		b.FullRatio = float32(r.IntN(100)) / 100
	case 7:
		b.SetCrush(crushMaps[r.IntN(len(crushMaps))])
	case 8:
		b.Modified = b.Modified.Add(time.Second)
		b.PoolMax += int64(r.IntN(2))
	default:
		for _, p := range b.Pools {
			p.PGNum++
			p.MinSize = 1
			break
		}
	}
}

func mustMarshal(t testing.TB, m *OSDMap) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestApplyDiffProperty checks Apply(a, Diff(a, b)) == b for random maps and
// random edits, through the incremental's encoding too, and that Apply
// leaves a untouched.
func TestApplyDiffProperty(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	crushMaps := []*crush.Map{testCrush(t, 6, 2), testCrush(t, 4, 3), testCrush(t, 8, 2)}
	for iter := range 300 {
		a := randomMap(t, r, crushMaps[0])
		b := mutate(r, a, crushMaps)
		if err := b.Validate(); err != nil {
			t.Fatalf("seed %d iter %d: mutate made an invalid map: %v", seed, iter, err)
		}
		before := mustMarshal(t, a)
		inc, err := Diff(a, b)
		if err != nil {
			t.Fatalf("seed %d iter %d: Diff: %v", seed, iter, err)
		}
		wire, err := inc.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := UnmarshalIncremental(wire)
		if err != nil {
			t.Fatalf("seed %d iter %d: UnmarshalIncremental: %v", seed, iter, err)
		}
		got, err := Apply(a, decoded)
		if err != nil {
			t.Fatalf("seed %d iter %d: Apply: %v", seed, iter, err)
		}
		want := b.Clone()
		want.Epoch = a.Epoch + 1
		if !bytes.Equal(mustMarshal(t, got), mustMarshal(t, want)) {
			t.Fatalf("seed %d iter %d: Apply(a, Diff(a, b)) differs from b", seed, iter)
		}
		if !mapsEqual(got, want) {
			t.Fatalf("seed %d iter %d: maps encode equally but differ in fields", seed, iter)
		}
		if !bytes.Equal(before, mustMarshal(t, a)) {
			t.Fatalf("seed %d iter %d: Apply mutated its input", seed, iter)
		}
	}
}

// mapsEqual compares the fields of two maps directly (a second check beside
// the encoding).
func mapsEqual(a, b *OSDMap) bool {
	if a.FSID != b.FSID || a.Epoch != b.Epoch || !a.Created.Equal(b.Created) || !a.Modified.Equal(b.Modified) ||
		a.Flags != b.Flags || a.PoolMax != b.PoolMax || !bytes.Equal(a.CrushBlob, b.CrushBlob) ||
		a.FullRatio != b.FullRatio || a.NearFullRatio != b.NearFullRatio || a.BackfillFullRatio != b.BackfillFullRatio ||
		len(a.OSDs) != len(b.OSDs) || len(a.Pools) != len(b.Pools) {
		return false
	}
	for i := range a.OSDs {
		if a.OSDs[i] != b.OSDs[i] {
			return false
		}
	}
	for id, p := range a.Pools {
		if q := b.Pools[id]; q == nil || *p != *q {
			return false
		}
	}
	return fmt.Sprint(a.PGTemp, a.PrimaryTemp, a.PGUpmap, a.PGUpmapItems) ==
		fmt.Sprint(b.PGTemp, b.PrimaryTemp, b.PGUpmap, b.PGUpmapItems)
}

func TestMapEncodingRoundTrip(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0xc0dec))
	cm := testCrush(t, 6, 2)
	for iter := range 200 {
		m := randomMap(t, r, cm)
		enc := mustMarshal(t, m)
		back, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("seed %d iter %d: Unmarshal: %v", seed, iter, err)
		}
		if !bytes.Equal(enc, mustMarshal(t, back)) || !mapsEqual(m, back) {
			t.Fatalf("seed %d iter %d: round trip changed the map", seed, iter)
		}
		// Placement on the decoded map equals placement on the original.
		for id, p := range m.Pools {
			for s := range min(p.PGNum, 16) {
				u1, p1, a1, ap1 := m.PGToUpActing(PGID{id, s})
				u2, p2, a2, ap2 := back.PGToUpActing(PGID{id, s})
				if fmt.Sprint(u1, p1, a1, ap1) != fmt.Sprint(u2, p2, a2, ap2) {
					t.Fatalf("seed %d: pg %d.%x maps differently after decoding", seed, id, s)
				}
			}
		}
	}
}

func TestApplyRefusals(t *testing.T) {
	r := rand.New(rand.NewPCG(*seedFlag, 7))
	cm := testCrush(t, 6, 2)
	a := randomMap(t, r, cm)
	b := a.Clone()
	b.Flags ^= FlagNoOut
	inc, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	bad := *inc
	bad.FullCRC ^= 1
	if _, err := Apply(a, &bad); !errors.Is(err, ErrCRCMismatch) {
		t.Errorf("corrupted CRC: %v", err)
	}
	bad = *inc
	bad.Epoch += 1
	if _, err := Apply(a, &bad); !errors.Is(err, ErrEpochMismatch) {
		t.Errorf("skipped epoch: %v", err)
	}
	bad = *inc
	bad.FSID[3] ^= 0xff
	if _, err := Apply(a, &bad); !errors.Is(err, ErrFSIDMismatch) {
		t.Errorf("other cluster: %v", err)
	}
	// An incremental applied twice is refused by epoch, not half-applied.
	next, err := Apply(a, inc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(next, inc); !errors.Is(err, ErrEpochMismatch) {
		t.Errorf("replayed incremental: %v", err)
	}
	// A change that would break an invariant is refused whole.
	inv := NewIncremental(a, a.Modified)
	inv.NewOSDs = map[int32]OSD{0: {Up: true}}
	if _, err := Seal(a, inv); !errors.Is(err, ErrInvalidMap) {
		t.Errorf("up but nonexistent OSD accepted: %v", err)
	}
	inv = NewIncremental(a, a.Modified)
	inv.NewOSDs = map[int32]OSD{a.MaxOSD() + 5: NewOSD()}
	if _, err := Seal(a, inv); !errors.Is(err, ErrInvalidMap) {
		t.Errorf("OSD beyond max_osd accepted: %v", err)
	}
}

// Seal lets the monitor build an incremental by hand.
func TestSealBuildsVerifiableIncremental(t *testing.T) {
	m, err := NewOfflineMap(OfflineConfig{Crush: testCrush(t, 6, 2), PoolID: 1, PGNum: 8, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	inc := NewIncremental(m, time.Unix(1, 0))
	down := m.OSDs[3]
	down.Up, down.DownAt = false, 1
	inc.NewOSDs = map[int32]OSD{3: down}
	flags := FlagNoOut
	inc.NewFlags = &flags
	sealed, err := Seal(m, inc)
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := inc.Marshal()
	back, err := UnmarshalIncremental(wire)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := Apply(m, back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustMarshal(t, sealed), mustMarshal(t, applied)) || applied.IsUp(3) || applied.Flags != FlagNoOut || applied.Epoch != 1 {
		t.Fatal("sealed incremental does not rebuild the same map")
	}
}

// A CRUSH map asking for billions of retries would hang every mapping; a
// map carrying one is refused.
func TestValidateRefusesHostileCrushTries(t *testing.T) {
	cm := testCrush(t, 3, 1)
	cm.ChooseTotalTries = 1 << 31
	m := New(UUID{1}, time.Time{})
	m.SetCrush(cm)
	if err := m.Validate(); !errors.Is(err, ErrInvalidMap) {
		t.Fatalf("tunable: %v", err)
	}
	cm = testCrush(t, 3, 1)
	cm.Rules[0].Steps = append([]crush.Step{{Op: crush.OpSetChooseTries, Arg1: 1 << 30}}, cm.Rules[0].Steps...)
	m.SetCrush(cm)
	if err := m.Validate(); !errors.Is(err, ErrInvalidMap) {
		t.Fatalf("rule step: %v", err)
	}
	if _, err := Unmarshal(mustMarshal(t, m)); !errors.Is(err, ErrInvalidMap) {
		t.Fatalf("Unmarshal accepted it: %v", err)
	}
}
