package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorados/gorados/client/monclient"
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
	s := BuildStatus(m, st)
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
	if err != nil || !strings.Contains(string(js), `"quorum_names":["a","b"]`) {
		t.Fatalf("json %s %v", js, err)
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
