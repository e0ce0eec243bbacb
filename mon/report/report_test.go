package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
	"github.com/gorados/gorados/client/pgstats"
	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
)

// testMap has two hosts under root default, three OSDs (one ssd, one down,
// one out with reduced affinity), a stray OSD outside CRUSH and one pool.
func testMap(t *testing.T) *cluster.OSDMap {
	cm := crush.NewDefaultMap()
	for _, d := range []struct {
		id          int32
		class, host string
		w           uint32
	}{{0, "ssd", "h1", 0x10000}, {1, "hdd", "h1", 0x20000}, {2, "hdd", "h2", 0x8000}} {
		if err := cm.AddDevice(d.id, "osd."+string(rune('0'+d.id)), d.class); err != nil {
			t.Fatal(err)
		}
		if err := cm.LinkDevice(d.id, d.w, map[string]string{"host": d.host, "root": "default"}); err != nil {
			t.Fatal(err)
		}
	}
	m := cluster.New(cluster.UUID{0xaa}, time.Unix(1700000000, 0))
	m.Epoch = 7
	m.SetCrush(cm)
	m.SetMaxOSD(4)
	for id := range 4 {
		m.OSDs[id] = cluster.NewOSD()
		m.OSDs[id].Up, m.OSDs[id].Weight = true, cluster.WeightIn
	}
	m.OSDs[1].Up = false
	m.OSDs[2].Weight, m.OSDs[2].PrimaryAffinity = 0, 0x8000
	m.Pools[1] = cluster.NewReplicatedPool(1, "rbd", 3, 0, 32)
	m.Flags = cluster.FlagNoOut
	return m
}

func TestWriteTreeColumnsAsCeph(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTree(&b, BuildTree(testMap(t))); err != nil {
		t.Fatal(err)
	}
	want := `ID  CLASS   WEIGHT  TYPE NAME      STATUS  REWEIGHT  PRI-AFF
-1         3.50000  root default                            
-3         3.00000      host h1                             
 0    ssd  1.00000          osd.0      up   1.00000  1.00000
 1    hdd  2.00000          osd.1    down   1.00000  1.00000
-7         0.50000      host h2                             
 2    hdd  0.50000          osd.2      up         0  0.50000
 3               0  osd.3              up   1.00000  1.00000
`
	got := b.String()
	if got != want {
		t.Fatalf("osd tree:\n%s\nwant:\n%s", got, want)
	}
}

func TestStatusAndHealth(t *testing.T) {
	m := testMap(t)
	st := &monclient.MonStatus{Leader: "a", QuorumKnown: true, Members: []monclient.Member{
		{Name: "a", InQuorum: true}, {Name: "b", InQuorum: true}, {Name: "c"}}}
	s := BuildStatus(m, st, nil)
	if s.NumOSDs != 4 || s.NumUpOSDs != 3 || s.NumInOSDs != 3 || s.NumPGs != 32 {
		t.Fatalf("counts: %+v", s)
	}
	var codes []string
	for _, c := range s.Health.Checks {
		codes = append(codes, c.Code)
	}
	if s.Health.Status != HealthWarn || strings.Join(codes, ",") != "MON_DOWN,OSD_DOWN,OSDMAP_FLAGS" {
		t.Fatalf("health %s %v", s.Health.Status, codes)
	}
	var b bytes.Buffer
	if err := WriteStatus(&b, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mon: 3 daemons, quorum a,b (leader a), out of quorum: c", "osd: 4 osds: 3 up, 3 in", "pools:   1 pools, 32 pgs", "1/3 mons down, quorum a,b"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	js, err := json.Marshal(s)
	if err != nil || !strings.Contains(string(js), `"quorum_names":["a","b"]`) || strings.Contains(string(js), "pgmap") {
		t.Fatalf("json %s %v", js, err)
	}
}

// TestStatusWithPGs: the PG states gathered from the primaries show in
// the data section (most frequent first), in the health checks and in
// `pg stat`.
func TestStatusWithPGs(t *testing.T) {
	m := testMap(t)
	st := &monclient.MonStatus{Leader: "a", QuorumKnown: true, Members: []monclient.Member{{Name: "a", InQuorum: true}}}
	sum := pgstats.Summarize(&pgstats.Report{PGs: []pgstats.PG{
		{State: "active+clean", Objects: 1000, Bytes: 3 << 30}, {State: "active+clean", Objects: 234},
		{State: "active+undersized+degraded", Objects: 1}, {State: "stale"}, {State: "peering"}},
		OSDs: []pgstats.OSD{{ID: 0, Usage: &pgstats.Usage{FSBytes: 60 << 30, FSAvailBytes: 50 << 30, StoreBytes: 9 << 30}},
			{ID: 1, Note: "down"}}})
	s := BuildStatus(m, st, &sum)
	var codes, sums []string
	for _, c := range s.Health.Checks {
		codes, sums = append(codes, c.Code), append(sums, c.Summary)
	}
	if got := strings.Join(codes, ","); got != "OSD_DOWN,OSDMAP_FLAGS,PG_AVAILABILITY,PG_DEGRADED" {
		t.Fatalf("health checks %s", got)
	}
	if got := strings.Join(sums[2:], "; "); got != "Reduced data availability: 2 pgs inactive, 1 pgs stale; Degraded data redundancy: 1 pgs degraded, 1 pgs undersized" {
		t.Fatalf("PG checks: %s", got)
	}
	var b bytes.Buffer
	if err := WriteStatus(&b, s); err != nil {
		t.Fatal(err)
	}
	want := "    objects: 1.2k objects, 3.0 GiB\n    usage:   9.0 GiB used, 50 GiB / 60 GiB avail\n    osdmap:  e7\n    pgs:     2 active+clean\n             1 active+undersized+degraded\n             1 peering\n             1 stale\n"
	if !strings.Contains(b.String(), want) {
		t.Fatalf("status data section:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WritePGStat(&b, BuildPGStat(&sum)); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "5 pgs: 2 active+clean, 1 active+undersized+degraded, 1 peering, 1 stale; 1.2k objects, 3.0 GiB data\n" {
		t.Fatalf("pg stat: %q", got)
	}
}

func TestPGDumpColumns(t *testing.T) {
	d := &PGDump{PGs: []pgstats.PG{
		{PGID: "1.0", State: "active+clean", Up: []int32{0, 2, 1}, UpPrimary: 0, Acting: []int32{0, 2, 1}, ActingPrimary: 0,
			Objects: 3, Bytes: 12288, LogEntries: 3, Version: "5'3", ReportedEpoch: 9},
		{PGID: "1.1", State: "stale", Up: []int32{1, 0x7fffffff}, UpPrimary: 1, Acting: []int32{1}, ActingPrimary: 1, Note: "osd.1 did not answer"},
		{PGID: "1.2", State: "stale", Up: []int32{1}, UpPrimary: 1, Acting: []int32{1}, ActingPrimary: 1, Note: "osd.1 did not answer"},
	}}
	var b bytes.Buffer
	if err := WritePGDump(&b, d); err != nil {
		t.Fatal(err)
	}
	want := `PG_STAT  OBJECTS  BYTES  LOG  STATE         VERSION  REPORTED  UP        UP_PRIMARY  ACTING   ACTING_PRIMARY
1.0            3  12288    3  active+clean  5'3             9  [0,2,1]            0  [0,2,1]               0
1.1            0      0    0  stale         -               -  [1,NONE]           1  [1]                   1
1.2            0      0    0  stale         -               -  [1]                1  [1]                   1
pg 1.1 1.2 stale: osd.1 did not answer
`
	if b.String() != want {
		t.Fatalf("pg dump:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestDumpPoolGetRules(t *testing.T) {
	m := testMap(t)
	var b bytes.Buffer
	if err := WriteDump(&b, BuildDump(m)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"epoch 7\n", "flags noout\n", "pool 1 'rbd' replicated size 3 min_size 2 crush_rule 0 object_hash rjenkins pg_num 32 pgp_num 32 flags hashpspool", "max_osd 4", "osd.1 down in "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dump lacks %q:\n%s", want, b.String())
		}
	}
	kv, err := PoolGet(m, m.Pools[1], "min_size")
	if err != nil || kv[0] != [2]string{"min_size", "2"} {
		t.Fatalf("pool get min_size: %v %v", kv, err)
	}
	if _, err := PoolGet(m, m.Pools[1], "colour"); err == nil {
		t.Fatal("unknown key accepted")
	}
	rules := BuildRules(m.Crush)
	if len(rules) != 1 || rules[0].Name != "replicated_rule" || rules[0].Steps[1].Op != "chooseleaf_firstn" || rules[0].Steps[1].Type != "host" {
		t.Fatalf("rules: %+v", rules)
	}
}

func TestHumanUnits(t *testing.T) {
	for _, tc := range []struct {
		n          uint64
		bytes, cnt string
	}{
		{0, "0 B", "0"}, {512, "512 B", "512"}, {1023, "1023 B", "1.0k"}, {4608, "4.5 KiB", "4.6k"},
		{120 << 20, "120 MiB", "126M"}, {1288490188, "1.2 GiB", "1.3G"},
	} {
		if got := humanBytes(tc.n); got != tc.bytes {
			t.Errorf("humanBytes(%d) = %q, want %q", tc.n, got, tc.bytes)
		}
		if got := humanCount(tc.n); got != tc.cnt {
			t.Errorf("humanCount(%d) = %q, want %q", tc.n, got, tc.cnt)
		}
	}
}

// TestOSDDF: the space each OSD reported, in CRUSH order with its weights,
// VAR against the average of those that reported, and rows without
// figures for the OSDs that did not answer (osd.3: up, outside CRUSH).
func TestOSDDF(t *testing.T) {
	m := testMap(t)
	r := &pgstats.Report{OSDs: []pgstats.OSD{
		{ID: 0, PGs: 20, Usage: &pgstats.Usage{FSBytes: 100 << 30, FSAvailBytes: 80 << 30, StoreBytes: 10 << 30, DataBytes: 9 << 30}},
		{ID: 1, Note: "down"},
		{ID: 2, PGs: 12, Usage: &pgstats.Usage{FSBytes: 100 << 30, FSAvailBytes: 70 << 30, StoreBytes: 30 << 30, DataBytes: 29 << 30}},
	}}
	d := BuildDF(m, r)
	var b bytes.Buffer
	if err := WriteDF(&b, d); err != nil {
		t.Fatal(err)
	}
	want := `ID  CLASS   WEIGHT  REWEIGHT     SIZE  RAW USE     DATA    AVAIL   %USE   VAR  PGS  STATUS
 0    ssd  1.00000   1.00000  100 GiB   10 GiB  9.0 GiB   80 GiB  10.00  0.50   20      up
 1    hdd  2.00000   1.00000        -        -        -        -      -     -    0    down
 2    hdd  0.50000         0  100 GiB   30 GiB   29 GiB   70 GiB  30.00  1.50   12      up
 3               0   1.00000        -        -        -        -      -     -    0      up
             TOTAL            200 GiB   40 GiB   38 GiB  150 GiB  20.00                   
MIN/MAX VAR: 0.50/1.50  STDDEV: 10.00
`
	if b.String() != want {
		t.Fatalf("osd df:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestFullnessHealth: OSDs whose file system use reaches the map's ratios
// raise OSD_NEARFULL, OSD_BACKFILLFULL and OSD_FULL (an error).
func TestFullnessHealth(t *testing.T) {
	m := testMap(t)
	m.Flags = 0
	m.NearFullRatio, m.BackfillFullRatio, m.FullRatio = 0.85, 0.90, 0.95
	st := &monclient.MonStatus{Leader: "a", QuorumKnown: true, Members: []monclient.Member{{Name: "a", InQuorum: true}}}
	usage := func(availPct uint64) *pgstats.Usage {
		return &pgstats.Usage{FSBytes: 100, FSAvailBytes: availPct, StoreBytes: 1}
	}
	sum := pgstats.Summarize(&pgstats.Report{OSDs: []pgstats.OSD{
		{ID: 0, Usage: usage(50)}, {ID: 2, Usage: usage(12)}, {ID: 3, Usage: usage(8)}, {ID: 1, Usage: usage(3)}}})
	h := ComputeHealth(m, st, &sum)
	var got []string
	for _, c := range h.Checks {
		got = append(got, c.Severity+" "+c.Summary)
	}
	want := []string{
		"HEALTH_WARN 1 osds down",
		"HEALTH_ERR 1 full osd(s): osd.1 (file system use at or above the full ratio 0.95)",
		"HEALTH_WARN 1 backfillfull osd(s): osd.3",
		"HEALTH_WARN 1 nearfull osd(s): osd.2",
	}
	if h.Status != HealthErr || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("health %s:\n%s\nwant:\n%s", h.Status, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var b bytes.Buffer
	if err := WriteHealth(&b, h); err != nil || !strings.Contains(b.String(), "[ERR] OSD_FULL:") {
		t.Fatalf("health detail: %v\n%s", err, b.String())
	}
}

// TestHealthDetail: `health` lists the down OSDs and the PGs behind each
// PG check, with their state, acting set and why a state is stale.
func TestHealthDetail(t *testing.T) {
	m := testMap(t)
	st := &monclient.MonStatus{Leader: "a", QuorumKnown: true, Members: []monclient.Member{{Name: "a", InQuorum: true}}}
	sum := pgstats.Summarize(&pgstats.Report{PGs: []pgstats.PG{
		{PGID: "1.0", State: "active+clean", Acting: []int32{0, 2, 3}},
		{PGID: "1.1", State: "active+undersized+degraded", Acting: []int32{0, 2}},
		{PGID: "1.2", State: "stale", Acting: []int32{3, 0}, Note: "osd.3 did not answer"},
		{PGID: "1.3", State: "peering", Acting: []int32{2, 0, 3}}}})
	var b bytes.Buffer
	if err := WriteHealth(&b, ComputeHealth(m, st, &sum)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[WRN] OSD_DOWN: 1 osds down\n    osd.1 is down\n",
		"[WRN] PG_AVAILABILITY: Reduced data availability: 2 pgs inactive, 1 pgs stale\n" +
			"    pg 1.2 is stale, acting [3,0]: osd.3 did not answer\n    pg 1.3 is peering, acting [2,0,3]\n",
		"[WRN] PG_DEGRADED: Degraded data redundancy: 1 pgs degraded, 1 pgs undersized\n" +
			"    pg 1.1 is active+undersized+degraded, acting [0,2]\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("health detail lacks\n%s\ngot:\n%s", want, b.String())
		}
	}
	many := make([]string, detailMax+7)
	if got := capLines(many); len(got) != detailMax+1 || got[detailMax] != "... and 7 more" {
		t.Fatalf("capLines: %d lines, last %q", len(got), got[len(got)-1])
	}
}
