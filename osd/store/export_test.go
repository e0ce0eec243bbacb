package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// fillPG gives collection c objects with data (with holes), xattrs, omap
// and headers, plus a PG log, info and keys.
func fillPG(t testing.TB, s *Store, c CollID) {
	t.Helper()
	txn := NewTxn()
	txn.SetMtime(time.Unix(1_700_000_000, 5))
	for i := 0; i < 12; i++ {
		o := ObjectID{Pool: c.Pool, Name: fmt.Sprint("obj-", i), Hash: uint32(i * 0x11111111)}
		if i%3 == 1 {
			o.Namespace = "ns"
		}
		if i%4 == 2 {
			o.Key = "locator"
		}
		switch i % 4 {
		case 0:
			txn.WriteFull(c, o, pattern(i, i*20_000))
		case 1:
			txn.Write(c, o, 300_000, pattern(i, 5000)) // a hole first
		case 2:
			txn.Touch(c, o)
		case 3:
			txn.WriteFull(c, o, pattern(i, 70_000))
			txn.Zero(c, o, 0, 65536)
		}
		txn.SetXattr(c, o, "_", []byte(fmt.Sprint("oi-", i)))
		if i%2 == 0 {
			txn.OmapSetHeader(c, o, []byte("header"))
			txn.OmapSet(c, o, map[string][]byte{"a": []byte("1"), fmt.Sprint("k", i): pattern(i, 100)})
		}
		txn.SetVersion(c, o, EVersion{3, uint64(i + 1)}, uint64(i+100))
	}
	for v := uint64(1); v <= 12; v++ {
		txn.AppendLog(c, EVersion{3, v}, []byte(fmt.Sprint("entry ", v)))
	}
	txn.SetPGInfo(c, []byte("pg info"))
	txn.SetPGMeta(c, "past_intervals", []byte("pi"))
	mustApply(t, s, txn)
}

// dumpPG returns everything a collection holds, for comparisons.
func dumpPG(t testing.TB, s *Store, c CollID) string {
	t.Helper()
	var b strings.Builder
	info, err := s.Collection(bg, c)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "coll %v %d %d %v created %v\n", info.ID, info.Objects, info.Bytes, info.Incomplete, info.Created.UnixNano())
	pginfo, _ := s.PGInfo(bg, c)
	meta, _ := s.PGMetaList(bg, c, "")
	log, _ := s.ReadLog(bg, c, EVersion{}, 0)
	fmt.Fprintf(&b, "info %q meta %q log %q\n", pginfo, meta, log)
	err = s.WalkObjects(bg, func(cc CollID, o ObjectID) error {
		if cc != c {
			return nil
		}
		d, err := s.DumpObject(bg, c, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%v %+v %x %q %q %q\n", o, d.Info, d.Data, d.Xattrs, d.OmapHeader, d.Omap)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func exportPG(t testing.TB, s *Store, c CollID) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.Export(bg, c, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportImportRoundTrip(t *testing.T) {
	src := newStore(t, Options{BlockSize: 16 << 10})
	fillPG(t, src, testPG)
	want := dumpPG(t, src, testPG)
	var buf bytes.Buffer
	st, err := src.Export(bg, testPG, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects != 12 || st.LogEntries != 12 {
		t.Fatalf("export stats %+v", st)
	}
	// Into a store with another block size: the stream is independent of it.
	dst, err := Create(t.TempDir(), Options{BlockSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	c, ist, err := dst.Import(bg, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if c != testPG || ist != st {
		t.Fatalf("import of %v stats %+v, export %+v", c, ist, st)
	}
	if got := dumpPG(t, dst, testPG); got != want {
		t.Fatalf("imported PG differs:\n got %s\nwant %s", got, want)
	}
	// Exporting the import and importing that elsewhere changes nothing.
	third := newStore(t, Options{})
	txn := NewTxn()
	txn.RemoveCollection(testPG)
	mustApply(t, third, txn)
	if _, _, err := third.Import(bg, bytes.NewReader(exportPG(t, dst, testPG))); err != nil {
		t.Fatal(err)
	}
	if got := dumpPG(t, third, testPG); got != want {
		t.Fatalf("second-generation import differs:\n got %s\nwant %s", got, want)
	}
	_, _, err = dst.Import(bg, bytes.NewReader(buf.Bytes()))
	wantErr(t, err, ErrExists)
	if got := dumpPG(t, dst, testPG); got != want {
		t.Fatal("a refused import changed the existing PG")
	}
}

// TestImportRejectsDamagedStreams truncates the stream at many points and
// flips bytes at many offsets: every import must fail with ErrBadExport and
// leave no collection behind.
func TestImportRejectsDamagedStreams(t *testing.T) {
	src := newStore(t, Options{})
	fillPG(t, src, testPG)
	stream := exportPG(t, src, testPG)
	dst := newStore(t, Options{})
	txn := NewTxn()
	txn.RemoveCollection(testPG)
	mustApply(t, dst, txn)
	before := snapshot(t, dst)
	try := func(what string, data []byte) {
		t.Helper()
		_, _, err := dst.Import(bg, bytes.NewReader(data))
		if !errors.Is(err, ErrBadExport) {
			t.Fatalf("%s: import error %v, want ErrBadExport", what, err)
		}
		if snapshot(t, dst) != before {
			t.Fatalf("%s: a failed import left data behind", what)
		}
	}
	step := len(stream)/23 + 1
	for cut := 0; cut < len(stream); cut += step {
		try(fmt.Sprintf("truncated at %d", cut), stream[:cut])
	}
	try("truncated by one byte", stream[:len(stream)-1])
	for off := 0; off < len(stream); off += step {
		bad := append([]byte{}, stream...)
		bad[off] ^= 0x01
		try(fmt.Sprintf("bit flipped at %d", off), bad)
	}
	try("trailing garbage", append(append([]byte{}, stream...), 0))
	try("empty", nil)
}

// TestImportRejectsWrongRecordOrder builds a stream with valid checksums
// whose records come out of order.
func TestImportRejectsWrongRecordOrder(t *testing.T) {
	var buf bytes.Buffer
	x := &exportWriter{w: bufioWriter(&buf)}
	x.w.WriteString(exportMagic)
	x.w.Write([]byte{0, 0, 0, exportVersion})
	e := enc{}
	e.svar(1)
	e.uvar(0x1a)
	e.svar(0)
	e.uvar(4096)
	x.record(recHeader, e.b)
	e = enc{}
	e.uvar(0)
	e.bytes([]byte("data before any object"))
	x.record(recData, e.b)
	x.w.Flush()
	dst := newStore(t, Options{})
	txn := NewTxn()
	txn.RemoveCollection(testPG)
	mustApply(t, dst, txn)
	_, _, err := dst.Import(bg, &buf)
	wantErr(t, err, ErrBadExport)
	if _, err := dst.Collection(bg, testPG); !errors.Is(err, ErrNoCollection) {
		t.Fatalf("failed import left the collection: %v", err)
	}
}

func TestExportRefusesCorruptAndIncomplete(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Options{BlockSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	txn := NewTxn()
	txn.CreateCollection(testPG)
	txn.WriteFull(testPG, obj("v"), markedData(2, 4096))
	mustApply(t, s, txn)
	s.Close()
	flipAll(t, dir, blockMarker(1), 0)
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Export(bg, testPG, io.Discard)
	wantCorrupt(t, err, "v", 1)

	txn = NewTxn()
	txn.CreateCollection(PG(1, 2))
	txn.setCollFlags(PG(1, 2), collFlagIncomplete)
	mustApply(t, s, txn)
	_, err = s.Export(bg, PG(1, 2), io.Discard)
	wantErr(t, err, ErrIncomplete)
	info, _ := s.Collection(bg, PG(1, 2))
	if !info.Incomplete {
		t.Fatal("incomplete flag not reported")
	}
	if err := s.PurgeCollection(bg, PG(1, 2)); err != nil {
		t.Fatal(err)
	}
}

func TestPurgeCollection(t *testing.T) {
	s := newStore(t, Options{})
	txn := NewTxn()
	for i := 0; i < 600; i++ {
		txn.Write(testPG, obj(fmt.Sprint("p", i)), 0, []byte("x"))
	}
	txn.AppendLog(testPG, EVersion{1, 1}, nil)
	mustApply(t, s, txn)
	if err := s.PurgeCollection(bg, testPG); err != nil {
		t.Fatal(err)
	}
	_, err := s.Collection(bg, testPG)
	wantErr(t, err, ErrNoCollection)
	fresh := newStore(t, Options{})
	txn = NewTxn()
	txn.RemoveCollection(testPG)
	mustApply(t, fresh, txn)
	// Nothing of the purged collection is left: the stores differ only in
	// their meta bucket (nid counter, creation time) and meta collection.
	if a, b := stripMeta(snapshot(t, s)), stripMeta(snapshot(t, fresh)); a != b {
		t.Fatalf("purge left data:\n%s\nvs\n%s", a, b)
	}
}

func stripMeta(snap string) string {
	var out []string
	for _, line := range strings.Split(snap, "\n") {
		if !strings.HasPrefix(line, "meta ") && !strings.HasPrefix(line, fmt.Sprintf("colls %x ", collKey(MetaColl))) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestDumpObjectAndWalk(t *testing.T) {
	s := newStore(t, Options{})
	fillPG(t, s, testPG)
	n := 0
	err := s.WalkObjects(bg, func(c CollID, o ObjectID) error { n++; return nil })
	if err != nil || n != 12 {
		t.Fatalf("walked %d objects, %v", n, err)
	}
	stop := errors.New("stop")
	if err := s.WalkObjects(bg, func(CollID, ObjectID) error { return stop }); err != stop {
		t.Fatalf("walk did not stop: %v", err)
	}
	o := ObjectID{Pool: 1, Name: "obj-0", Hash: 0}
	d, err := s.DumpObject(bg, testPG, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Data) != 0 || string(d.Xattrs["_"]) != "oi-0" || string(d.OmapHeader) != "header" || len(d.Omap) != 2 {
		t.Fatalf("dump = %+v", d)
	}
	_, err = s.DumpObject(bg, testPG, obj("missing"))
	wantErr(t, err, ErrNotFound)
}
