package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestCreateOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir, Options{})
	wantErr(t, err, ErrNoStore)
	s, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Create(dir, Options{})
	wantErr(t, err, ErrStoreExists)
	_, err = Open(dir, Options{LockTimeout: 50 * time.Millisecond})
	wantErr(t, err, ErrLocked)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Close(), ErrClosed)
	_, err = s.Stat(bg, MetaColl, ObjectID{Pool: -1, Name: "x"})
	wantErr(t, err, ErrClosed)
	_, err = Create(t.TempDir(), Options{BlockSize: 3000})
	wantErr(t, err, ErrInvalid)

	// A file that is not a bbolt database is refused, not misread.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, storeFileName), make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(bad, Options{})
	wantErr(t, err, ErrFormat)
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Options{BlockSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	txn := NewTxn()
	txn.CreateCollection(testPG)
	data := pattern(1, 100_000)
	txn.WriteFull(testPG, obj("a"), data)
	txn.SetXattr(testPG, obj("a"), "_", []byte("oi"))
	txn.OmapSet(testPG, obj("a"), map[string][]byte{"k": []byte("v")})
	txn.AppendLog(testPG, EVersion{3, 1}, []byte("entry"))
	mustApply(t, s, txn)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{BlockSize: 4096}) // the stored block size wins
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.BlockSize() != 16<<10 {
		t.Fatalf("block size %d after reopen, want 16 KiB", s.BlockSize())
	}
	checkBytes(t, "data", mustRead(t, s, testPG, obj("a")), data)
	x, err := s.GetXattr(bg, testPG, obj("a"), "_")
	if err != nil || string(x) != "oi" {
		t.Fatalf("xattr = %q, %v", x, err)
	}
	// A new object after reopen gets a fresh nid: its data must not mix
	// with a's.
	txn = NewTxn()
	txn.WriteFull(testPG, obj("b"), []byte("bee"))
	mustApply(t, s, txn)
	checkBytes(t, "a after b", mustRead(t, s, testPG, obj("a")), data)
}

// model is the reference the randomized test compares the store with.
type model map[string][]byte

// TestDataOpsAgainstModel applies random writes, full writes, appends,
// truncates, zeroes and removes to a few objects with small blocks and
// checks every object's bytes and size against a plain byte-slice model
// after each transaction.
//
// It runs with data inline only, with every whole block going to the block
// file, and with the block file written without O_DIRECT (as on tmpfs);
// the block file variants also check its allocation after every step and
// reopen the store halfway.
func TestDataOpsAgainstModel(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min      int
		noDirect bool
		cache    int64
	}{{"inline", -1, false, 0}, {"block file", 4096, false, 0}, {"block file without O_DIRECT", 8192, true, 0},
		{"block file with a small cache", 4096, false, 32 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			defer setNoDirectIO(tc.noDirect)()
			runModel(t, Options{BlockSize: 4096, BlockFileMin: tc.min, CacheBytes: tc.cache, Limits: Limits{ObjectSize: 128 << 10}})
		})
	}
}

func runModel(t *testing.T, opts Options) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("GORADOS_TEST_SEED"); v != "" { // replay a failure
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("GORADOS_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (GORADOS_TEST_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	s := newStore(t, opts)
	m := model{}
	names := []string{"o1", "o2", "o3"}
	for step := 0; step < 200; step++ {
		txn := NewTxn()
		for n := 1 + rng.IntN(3); n > 0; n-- {
			randomDataOp(rng, txn, m, names[rng.IntN(len(names))])
		}
		if err := s.Apply(bg, txn); err != nil {
			t.Fatalf("seed %d step %d: %v", seed, step, err)
		}
		where := fmt.Sprintf("seed %d step %d", seed, step)
		for _, name := range names {
			checkAgainstModel(t, s, m, name, where)
		}
		checkAllocation(t, s, where)
		if step == 100 {
			s = reopen(t, s, opts)
			checkAllocation(t, s, where+" after reopen")
		}
	}
	info, err := s.Collection(bg, testPG)
	if err != nil {
		t.Fatal(err)
	}
	var objects, size uint64
	for _, b := range m {
		objects++
		size += uint64(len(b))
	}
	if info.Objects != objects || info.Bytes != size {
		t.Fatalf("collection counts %d objects %d bytes, model %d %d", info.Objects, info.Bytes, objects, size)
	}
}

func randomDataOp(rng *rand.Rand, txn *Txn, m model, name string) {
	o := obj(name)
	cur, exists := m[name]
	off := uint64(rng.IntN(40 << 10))
	data := pattern(rng.IntN(1000), rng.IntN(20<<10))
	switch k := rng.IntN(7); {
	case k == 0:
		txn.Write(testPG, o, off, data)
		if len(data) > 0 { // an empty write changes no size
			if end := int(off) + len(data); end > len(cur) {
				cur = append(cur, make([]byte, end-len(cur))...)
			}
			copy(cur[off:], data)
		}
	case k == 1:
		txn.WriteFull(testPG, o, data)
		cur = append([]byte{}, data...)
	case k == 2 && len(cur) < 64<<10:
		txn.Append(testPG, o, data[:min(len(data), 3000)])
		cur = append(cur, data[:min(len(data), 3000)]...)
	case k == 3 && exists:
		txn.Truncate(testPG, o, off)
		if int(off) <= len(cur) {
			cur = cur[:off]
		} else {
			cur = append(cur, make([]byte, int(off)-len(cur))...)
		}
	case k == 4:
		length := uint64(rng.IntN(30 << 10))
		txn.Zero(testPG, o, off, length)
		if int(off) < len(cur) {
			clear(cur[off:min(uint64(len(cur)), off+length)])
		}
	case k == 5 && exists:
		txn.Remove(testPG, o)
		delete(m, name)
		return
	default:
		txn.Touch(testPG, o)
	}
	if cur == nil {
		cur = []byte{}
	}
	m[name] = cur
}

func checkAgainstModel(t *testing.T, s *Store, m model, name, where string) {
	t.Helper()
	want, exists := m[name]
	info, err := s.Stat(bg, testPG, obj(name))
	if !exists {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: %s should not exist: %v", where, name, err)
		}
		return
	}
	if err != nil || info.Size != uint64(len(want)) {
		t.Fatalf("%s: stat %s = %d, %v; want size %d", where, name, info.Size, err, len(want))
	}
	checkBytes(t, where+" "+name, mustRead(t, s, testPG, obj(name)), want)
	off := uint64(len(want) / 3)
	part, err := s.Read(bg, testPG, obj(name), off, 5000)
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, where+" partial read of "+name, part, want[off:min(len(want), int(off)+5000)])
}

func TestReadRanges(t *testing.T) {
	s := newStore(t, Options{BlockSize: 4096})
	data := pattern(7, 10_000)
	txn := NewTxn()
	txn.WriteFull(testPG, obj("r"), data)
	mustApply(t, s, txn)
	for _, tc := range []struct{ off, length, want uint64 }{
		{0, 0, 10_000}, {0, 1, 1}, {9_999, 0, 1}, {9_999, 100, 1}, {10_000, 0, 0},
		{20_000, 5, 0}, {4095, 2, 2}, {4096, 4096, 4096}, {100, 1 << 40, 9_900},
	} {
		got, err := s.Read(bg, testPG, obj("r"), tc.off, tc.length)
		if err != nil || uint64(len(got)) != tc.want {
			t.Fatalf("Read(%d, %d) = %d bytes, %v; want %d", tc.off, tc.length, len(got), err, tc.want)
		}
		start := min(tc.off, uint64(len(data)))
		checkBytes(t, "range", got, data[start:start+tc.want])
	}
}

func TestObjectCreationRules(t *testing.T) {
	s := newStore(t, Options{})
	o := obj("c")
	for _, add := range []func(*Txn){
		func(x *Txn) { x.Truncate(testPG, o, 10) },
		func(x *Txn) { x.SetXattr(testPG, o, "a", nil) },
		func(x *Txn) { x.OmapSet(testPG, o, map[string][]byte{"k": nil}) },
		func(x *Txn) { x.SetVersion(testPG, o, EVersion{1, 1}, 1) },
		func(x *Txn) { x.Remove(testPG, o) },
	} {
		txn := NewTxn()
		add(txn)
		wantErr(t, s.Apply(bg, txn), ErrNotFound)
	}
	txn := NewTxn()
	txn.Create(testPG, o)
	mustApply(t, s, txn)
	txn = NewTxn()
	txn.Create(testPG, o)
	wantErr(t, s.Apply(bg, txn), ErrExists)
	// Remove then Create in one transaction is a fresh object.
	txn = NewTxn()
	txn.Write(testPG, o, 0, []byte("old"))
	mustApply(t, s, txn)
	txn = NewTxn()
	txn.Remove(testPG, o)
	txn.Create(testPG, o)
	txn.Write(testPG, o, 5, []byte("x"))
	mustApply(t, s, txn)
	checkBytes(t, "recreated", mustRead(t, s, testPG, o), []byte("\x00\x00\x00\x00\x00x"))

	txn = NewTxn()
	txn.Write(PG(1, 2), obj("nocoll"), 0, []byte("x"))
	wantErr(t, s.Apply(bg, txn), ErrNoCollection)
}

func TestXattrsAndOmap(t *testing.T) {
	s := newStore(t, Options{})
	o := obj("meta-rich")
	txn := NewTxn()
	txn.Touch(testPG, o)
	txn.SetXattr(testPG, o, "_", []byte("object-info"))
	txn.SetXattr(testPG, o, "snapset", []byte("ss"))
	txn.OmapSetHeader(testPG, o, []byte("hdr"))
	kv := map[string][]byte{}
	for i := 0; i < 50; i++ {
		kv[fmt.Sprintf("key%03d", i)] = []byte(fmt.Sprint(i))
	}
	kv["other"] = []byte("o")
	txn.OmapSet(testPG, o, kv)
	txn.SetVersion(testPG, o, EVersion{7, 42}, 99)
	mustApply(t, s, txn)

	attrs, err := s.Xattrs(bg, testPG, o)
	if err != nil || len(attrs) != 2 || string(attrs["snapset"]) != "ss" {
		t.Fatalf("Xattrs = %q, %v", attrs, err)
	}
	info, _ := s.Stat(bg, testPG, o)
	if info.Version != (EVersion{7, 42}) || info.UserVersion != 99 {
		t.Fatalf("versions = %v %d", info.Version, info.UserVersion)
	}
	page, more, err := s.OmapList(bg, testPG, o, OmapListOptions{Prefix: "key", After: "key009", Limit: 5})
	if err != nil || !more || len(page) != 5 || page[0].Key != "key010" || string(page[4].Value) != "14" {
		t.Fatalf("OmapList page = %+v more=%v err=%v", page, more, err)
	}
	page, more, _ = s.OmapList(bg, testPG, o, OmapListOptions{Prefix: "key", After: "key045", KeysOnly: true})
	if more || len(page) != 4 || page[3].Key != "key049" || page[0].Value != nil {
		t.Fatalf("last OmapList page = %+v more=%v", page, more)
	}
	got, _ := s.OmapGet(bg, testPG, o, "other", "missing")
	if len(got) != 1 || string(got["other"]) != "o" {
		t.Fatalf("OmapGet = %q", got)
	}

	txn = NewTxn()
	txn.RmXattr(testPG, o, "snapset")
	txn.OmapRm(testPG, o, "other", "never-there")
	txn.OmapRmRange(testPG, o, "key010", "key040")
	mustApply(t, s, txn)
	all, _, _ := s.OmapList(bg, testPG, o, OmapListOptions{})
	if len(all) != 20 {
		t.Fatalf("%d omap keys left, want 20", len(all))
	}
	_, err = s.GetXattr(bg, testPG, o, "snapset")
	wantErr(t, err, ErrNoXattr)
	txn = NewTxn()
	txn.RmXattr(testPG, o, "snapset")
	wantErr(t, s.Apply(bg, txn), ErrNoXattr)

	txn = NewTxn()
	txn.OmapClear(testPG, o)
	mustApply(t, s, txn)
	all, _, _ = s.OmapList(bg, testPG, o, OmapListOptions{})
	hdr, _ := s.OmapHeader(bg, testPG, o)
	if len(all) != 0 || hdr != nil {
		t.Fatalf("after clear: %d keys, header %q", len(all), hdr)
	}

	// Remove drops xattrs and omap with the object; a new object of the
	// same name starts bare.
	txn = NewTxn()
	txn.OmapSet(testPG, o, map[string][]byte{"k": []byte("v")})
	txn.Remove(testPG, o)
	txn.Touch(testPG, o)
	mustApply(t, s, txn)
	attrs, _ = s.Xattrs(bg, testPG, o)
	all, _, _ = s.OmapList(bg, testPG, o, OmapListOptions{})
	if len(attrs) != 0 || len(all) != 0 {
		t.Fatalf("recreated object kept %d xattrs and %d omap keys", len(attrs), len(all))
	}
}

func TestPGLogInfoMeta(t *testing.T) {
	s := newStore(t, Options{})
	txn := NewTxn()
	for v := uint64(1); v <= 10; v++ {
		txn.AppendLog(testPG, EVersion{5, v}, []byte(fmt.Sprint("e", v)))
	}
	txn.AppendLog(testPG, EVersion{6, 1}, []byte("e6.1"))
	txn.SetPGInfo(testPG, []byte("info-1"))
	txn.SetPGMeta(testPG, "past_intervals", []byte("pi"))
	txn.SetPGMeta(testPG, "dup.1", []byte("d1"))
	mustApply(t, s, txn)

	log, err := s.ReadLog(bg, testPG, EVersion{5, 4}, 3)
	if err != nil || len(log) != 3 || log[0].Version != (EVersion{5, 4}) || string(log[2].Data) != "e6" {
		t.Fatalf("ReadLog = %+v, %v", log, err)
	}
	first, last, ok, err := s.LogBounds(bg, testPG)
	if err != nil || !ok || first != (EVersion{5, 1}) || last != (EVersion{6, 1}) {
		t.Fatalf("LogBounds = %v %v %v %v", first, last, ok, err)
	}

	txn = NewTxn()
	txn.AppendLog(testPG, EVersion{5, 3}, []byte("dup"))
	wantErr(t, s.Apply(bg, txn), ErrExists)

	txn = NewTxn()
	txn.TrimLog(testPG, EVersion{5, 7})
	txn.RewindLog(testPG, EVersion{5, 9})
	txn.SetPGInfo(testPG, []byte("info-2"))
	txn.RmPGMeta(testPG, "dup.1")
	mustApply(t, s, txn)
	log, _ = s.ReadLog(bg, testPG, EVersion{}, 0)
	if len(log) != 2 || log[0].Version != (EVersion{5, 8}) || log[1].Version != (EVersion{5, 9}) {
		t.Fatalf("log after trim and rewind = %+v", log)
	}
	info, _ := s.PGInfo(bg, testPG)
	meta, _ := s.PGMetaList(bg, testPG, "")
	if string(info) != "info-2" || len(meta) != 1 || string(meta["past_intervals"]) != "pi" {
		t.Fatalf("info %q meta %q", info, meta)
	}
	_, err = s.PGMeta(bg, testPG, "dup.1")
	wantErr(t, err, ErrNotFound)

	// Removing the collection takes its log, info and keys with it; a new
	// collection of the same id starts empty.
	txn = NewTxn()
	txn.RemoveCollection(testPG)
	txn.CreateCollection(testPG)
	mustApply(t, s, txn)
	_, _, ok, _ = s.LogBounds(bg, testPG)
	_, err = s.PGInfo(bg, testPG)
	if ok || !errors.Is(err, ErrNotFound) {
		t.Fatalf("recreated collection kept its log (%v) or info (%v)", ok, err)
	}
}

func TestCollections(t *testing.T) {
	s := newStore(t, Options{})
	txn := NewTxn()
	txn.CreateCollection(PG(2, 7))
	txn.CreateCollection(PG(0, 3))
	mustApply(t, s, txn)
	txn = NewTxn()
	txn.CreateCollection(PG(0, 3))
	wantErr(t, s.Apply(bg, txn), ErrExists)
	colls, err := s.ListCollections(bg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range colls {
		ids = append(ids, c.ID.String())
	}
	if fmt.Sprint(ids) != "[meta 0.3 1.1a 2.7]" {
		t.Fatalf("collections %v", ids)
	}
	txn = NewTxn()
	txn.Write(testPG, obj("x"), 0, []byte("12345"))
	mustApply(t, s, txn)
	txn = NewTxn()
	txn.RemoveCollection(testPG)
	wantErr(t, s.Apply(bg, txn), ErrCollectionNotEmpty)
	txn = NewTxn()
	txn.Remove(testPG, obj("x"))
	txn.RemoveCollection(testPG)
	mustApply(t, s, txn)
	_, err = s.Collection(bg, testPG)
	wantErr(t, err, ErrNoCollection)
}

func TestParseCollID(t *testing.T) {
	for in, want := range map[string]CollID{"1.1a": PG(1, 0x1a), "12.0_head": PG(12, 0), "meta": MetaColl} {
		got, err := ParseCollID(in)
		if err != nil || got != want || (in != "12.0_head" && got.String() != in) {
			t.Errorf("ParseCollID(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1", "x.1", "-2.1", "1.xyz", "1.100000000"} {
		if _, err := ParseCollID(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCollID(%q) = %v, want ErrInvalid", in, err)
		}
	}
}
