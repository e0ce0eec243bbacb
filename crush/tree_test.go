package crush

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestTreeGolden prints every golden map as a tree and compares with
// `crushtool --tree` byte for byte (maps with and without classes, shadows
// and choose_args columns).
func TestTreeGolden(t *testing.T) {
	for _, g := range goldenMaps(t) {
		m, err := Decode(g.read(t, ".bin"))
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		var got bytes.Buffer
		if err := m.WriteTree(&got); err != nil {
			t.Fatal(err)
		}
		want := g.read(t, ".tree")
		if !bytes.Equal(got.Bytes(), want) {
			n := diffLine(got.Bytes(), want)
			t.Errorf("%s: tree differs from crushtool --tree at line %d:\n got %q\nwant %q",
				g.name, n, lineAt(got.Bytes(), n), lineAt(want, n))
		}
	}
}

// TestTreeCrafted covers what text maps cannot express, with crushtool's
// output for binaries written by Encode: weights that float32 rounds,
// negative item weights ("-" and "0"), a nameless type and bucket, and an
// unnamed device (always shown as osd.<id>).
func TestTreeCrafted(t *testing.T) {
	m, err := Compile([]byte("device 0 osd.0\ndevice 1 osd.1\ndevice 2 osd.2\ndevice 3 osd.3\n" +
		"type 0 osd\ntype 1 host\ntype 9 root\n" +
		"host h {\n\tid -1\n\talg straw2\n\titem osd.0 weight 1\n\titem osd.1 weight 1\n\titem osd.3 weight 1\n}\n" +
		"root r {\n\tid -2\n\talg straw2\n\titem h\n\titem osd.2\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	delete(m.TypeNames, 9)
	delete(m.Names, -2)
	delete(m.Names, 3)
	m.Buckets[0].ItemWeights[0] = 0xffffffff - 720 // -0.011
	m.Buckets[0].ItemWeights[1] = 0xffffffff - 589 // -0.009
	m.Buckets[0].ItemWeights[2] = 16777219         // float32 rounds to 256.00006
	want := "ID  CLASS  WEIGHT     TYPE NAME    \n" +
		"-2           4.00000               \n" +
		"-1           3.00000      host h   \n" +
		" 0                 -          osd.0\n" +
		" 1                 0          osd.1\n" +
		" 3         256.00006          osd.3\n" +
		" 2           1.00000      osd.2    \n"
	var got bytes.Buffer
	if err := m.WriteTree(&got); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", got.String(), want)
	}
}

func TestTreeEmptyMap(t *testing.T) {
	var got bytes.Buffer
	if err := NewMap().WriteTree(&got); err != nil {
		t.Fatal(err)
	}
	if got.String() != "ID  CLASS  WEIGHT  TYPE NAME\n" {
		t.Fatalf("got %q", got.String())
	}
}

// TestTreeSharedLevels builds 40 levels of two buckets that both list both
// buckets of the level below: 2^40 rows in crushtool. We must refuse fast.
func TestTreeSharedLevels(t *testing.T) {
	m := NewMap()
	m.TypeNames[1] = "host"
	for level := 0; level < 40; level++ {
		for k := 0; k < 2; k++ {
			id := int32(-1 - 2*level - k)
			b := &Bucket{ID: id, Type: 1, Alg: AlgStraw2}
			if level > 0 {
				b.Items = []int32{int32(-1 - 2*(level-1)), int32(-2 - 2*(level-1))}
				b.ItemWeights = []uint32{0, 0}
			}
			if err := placeBucket(m, b); err != nil {
				t.Fatal(err)
			}
			m.Names[id] = fmt.Sprintf("b%d", -id)
		}
	}
	if err := m.WriteTree(io.Discard); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}
