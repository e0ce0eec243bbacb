package cluster

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gorados/gorados/crush"
)

func TestOfflineConfigValidation(t *testing.T) {
	cm := testCrush(t, 3, 2)
	good := OfflineConfig{Crush: cm, PoolID: 4, PGNum: 12, Size: 2}
	if _, err := NewOfflineMap(good); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*OfflineConfig){
		"no map":        func(c *OfflineConfig) { c.Crush = nil },
		"negative pool": func(c *OfflineConfig) { c.PoolID = -1 },
		"pg_num 0":      func(c *OfflineConfig) { c.PGNum = 0 },
		"pg_num 2^31":   func(c *OfflineConfig) { c.PGNum = 1 << 31 },
		"pgp > pg":      func(c *OfflineConfig) { c.PGPNum = 13 },
		"size 0":        func(c *OfflineConfig) { c.Size = 0 },
		"size 11":       func(c *OfflineConfig) { c.Size = 11 },
		"rule 5":        func(c *OfflineConfig) { c.Rule = 5 },
		"out 6":         func(c *OfflineConfig) { c.Out = []int32{6} },
		"out -1":        func(c *OfflineConfig) { c.Out = []int32{-1} },
	} {
		c := good
		edit(&c)
		if _, err := NewOfflineMap(c); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: error %v, want ErrInvalidArgument", name, err)
		}
	}
}

func TestObjectMappingLine(t *testing.T) {
	m, err := NewOfflineMap(OfflineConfig{Crush: testCrush(t, 3, 2), PoolID: 4, PGNum: 12, Size: 2, Out: []int32{1}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.WriteObjectMappings(&buf, 4, "ns", []string{"obj"}); err != nil {
		t.Fatal(err)
	}
	raw := StrHashRjenkins([]byte("ns\x1fobj"))
	pg := StableMod(raw, 12, 15)
	up, prim, _, _ := m.PGToUpActing(PGID{4, pg})
	set := string(AppendPGVector(nil, up)) + ", p" + itoa(int(prim))
	want := "osdmap e0 pool 'pool' (4) object 'ns/obj' -> pg 4." + PGID{4, raw}.String()[2:] +
		" (4." + PGID{4, pg}.String()[2:] + ") -> up (" + set + ") acting (" + set + ")\n"
	if buf.String() != want {
		t.Fatalf("got  %q\nwant %q", buf.String(), want)
	}
	if err := m.WriteObjectMappings(&buf, 9, "", []string{"x"}); !errors.Is(err, ErrNoSuchPool) {
		t.Fatalf("unknown pool: %v", err)
	}
	if err := m.WritePGMappings(&buf, 9); !errors.Is(err, ErrNoSuchPool) {
		t.Fatalf("unknown pool: %v", err)
	}
}

// Holes print as NONE in `ceph osd map` lines and as 2147483647 in
// osdmaptool dumps.
func TestVectorFormats(t *testing.T) {
	v := []int32{3, crush.ItemNone, 0}
	if got := string(AppendPGVector(nil, v)); got != "[3,NONE,0]" {
		t.Errorf("AppendPGVector = %s", got)
	}
	if got := string(AppendOSDList(nil, v)); got != "[3,2147483647,0]" {
		t.Errorf("AppendOSDList = %s", got)
	}
	mp := Mapping{PG: PGID{2, 0x1f}, Raw: v, RawPrimary: 3, Up: v[:1], UpPrimary: 3, ActingPrimary: NoOSD}
	if got := string(AppendPGDump(nil, &mp)); got != "2.1f raw ([3,2147483647,0], p3) up ([3], p3) acting ([], p-1)" {
		t.Errorf("AppendPGDump = %s", got)
	}
	if !strings.HasPrefix(FlagNoOut.String(), "noout") || (FlagFull|FlagNoDeepScrub).String() != "full,nodeep-scrub" {
		t.Errorf("flag names: %q", (FlagFull | FlagNoDeepScrub).String())
	}
}

func TestFlagsAndUUID(t *testing.T) {
	for _, f := range flagNames {
		got, err := ParseFlag(f.name)
		if err != nil || got != f.flag {
			t.Errorf("ParseFlag(%q) = %v, %v", f.name, got, err)
		}
	}
	if _, err := ParseFlag("nosuch"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown flag: %v", err)
	}
	u := UUID{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	s := u.String()
	if s != "deadbeef-0102-0304-0506-0708090a0b0c" {
		t.Fatalf("UUID.String = %s", s)
	}
	for _, in := range []string{s, strings.ReplaceAll(s, "-", "")} {
		if back, err := ParseUUID(in); err != nil || back != u {
			t.Errorf("ParseUUID(%q) = %v, %v", in, back, err)
		}
	}
	for _, bad := range []string{"", "xyz", s + "0", strings.Replace(s, "d", "g", 1)} {
		if _, err := ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) accepted", bad)
		}
	}
}

func TestPoolValidation(t *testing.T) {
	for _, name := range []string{"", ".hidden", "-x", "a b", "é", strings.Repeat("a", PoolNameMax+1)} {
		if err := ValidatePoolName(name); !errors.Is(err, ErrInvalidPool) {
			t.Errorf("pool name %q accepted: %v", name, err)
		}
	}
	for _, name := range []string{"rbd", "a.b-c_9", strings.Repeat("z", PoolNameMax)} {
		if err := ValidatePoolName(name); err != nil {
			t.Errorf("pool name %q refused: %v", name, err)
		}
	}
	for _, c := range []struct{ size, min int32 }{{0, 0}, {3, 0}, {3, 4}, {11, 1}, {-1, 1}} {
		if err := ValidatePoolSize(c.size, c.min); err == nil {
			t.Errorf("size %d min_size %d accepted", c.size, c.min)
		}
	}
	if err := ValidatePGNum(64, 32, 100); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		pg, pgp uint32
		limit   uint64
	}{{0, 0, 0}, {128, 128, 100}, {8, 9, 0}, {8, 0, 0}} {
		if err := ValidatePGNum(c.pg, c.pgp, c.limit); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("pg_num %d pgp_num %d limit %d: %v", c.pg, c.pgp, c.limit, err)
		}
	}
	if DefaultMinSize(3) != 2 || DefaultMinSize(4) != 2 || DefaultMinSize(1) != 1 {
		t.Error("DefaultMinSize")
	}
	p := NewReplicatedPool(1, "ok", 3, 0, 8)
	if err := ValidatePool(p); err != nil {
		t.Fatal(err)
	}
	p.ObjectHash = 9
	if err := ValidatePool(p); !errors.Is(err, ErrInvalidPool) {
		t.Errorf("bad hash: %v", err)
	}
}
