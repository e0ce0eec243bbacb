package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Fuzz targets for every decoder of bytes read from disk or from an export
// stream. Run one with e.g.
//
//	go test ./osd/store -run '^$' -fuzz '^FuzzImport$' -fuzztime 60s -fuzzminimizetime 2s
//
// (the default minimization budget of 60 s per new input dominates runs
// of targets that do I/O)
//
// Crashing inputs found are kept under testdata/fuzz/<Target>/ and rerun by
// plain `go test` as regression cases.

func FuzzDecodeOnode(f *testing.F) {
	f.Add((&onode{nid: 1}).encode())
	f.Add((&onode{nid: 77, size: 1 << 27, mtime: time.Unix(5, 6), version: EVersion{3, 9}, userVersion: 12}).encode())
	f.Add([]byte{onodeFormat, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, p []byte) {
		n, err := decodeOnode(p)
		if err != nil {
			return
		}
		again, err := decodeOnode(n.encode())
		if err != nil || again != n {
			t.Fatalf("onode %+v does not round-trip: %+v %v", n, again, err)
		}
	})
}

func FuzzDecodeCollRecord(f *testing.F) {
	f.Add((&collRecord{}).encode())
	f.Add((&collRecord{created: time.Unix(1, 2), objects: 3, bytes: 4, flags: collFlagIncomplete}).encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := decodeCollRecord(p)
		if err != nil {
			return
		}
		again, err := decodeCollRecord(r.encode())
		if err != nil || again != r {
			t.Fatalf("collection record %+v does not round-trip: %+v %v", r, again, err)
		}
	})
}

// FuzzDecodeObjKey checks the onode key decoder accepts only canonical
// keys: whatever it decodes re-encodes to the same bytes, so two keys can
// never name one object.
func FuzzDecodeObjKey(f *testing.F) {
	f.Add(appendObjSuffix(nil, ObjectID{Pool: 1, Name: "a", Key: "k", Namespace: "n", Hash: 7}))
	f.Add(appendObjSuffix(nil, ObjectID{Pool: 1, Name: "a\x00b"}))
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeObjSuffix(1, b)
		if err != nil {
			return
		}
		if again := appendObjSuffix(nil, o); !bytes.Equal(again, b) {
			t.Fatalf("key %x decodes to %v which encodes to %x", b, o, again)
		}
	})
}

func FuzzUnseal(f *testing.F) {
	f.Add([]byte("key"), seal([]byte("key"), []byte("payload")))
	f.Add([]byte{}, sealBlock([]byte("block")))
	f.Fuzz(func(t *testing.T, key, v []byte) {
		if p, err := unseal(key, v); err == nil && !bytes.Equal(seal(key, p), v) {
			t.Fatal("unsealed value does not reseal to itself")
		}
		if p, err := unsealBlock(v, minBlockSize); err == nil && !bytes.Equal(sealBlock(p), v) {
			t.Fatal("unsealed block does not reseal to itself")
		}
	})
}

// FuzzExtentRef decodes arbitrary bucketExtents values: a value that
// decodes must encode back to itself, and nothing may panic.
func FuzzExtentRef(f *testing.F) {
	key := blockKey(7, 3)
	f.Add(key, sealExtentRef(key, extentRef{unit: 42, length: minBlockSize, crc: 0xdeadbeef}))
	f.Add([]byte{}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, key, v []byte) {
		r, err := unsealExtentRef(key, v, minBlockSize)
		if err == nil && !bytes.Equal(sealExtentRef(key, r), v) {
			t.Fatal("decoded reference does not encode to itself")
		}
	})
}

// FuzzStoredOnode stores a crc-valid but arbitrary onode payload and
// exercises every reader of it: nothing may panic or allocate without
// bound, and failures must be typed.
func FuzzStoredOnode(f *testing.F) {
	f.Add((&onode{nid: 5, size: 100}).encode())
	f.Add((&onode{nid: 5, size: objectSizeCeiling}).encode())
	f.Add((&onode{nid: 1<<63 + 1, size: 1 << 30}).encode())
	s := newStore(f, Options{BlockSize: 4096})
	s.db.NoSync = true
	txn := NewTxn()
	txn.WriteFull(testPG, obj("x"), pattern(1, 10_000))
	txn.SetXattr(testPG, obj("x"), "a", []byte("b"))
	mustApply(f, s, txn)
	key := objKey(testPG, obj("x"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		err := s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketOnodes).Put(key, seal(key, payload))
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Read(bg, testPG, obj("x"), 0, 0)
		checkTyped(t, err)
		_, err = s.Read(bg, testPG, obj("x"), 1<<40, 10)
		checkTyped(t, err)
		_, err = s.DumpObject(bg, testPG, obj("x"))
		checkTyped(t, err)
		_, err = s.Export(bg, testPG, io.Discard)
		checkTyped(t, err)
		txn := NewTxn()
		txn.Write(testPG, obj("x"), 5000, []byte("overwrite"))
		txn.Truncate(testPG, obj("x"), 3)
		checkTyped(t, s.Apply(bg, txn))
	})
}

func checkTyped(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("untyped error: %v", err)
	}
}

// FuzzImport imports arbitrary streams (seeded with real exports) into a
// real store: an import either succeeds and exports again, or fails with a
// typed error and leaves no collection behind.
func FuzzImport(f *testing.F) {
	small := newStore(f, Options{BlockSize: 4096})
	tinyPG(f, small)
	var one bytes.Buffer
	if _, err := small.Export(bg, testPG, &one); err != nil {
		f.Fatal(err)
	}
	f.Add(one.Bytes())
	f.Add([]byte(exportMagic + "\x00\x00\x00\x01"))

	dst := newStore(f, Options{Limits: Limits{ObjectSize: 4 << 20}})
	dst.db.NoSync = true
	rm := NewTxn()
	rm.RemoveCollection(testPG)
	mustApply(f, dst, rm)
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, _, err := dst.Import(bg, bytes.NewReader(stream))
		if err != nil {
			if !errors.Is(err, ErrBadExport) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrExists) {
				t.Fatalf("untyped import error: %v", err)
			}
			colls, lerr := dst.ListCollections(bg)
			if lerr != nil || len(colls) != 1 {
				t.Fatalf("failed import left collections behind: %+v %v", colls, lerr)
			}
			return
		}
		if _, err := dst.Export(bg, c, io.Discard); err != nil {
			t.Fatalf("imported collection does not export: %v", err)
		}
		if err := dst.PurgeCollection(bg, c); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzExportRecords drives the record reader and the importer's record
// decoding without a store, for speed: records are only validated.
func FuzzExportRecords(f *testing.F) {
	s := newStore(f, Options{BlockSize: 4096})
	tinyPG(f, s)
	var buf bytes.Buffer
	if _, err := s.Export(bg, testPG, &buf); err != nil {
		f.Fatal(err)
	}
	// Small seeds: the fuzzer mutates large inputs very slowly.
	f.Add(buf.Bytes()[len(exportMagic)+4:])
	f.Fuzz(func(t *testing.T, records []byte) {
		x := &exportReader{r: bufio.NewReader(bytes.NewReader(records))}
		kind, p, err := x.next()
		if err != nil || kind != recHeader {
			return
		}
		h, err := decodeExportHeader(p)
		if err != nil {
			return
		}
		im := &importer{s: s, ctx: bg, c: h.coll, txn: NewTxn(), phase: recPGInfo,
			apply: func(_ context.Context, txn *Txn) error { return s.validate(txn) }}
		if err := im.run(x); err != nil && !errors.Is(err, ErrBadExport) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("untyped error: %v", err)
		}
	})
}

// tinyPG fills testPG with a few small objects using every record kind, for
// fuzz seeds.
func tinyPG(t testing.TB, s *Store) {
	txn := NewTxn()
	txn.Write(testPG, obj("one"), 4090, []byte("data across a block boundary"))
	txn.SetXattr(testPG, obj("one"), "_", []byte("oi"))
	txn.OmapSetHeader(testPG, obj("one"), []byte("h"))
	txn.OmapSet(testPG, obj("one"), map[string][]byte{"k": []byte("v")})
	txn.Touch(testPG, ObjectID{Pool: 1, Name: "two", Key: "loc", Namespace: "ns", Hash: 9})
	txn.AppendLog(testPG, EVersion{1, 1}, []byte("e"))
	txn.SetPGInfo(testPG, []byte("info"))
	txn.SetPGMeta(testPG, "k", []byte("v"))
	mustApply(t, s, txn)
}
