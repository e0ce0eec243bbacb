package crush

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// addFormatSeeds seeds a fuzz target with every golden and refused map of
// testdata/formats (text and binary alike: each target gets both, since
// Load accepts both and the mutations cross over).
func addFormatSeeds(f *testing.F) {
	for _, pattern := range []string{"ok/*", "random/*.txt", "random/*.bin", "err/*.txt"} {
		files, _ := filepath.Glob(filepath.Join("testdata/formats", pattern))
		for _, file := range files {
			if ext := filepath.Ext(file); ext != ".txt" && ext != ".bin" {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the binary decoder. It must never
// panic, and a map it accepts must survive encode -> decode unchanged and
// print as text, tree and JSON without panicking.
func FuzzDecode(f *testing.F) {
	addFormatSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		enc := m.Encode()
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding our own encoding: %v", err)
		}
		if d := diffMaps(m, m2); d != "" {
			t.Fatalf("decode(encode(m)) != m: %s", d)
		}
		if !bytes.Equal(m2.Encode(), enc) {
			t.Fatal("encoding is not stable")
		}
		exercisePrinters(t, m)
	})
}

// FuzzCompile feeds arbitrary text to the compiler. It must never panic; a
// map it accepts must encode and decode back to itself (after the decoder's
// choose_args clean-up), and when its text is lossless (weights in
// thousandths, see losslessText) decompile and recompile to the same map,
// up to the numbering of device classes (see canonicalClasses).
func FuzzCompile(f *testing.F) {
	addFormatSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := Compile(src)
		if err != nil {
			return
		}
		decoded, err := Decode(m.Encode())
		if err != nil {
			t.Fatalf("decoding the compiled map: %v", err)
		}
		exercisePrinters(t, m)
		text := m.Decompile()
		cleanChooseArgs(m)
		if d := diffMaps(decoded, m); d != "" {
			t.Fatalf("decode(encode(compile)) != compile: %s", d)
		}
		if !exactThousandths(m) || !losslessText(m) {
			return
		}
		m2, err := Compile(text)
		if err != nil {
			t.Fatalf("recompiling the decompiled text: %v\n%s", err, text)
		}
		cleanChooseArgs(m2)
		if d := diffMaps(canonicalClasses(withoutTreeShadowNodes(m)), canonicalClasses(withoutTreeShadowNodes(m2))); d != "" {
			t.Fatalf("compile(decompile(m)) != m: %s\n%s", d, text)
		}
	})
}

// exercisePrinters runs the text, tree and JSON printers; only panics
// matter. The JSON dump lists every device id below max_devices, so it is
// skipped for maps with absurd device ids.
func exercisePrinters(t *testing.T, m *Map) {
	_ = m.WriteText(io.Discard)
	_ = m.WriteTree(io.Discard)
	if m.MaxDevices < 1<<16 {
		if _, err := m.DumpJSON(); err != nil {
			t.Fatal(err)
		}
	}
}
