package crush

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hasTreeShadow reports whether m has a shadow copy of a tree bucket, the
// one case where crushtool's binary holds uninitialised node weights
// (spec 4.5) and byte equality cannot be reached.
func hasTreeShadow(m *Map) bool {
	for _, b := range m.Buckets {
		if b != nil && b.Alg == AlgTree && strings.Contains(m.Names[b.ID], "~") {
			return true
		}
	}
	return false
}

// withoutTreeShadowNodes returns a copy of m whose tree shadow buckets have
// no node weights, for comparisons that must ignore crushtool's garbage.
func withoutTreeShadowNodes(m *Map) *Map {
	c := *m
	c.Buckets = append([]*Bucket(nil), m.Buckets...)
	for i, b := range c.Buckets {
		if b != nil && b.Alg == AlgTree && strings.Contains(m.Names[b.ID], "~") {
			nb := *b
			nb.NodeWeights = nil
			c.Buckets[i] = &nb
		}
	}
	return &c
}

// TestCompileGolden compiles every golden text map: encoding the result must
// give crushtool's binary byte for byte, and decoding crushtool's binary
// must give the compiled map after the decoder's choose_args clean-up.
func TestCompileGolden(t *testing.T) {
	for _, g := range goldenMaps(t) {
		m, err := Compile(g.read(t, ".txt"))
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		bin := g.read(t, ".bin")
		if enc := m.Encode(); !bytes.Equal(enc, bin) && !hasTreeShadow(m) {
			t.Errorf("%s: encoding differs from crushtool at byte %d of %d", g.name, firstDiff(enc, bin), len(bin))
		}
		decoded, err := Decode(bin)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		cleanChooseArgs(m)
		if d := diffMaps(withoutTreeShadowNodes(decoded), withoutTreeShadowNodes(m)); d != "" {
			t.Errorf("%s: decode(crushtool -c) != compile: %s", g.name, d)
		}
	}
}

// TestCompileErrors checks every map crushtool refuses: we must refuse it
// too, with crushtool's message (syntax errors have our own wording).
func TestCompileErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/formats/err/*.txt")
	for _, dir := range formatsDirs[1:] {
		errs, _ := filepath.Glob(filepath.Join(dir, "*.err"))
		for _, e := range errs {
			files = append(files, strings.TrimSuffix(e, ".err")+".txt")
		}
	}
	if len(files) < 60 {
		t.Fatalf("found only %d error maps", len(files))
	}
	for _, f := range files {
		src, _ := os.ReadFile(f)
		want, err := os.ReadFile(strings.TrimSuffix(f, ".txt") + ".err")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(want), "\n", 3)
		status, msg := lines[0], lines[1]
		_, err = Compile(src)
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want crushtool's %q", f, err, msg)
			continue
		}
		switch {
		case status != "exit 1":
			// crushtool crashed (for example on a keyword glued to its
			// argument); any clean error will do.
		case strings.Contains(msg, "parse error"):
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("%s: got %v, want a syntax error", f, err)
			}
		case msg == "":
			if !errors.Is(err, ErrUnknownClassSilent) {
				t.Errorf("%s: got %v, want the silent unknown-class failure", f, err)
			}
		case ce.Msg != msg || !errors.Is(err, ErrCompile):
			t.Errorf("%s: got %q, want %q", f, ce.Msg, msg)
		}
	}
}

// TestCompileSyntaxPositions checks that syntax errors point at the token
// that broke the grammar, as "<line>:<col>: ...".
func TestCompileSyntaxPositions(t *testing.T) {
	cases := []struct{ src, want string }{
		{"device 0 osd.0\nhost h {\n\talg straw2\n\titem osd.0 weight abc\n}\n",
			`4:20: syntax error: expected a number, found "abc"`},
		{"type 0 osd\nhost h~1 {\n", `2:6: syntax error: expected a name, found "h~1"`},
		{"type 0 osd\ntype 1 host\nhost h {\n\talg straw2\n}\ndevice 0 osd.0\n",
			`6:10: syntax error: expected "{", found "osd.0" (device lines must come before every bucket and rule)`},
		{"device0 osd.0", `1:14: syntax error: expected "{", found end of file ("device0" starts with the keyword "device"; separate the keyword from what follows)`},
		{"rule r {\n id 0\n type replicated\n min_size 1\n max_size 2\n}", `6:1: syntax error: expected "step", found "}"`},
		{"} ", `1:1: syntax error: expected a tunable, device, type, bucket, rule or choose_args statement, found "}"`},
	}
	for _, c := range cases {
		_, err := Compile([]byte(c.src))
		if !errors.Is(err, ErrSyntax) || err.Error() != c.want {
			t.Errorf("Compile(%q):\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}

func TestLoadDetectsFormat(t *testing.T) {
	txt, err := os.ReadFile("testdata/formats/ok/spec59.txt")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile("testdata/formats/ok/spec59.bin")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Load(txt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(bin)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffMaps(a, b); d != "" {
		t.Fatalf("text and binary loads differ: %s", d)
	}
	if _, err := Load(bin[:100]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated binary: %v", err)
	}
	if m, err := Load(nil); err != nil || len(m.Buckets) != 0 {
		t.Fatalf("empty input is an empty text map, as in crushtool: %v", err)
	}
}

// BenchmarkCompile compiles the deploy example (4 racks x 5 hosts x 12
// OSDs, 240 devices).
func BenchmarkCompile(b *testing.B) {
	src, err := os.ReadFile("../deploy/examples/crushmap.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Compile(src); err != nil {
			b.Fatal(err)
		}
	}
}
