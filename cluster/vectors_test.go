package cluster

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gorados/gorados/crush"
)

// The vectors under testdata/ were produced by testdata/gen.sh with Ceph
// 16.2's crushtool and osdmaptool; these tests replay them without Ceph.

// readNames returns the object names of testdata/names.hex, keyed by hex.
func readNames(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("testdata/names.hex")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, h := range strings.Fields(string(data)) {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("names.hex: %v", err)
		}
		names[h] = string(b)
	}
	return names
}

// objectVector is one line of an objects.txt: HEXNAME POOL.SEED -> [acting].
type objectVector struct {
	hex, pg, acting string
}

func readObjectVectors(t *testing.T, path string) []objectVector {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []objectVector
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) != 4 || f[2] != "->" {
			t.Fatalf("%s: bad line %q", path, line)
		}
		out = append(out, objectVector{hex: f[0], pg: f[1], acting: f[3]})
	}
	return out
}

// osdmaptool's pool of "2^31" PGs reveals the low 30 bits of each name hash
// (its pg_num arithmetic overflows a signed int, so the fold masks with
// 0x3fffffff); the facts-sheet vectors of strhash_test.go cover the top bits.
func TestNameHashAgainstOsdmaptool(t *testing.T) {
	names := readNames(t)
	vecs := readObjectVectors(t, "testdata/hash/objects.txt")
	if len(vecs) != len(names) {
		t.Fatalf("%d vectors for %d names", len(vecs), len(names))
	}
	for _, v := range vecs {
		pg, err := ParsePGID(v.pg)
		if err != nil {
			t.Fatal(err)
		}
		got := StrHashRjenkins([]byte(names[v.hex])) & 0x3fffffff
		if got != pg.Seed {
			t.Errorf("name %s (%d bytes): hash&0x3fffffff = %#x, osdmaptool %#x", short(v.hex), len(names[v.hex]), got, pg.Seed)
		}
	}
}

// vectorCase is one directory of testdata/vectors.
type vectorCase struct {
	dir    string
	params map[string]string
}

func (c vectorCase) num(t *testing.T, key string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(c.params[key], 10, 64)
	if err != nil {
		t.Fatalf("%s/params: %s: %v", c.dir, key, err)
	}
	return v
}

func loadVectorCases(t *testing.T) []vectorCase {
	t.Helper()
	dirs, err := filepath.Glob("testdata/vectors/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no vector cases: %v", err)
	}
	var cases []vectorCase
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "params"))
		if err != nil {
			t.Fatal(err)
		}
		c := vectorCase{dir: d, params: map[string]string{}}
		for line := range strings.Lines(string(data)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
			c.params[k] = v
		}
		cases = append(cases, c)
	}
	return cases
}

// buildCaseMap reconstructs the osdmap gen.sh built for a case: the offline
// one-pool map plus the upmap exceptions osdmaptool saved.
func buildCaseMap(t *testing.T, c vectorCase) *OSDMap {
	t.Helper()
	bin, err := os.ReadFile(filepath.Join(c.dir, "crush.bin"))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := crush.Decode(bin)
	if err != nil {
		t.Fatalf("%s: %v", c.dir, err)
	}
	cfg := OfflineConfig{
		Crush: cm, PoolID: c.num(t, "pool"), PGNum: uint64(c.num(t, "pg_num")),
		PGPNum: uint64(c.num(t, "pgp_num")), Size: int(c.num(t, "size")), Rule: int(c.num(t, "rule")),
	}
	if out := c.num(t, "out"); out >= 0 {
		cfg.Out = []int32{int32(out)}
	}
	m, err := NewOfflineMap(cfg)
	if err != nil {
		t.Fatalf("%s: %v", c.dir, err)
	}
	if int64(m.MaxOSD()) != c.num(t, "max_osd") {
		t.Fatalf("%s: max_osd %d, crush map has %d devices", c.dir, c.num(t, "max_osd"), m.MaxOSD())
	}
	addUpmapItems(t, m, filepath.Join(c.dir, "upmap.txt"))
	return m
}

// addUpmapItems parses osdmaptool's "ceph osd pg-upmap-items PG FROM TO..."
// lines into m, if the file exists.
func addUpmapItems(t *testing.T, m *OSDMap, path string) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	} else if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 6 || f[2] != "pg-upmap-items" || len(f)%2 != 0 {
			continue
		}
		pg, err := ParsePGID(f[3])
		if err != nil {
			t.Fatal(err)
		}
		for i := 4; i+1 < len(f); i += 2 {
			from, _ := strconv.Atoi(f[i])
			to, _ := strconv.Atoi(f[i+1])
			m.PGUpmapItems[pg] = append(m.PGUpmapItems[pg], UpmapItem{From: int32(from), To: int32(to)})
		}
	}
}

func TestPGDumpAgainstOsdmaptool(t *testing.T) {
	for _, c := range loadVectorCases(t) {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			m := buildCaseMap(t, c)
			want := pgDumpLines(t, filepath.Join(c.dir, "pgs.txt"))
			if int64(len(want)) != c.num(t, "pg_num") {
				t.Fatalf("%d dump lines for pg_num %d", len(want), c.num(t, "pg_num"))
			}
			var buf bytes.Buffer
			if err := m.WritePGMappings(&buf, 1); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("mismatch\n got  %s\n want %s", got[i], want[i])
				}
			}
		})
	}
}

// pgDumpLines returns the PG lines of an osdmaptool dump, skipping its
// headers and statistics.
func pgDumpLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), " raw (") {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

func TestObjectMappingAgainstOsdmaptool(t *testing.T) {
	names := readNames(t)
	for _, c := range loadVectorCases(t) {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			m := buildCaseMap(t, c)
			for _, v := range readObjectVectors(t, filepath.Join(c.dir, "objects.txt")) {
				pg, err := m.ObjectToPG(1, names[v.hex], "", "")
				if err != nil {
					t.Fatal(err)
				}
				_, _, acting, _ := m.PGToUpActing(pg)
				got := pg.String() + " " + string(AppendOSDList(nil, acting))
				if want := v.pg + " " + v.acting; got != want {
					t.Errorf("name %s: got %s, osdmaptool %s", short(v.hex), got, want)
				}
			}
		})
	}
}

// short abbreviates a long hex name for error messages.
func short(h string) string {
	if len(h) > 40 {
		return h[:40] + "..."
	}
	return h
}

// Pools other than 1: crushtool --test --pool-id P gives the up set of PG
// seed x of pool P when every OSD is up and in (out ones weighted 0).
func TestOtherPoolIDsAgainstCrushtool(t *testing.T) {
	files, _ := filepath.Glob("testdata/pools/*.txt")
	if len(files) == 0 {
		t.Fatal("no pool vectors")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			hdr := strings.Fields(strings.TrimPrefix(lines[0], "#"))
			params := map[string]string{}
			for i := 0; i+1 < len(hdr); i += 2 {
				params[hdr[i]] = hdr[i+1]
			}
			c := vectorCase{dir: f, params: params}
			bin, err := os.ReadFile(filepath.Join("testdata/maps", params["map"]+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			cm, err := crush.Decode(bin)
			if err != nil {
				t.Fatal(err)
			}
			cfg := OfflineConfig{Crush: cm, PoolID: c.num(t, "pool"), PGNum: uint64(c.num(t, "pg_num")), Size: int(c.num(t, "size"))}
			if out := c.num(t, "out"); out >= 0 {
				cfg.Out = []int32{int32(out)}
			}
			m, err := NewOfflineMap(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines)-1 != int(cfg.PGNum) {
				t.Fatalf("%d mappings for pg_num %d", len(lines)-1, cfg.PGNum)
			}
			var mp Mapping
			for seed, line := range lines[1:] {
				m.MapPG(PGID{Pool: cfg.PoolID, Seed: uint32(seed)}, &mp)
				want := line[strings.LastIndexByte(line, ' ')+1:]
				if got := string(AppendOSDList(nil, mp.Up)); got != want || !slices.Equal(mp.Up, mp.Acting) {
					t.Errorf("pool %d seed %d: up %s acting %v, crushtool %s", cfg.PoolID, seed, got, mp.Acting, want)
				}
			}
		})
	}
}
