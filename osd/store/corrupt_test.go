package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// flipAll flips a byte at offset delta from every occurrence of marker in
// the store file (bbolt leaves stale copies of rewritten pages in free
// space; flipping all of them guarantees the live one is hit). It returns
// the number of occurrences.
func flipAll(t *testing.T, dir string, marker []byte, delta int) int {
	t.Helper()
	path := filepath.Join(dir, storeFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for i := 0; ; {
		j := bytes.Index(b[i:], marker)
		if j < 0 {
			break
		}
		// Patch in place: the file is mostly sparse space bbolt grew into.
		pos := int64(i + j + delta)
		if _, err := f.WriteAt([]byte{b[pos] ^ 0x20}, pos); err != nil {
			t.Fatal(err)
		}
		n++
		i += j + len(marker)
	}
	if n == 0 {
		t.Fatalf("marker %q not found in the store file", marker)
	}
	return n
}

func blockMarker(i int) []byte { return []byte(fmt.Sprintf("<BLOCK-%04d>", i)) }

// markedData is n blocks of bs bytes, block i filled with blockMarker(i).
func markedData(n, bs int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, bytes.Repeat(blockMarker(i), bs/12+1)[:bs]...)
	}
	return b
}

func wantCorrupt(t *testing.T, err error, name string, block int64) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error = %v, want a CorruptError", err)
	}
	if ce.Object.Name != name || ce.Block != block {
		t.Fatalf("CorruptError names object %q block %d, want %q block %d (%v)", ce.Object.Name, ce.Block, name, block, err)
	}
}

// TestFlippedByteIsDetected corrupts one byte of a data block, an xattr, an
// omap value, a PG log entry and an onode directly in the bbolt file, then
// checks each read returns ErrCorrupt naming what is bad and never the
// altered bytes, while intact neighbours still read.
func TestFlippedByteIsDetected(t *testing.T) {
	dir := t.TempDir()
	const bs = 4096
	s, err := Create(dir, Options{BlockSize: bs})
	if err != nil {
		t.Fatal(err)
	}
	data := markedData(4, bs)
	txn := NewTxn()
	txn.CreateCollection(testPG)
	txn.WriteFull(testPG, obj("victim"), data)
	txn.SetXattr(testPG, obj("victim"), "attr", []byte("<XATTR-MARKER>"))
	txn.OmapSet(testPG, obj("victim"), map[string][]byte{"k": []byte("<OMAP-MARKER>")})
	txn.AppendLog(testPG, EVersion{2, 9}, []byte("<LOG-MARKER>"))
	txn.Touch(testPG, obj("onode-victim"))
	mustApply(t, s, txn)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	flipAll(t, dir, blockMarker(2), 0) // every copy of the marker lies in block 2
	flipAll(t, dir, []byte("<XATTR-MARKER>"), 3)
	flipAll(t, dir, []byte("<OMAP-MARKER>"), 3)
	flipAll(t, dir, []byte("<LOG-MARKER>"), 3)
	// The onode value follows its key, which ends with the effective key
	// and the name (equal here), each ended by 0x00 0x01; then come the
	// crc and the payload.
	tail := []byte("onode-victim\x00\x01onode-victim\x00\x01")
	flipAll(t, dir, tail, len(tail)+crcLen+1)

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Read(bg, testPG, obj("victim"), 0, 0)
	wantCorrupt(t, err, "victim", 2)
	if got != nil {
		t.Fatal("a corrupt read returned bytes")
	}
	_, err = s.Read(bg, testPG, obj("victim"), 2*bs+5, 10)
	wantCorrupt(t, err, "victim", 2)
	part, err := s.Read(bg, testPG, obj("victim"), bs, bs)
	if err != nil {
		t.Fatalf("intact block 1: %v", err)
	}
	checkBytes(t, "intact block", part, data[bs:2*bs])

	_, err = s.GetXattr(bg, testPG, obj("victim"), "attr")
	wantCorrupt(t, err, "victim", -1)
	_, err = s.Xattrs(bg, testPG, obj("victim"))
	wantCorrupt(t, err, "victim", -1)
	_, err = s.OmapGet(bg, testPG, obj("victim"), "k")
	wantCorrupt(t, err, "victim", -1)
	_, _, err = s.OmapList(bg, testPG, obj("victim"), OmapListOptions{})
	wantCorrupt(t, err, "victim", -1)
	_, err = s.ReadLog(bg, testPG, EVersion{}, 0)
	wantErr(t, err, ErrCorrupt)
	_, err = s.Stat(bg, testPG, obj("onode-victim"))
	wantCorrupt(t, err, "onode-victim", -1)

	// A partial overwrite must not build on the corrupt block: it fails
	// and changes nothing. A whole-block overwrite replaces it.
	txn = NewTxn()
	txn.Write(testPG, obj("victim"), 2*bs+1, []byte("patch"))
	wantErr(t, s.Apply(bg, txn), ErrCorrupt)
	txn = NewTxn()
	txn.Write(testPG, obj("victim"), 2*bs, data[2*bs:3*bs])
	mustApply(t, s, txn)
	checkBytes(t, "healed", mustRead(t, s, testPG, obj("victim")), data)
}

// TestCorruptionNeverReturnsWrongBytes flips a byte at many positions of a
// block value, in the crc and across the payload (one object per
// position), and checks every read fails instead of returning altered
// data.
func TestCorruptionNeverReturnsWrongBytes(t *testing.T) {
	const bs = 4096
	deltas := []int{-4, -3, -1, 0, 1, 15, 2000, bs - 1}
	start := func(i int) []byte { return []byte(fmt.Sprintf("<PAYLOAD-START-%d>", i)) }
	dir := t.TempDir()
	s, err := Create(dir, Options{BlockSize: bs})
	if err != nil {
		t.Fatal(err)
	}
	txn := NewTxn()
	txn.CreateCollection(testPG)
	for i := range deltas {
		data := append(start(i), pattern(5, bs-len(start(i)))...)
		txn.WriteFull(testPG, obj(fmt.Sprint("v", i)), data)
	}
	mustApply(t, s, txn)
	s.Close()
	for i, delta := range deltas {
		// Negative deltas hit the stored crc just before the payload.
		flipAll(t, dir, start(i), delta)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, delta := range deltas {
		name := fmt.Sprint("v", i)
		got, err := s.Read(bg, testPG, obj(name), 0, 0)
		if got != nil {
			t.Fatalf("corruption at %d: read returned %d bytes (err %v)", delta, len(got), err)
		}
		wantCorrupt(t, err, name, 0)
	}
}
