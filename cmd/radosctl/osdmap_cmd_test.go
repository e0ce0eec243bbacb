package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// vectorsDir holds the osdmaptool vectors of package cluster (see its
// testdata/gen.sh).
const vectorsDir = "../../cluster/testdata"

// buildRadosctl compiles this command into a temporary directory.
func buildRadosctl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "radosctl")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// vectorParams reads a case's params file.
func vectorParams(t *testing.T, dir string) map[string]string {
	data, err := os.ReadFile(filepath.Join(dir, "params"))
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]string{}
	for line := range strings.Lines(string(data)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		p[k] = v
	}
	return p
}

// offlineArgs returns the radosctl flags that rebuild a case's osdmap from
// its CRUSH map file mapFile.
func offlineArgs(mapFile string, p map[string]string) []string {
	args := []string{"osd", "map", "--crush", mapFile, "--pool-id", p["pool"],
		"--pg-num", p["pg_num"], "--pgp-num", p["pgp_num"], "--size", p["size"], "--rule", p["rule"]}
	if p["out"] != "-1" {
		args = append(args, "--out", p["out"])
	}
	return args
}

// pgLines maps each PG id of an osdmaptool dump to its line.
func pgLines(t *testing.T, path string) (map[string]string, []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	byPG := map[string]string{}
	var order []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSuffix(line, "\n")
		if strings.Contains(line, " raw (") {
			pg, _, _ := strings.Cut(line, " ")
			byPG[pg] = line
			order = append(order, line)
		}
	}
	return byPG, order
}

// The offline `radosctl osd map` must print, byte for byte, the line
// `ceph osd map` prints: the folded PG and acting set come from osdmaptool's
// --test-map-object, the up/acting primaries from its PG dump. osdmaptool
// cannot print a full 32-bit name hash (see the cluster vectors), so the raw
// hash is checked on its low 30 bits and taken from our output.
func TestOSDMapOfflineAgainstOsdmaptool(t *testing.T) {
	bin := buildRadosctl(t)
	dirs, _ := filepath.Glob(filepath.Join(vectorsDir, "vectors", "*"))
	if len(dirs) == 0 {
		t.Fatal("no vectors")
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "upmap.txt")); err == nil {
			continue // upmap exceptions cannot be expressed offline
		}
		for _, mapFile := range []string{"crush.bin", "crush.txt"} {
			t.Run(filepath.Base(dir)+"/"+mapFile, func(t *testing.T) {
				checkOfflineCase(t, bin, dir, filepath.Join(dir, mapFile))
			})
		}
	}
}

// checkOfflineCase runs radosctl on one vector case with one map file, in
// object mode and in --pgs mode.
func checkOfflineCase(t *testing.T, bin, dir, mapFile string) {
	p := vectorParams(t, dir)
	byPG, order := pgLines(t, filepath.Join(dir, "pgs.txt"))
	names, expectParts := objectExpectations(t, dir, byPG)
	out, err := exec.Command(bin, append(offlineArgs(mapFile, p), names...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("radosctl: %v\n%s", err, out)
	}
	want := assembleObjectLines(t, out, p["pool"], names, expectParts)
	if !bytes.Equal(out, want) {
		t.Fatalf("output differs\n got:\n%s\nwant:\n%s", out, want)
	}
	dump, err := exec.Command(bin, append(offlineArgs(mapFile, p), "--pgs")...).CombinedOutput()
	if err != nil {
		t.Fatalf("radosctl --pgs: %v\n%s", err, dump)
	}
	if wantDump := strings.Join(order, "\n") + "\n"; string(dump) != wantDump {
		t.Fatalf("--pgs output differs\n got:\n%s\nwant:\n%s", dump, wantDump)
	}
}

// objectPart is what the vectors say about one object: its folded PG and
// the up/acting text of that PG.
type objectPart struct {
	pg, sets string
}

// objectExpectations reads the case's object names and expected parts.
func objectExpectations(t *testing.T, dir string, byPG map[string]string) ([]string, []objectPart) {
	data, err := os.ReadFile(filepath.Join(dir, "objects.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var parts []objectPart
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		name, err := hex.DecodeString(f[0])
		if err != nil {
			t.Fatal(err)
		}
		dump, ok := byPG[f[1]]
		if !ok {
			t.Fatalf("PG %s of %s not in the dump", f[1], f[0])
		}
		_, sets, _ := strings.Cut(dump, ") up (")
		// Check that the dump's acting set is the one test-map-object printed.
		if !strings.Contains(sets, "acting ("+f[3]+",") {
			t.Fatalf("vectors disagree for %s: %s vs %s", f[1], dump, f[3])
		}
		names = append(names, string(name))
		parts = append(parts, objectPart{pg: f[1], sets: "up (" + sets})
	}
	return names, parts
}

// assembleObjectLines builds the expected output, taking each raw hash from
// got after checking its low 30 bits against the folded PG's source.
func assembleObjectLines(t *testing.T, got []byte, pool string, names []string, parts []objectPart) []byte {
	hashes := rawHashes(t)
	var want bytes.Buffer
	rest := string(got)
	for i, name := range names {
		prefix := "osdmap e0 pool 'pool' (" + pool + ") object '" + name + "' -> pg " + pool + "."
		if !strings.HasPrefix(rest, prefix) {
			t.Fatalf("object %d: output does not start with %q:\n%s", i, prefix, rest)
		}
		rawText, _, _ := strings.Cut(rest[len(prefix):], " ")
		raw, err := strconv.ParseUint(rawText, 16, 32)
		if err != nil || uint32(raw)&0x3fffffff != hashes[name] {
			t.Fatalf("object %q: raw hash %s, osdmaptool's low 30 bits %#x", name, rawText, hashes[name])
		}
		line := prefix + rawText + " (" + parts[i].pg + ") -> " + parts[i].sets + "\n"
		want.WriteString(line)
		if len(line) <= len(rest) {
			rest = rest[len(line):]
		}
	}
	return want.Bytes()
}

// rawHashes returns osdmaptool's 30-bit hash of each name.
func rawHashes(t *testing.T) map[string]uint32 {
	data, err := os.ReadFile(filepath.Join(vectorsDir, "hash", "objects.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint32{}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		name, _ := hex.DecodeString(f[0])
		_, seed, _ := strings.Cut(f[1], ".")
		v, err := strconv.ParseUint(seed, 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		out[string(name)] = uint32(v)
	}
	return out
}

// Bad input: one line on stderr, exit status 1, no panic.
func TestOSDMapOfflineBadInput(t *testing.T) {
	bin := buildRadosctl(t)
	good := filepath.Join(vectorsDir, "vectors", "hosts-s3", "crush.bin")
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("\x00\x01\x02 not a map"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--crush", good, "--pg-num", "0", "x"}, "--pg-num 0"},
		{[]string{"--crush", good, "--pg-num", "2147483648", "x"}, "--pg-num 2147483648"},
		{[]string{"--crush", good, "--pg-num", "-4", "x"}, "--pg-num -4"},
		{[]string{"--crush", good, "--pg-num", "8", "--pgp-num", "9", "x"}, "--pgp-num 9"},
		{[]string{"--crush", good, "--pg-num", "8", "--rule", "9", "x"}, "no rule 9"},
		{[]string{"--crush", good, "--pg-num", "8", "--size", "0", "x"}, "size 0"},
		{[]string{"--crush", good, "--pg-num", "8", "--size", "-2", "x"}, "size -2"},
		{[]string{"--crush", good, "--pg-num", "8", "--out", "12", "x"}, "no device 12"},
		{[]string{"--crush", good, "--pg-num", "8", "--out", "-1", "x"}, "no device -1"},
		{[]string{"--crush", good, "--pg-num", "8", "--pool-id", "-1", "x"}, "pool id -1"},
		{[]string{"--crush", filepath.Join(t.TempDir(), "missing"), "--pg-num", "8", "x"}, "cannot read"},
		{[]string{"--crush", garbage, "--pg-num", "8", "x"}, garbage},
		{[]string{"--crush", good, "--pg-num", "8"}, "OBJECT"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, append([]string{"osd", "map"}, c.args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Errorf("%v: exit %v, want status 1", c.args, err)
			continue
		}
		msg := stderr.String()
		if stdout.Len() != 0 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, c.want) ||
			strings.Contains(msg, "panic") {
			t.Errorf("%v: stdout %q stderr %q, want one line mentioning %q", c.args, stdout.String(), msg, c.want)
		}
	}
}

// Pools other than 1, from crushtool --test --pool-id vectors: with every
// OSD up and in, raw = up = acting = the crushtool mapping of x = PG seed.
func TestOSDMapOfflineOtherPools(t *testing.T) {
	bin := buildRadosctl(t)
	files, _ := filepath.Glob(filepath.Join(vectorsDir, "pools", "*.txt"))
	if len(files) == 0 {
		t.Fatal("no pool vectors")
	}
	hashes := rawHashes(t)
	names := make([]string, 0, len(hashes))
	for n := range hashes {
		names = append(names, n)
	}
	for _, f := range files {
		p, sets := crushtoolPoolVectors(t, f)
		for _, ext := range []string{".bin", ".txt"} {
			mapFile := filepath.Join(vectorsDir, "maps", p["map"]+ext)
			args := []string{"osd", "map", "--crush", mapFile, "--pool-id", p["pool"], "--pg-num", p["pg_num"], "--size", p["size"]}
			if p["out"] != "-1" {
				args = append(args, "--out", p["out"])
			}
			dump, err := exec.Command(bin, append(args, "--pgs")...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", f, err, dump)
			}
			var want strings.Builder
			for seed, set := range sets {
				pg := p["pool"] + "." + strconv.FormatUint(uint64(seed), 16)
				want.WriteString(pg + " raw " + set + " up " + set + " acting " + set + "\n")
			}
			if string(dump) != want.String() {
				t.Fatalf("%s %s: --pgs output differs\n got:\n%s\nwant:\n%s", f, ext, dump, want.String())
			}
			checkOtherPoolObjects(t, bin, args, p, sets, names, hashes)
		}
	}
}

// checkOtherPoolObjects maps every vector name in one run and checks each
// line against the folded PG and crushtool's mapping of that PG.
func checkOtherPoolObjects(t *testing.T, bin string, args []string, p map[string]string, sets []string, names []string, hashes map[string]uint32) {
	out, err := exec.Command(bin, append(args, names...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	pgNum, _ := strconv.ParseUint(p["pg_num"], 10, 32)
	mask := uint32(1)<<bitsLen(uint32(pgNum)-1) - 1
	rest := string(out)
	for _, name := range names {
		prefix := "osdmap e0 pool 'pool' (" + p["pool"] + ") object '" + name + "' -> pg " + p["pool"] + "."
		if !strings.HasPrefix(rest, prefix) {
			t.Fatalf("output does not start with %q:\n%.300s", prefix, rest)
		}
		rawText, _, _ := strings.Cut(rest[len(prefix):], " ")
		h := hashes[name]
		seed := h & mask
		if seed >= uint32(pgNum) {
			seed = h & (mask >> 1)
		}
		line := prefix + rawText + " (" + p["pool"] + "." + strconv.FormatUint(uint64(seed), 16) + ") -> up " +
			sets[seed] + " acting " + sets[seed] + "\n"
		if !strings.HasPrefix(rest, line) {
			t.Fatalf("object %q:\n got %.300s\nwant %s", name, rest, line)
		}
		rest = rest[len(line):]
	}
	if rest != "" {
		t.Fatalf("trailing output %q", rest)
	}
}

func bitsLen(x uint32) uint {
	n := uint(0)
	for ; x != 0; x >>= 1 {
		n++
	}
	return n
}

// crushtoolPoolVectors reads a pools/*.txt file: its header parameters and,
// per x, the "([..], pX)" text of the mapping.
func crushtoolPoolVectors(t *testing.T, path string) (map[string]string, []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	hdr := strings.Fields(strings.TrimPrefix(lines[0], "#"))
	p := map[string]string{}
	for i := 0; i+1 < len(hdr); i += 2 {
		p[hdr[i]] = hdr[i+1]
	}
	var sets []string
	for _, line := range lines[1:] {
		list := line[strings.LastIndexByte(line, ' ')+1:]
		primary := "-1"
		if inner := strings.Trim(list, "[]"); inner != "" {
			primary, _, _ = strings.Cut(inner, ",")
		}
		sets = append(sets, "("+list+", p"+primary+")")
	}
	return p, sets
}
