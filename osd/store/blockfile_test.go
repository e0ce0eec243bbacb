package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// setNoDirectIO makes block files open without O_DIRECT until the
// returned function runs.
func setNoDirectIO(on bool) func() {
	old := testNoDirectIO
	testNoDirectIO = on
	return func() { testNoDirectIO = old }
}

// reopen closes s and opens its directory again; the new store is closed
// at the end of the test.
func reopen(t testing.TB, s *Store, opts Options) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(s.Dir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkAllocation checks the block file's bitmap against the references
// in bucketExtents: with no read in progress and nothing queued, exactly
// the referenced units are allocated, and no unit is referenced twice.
func checkAllocation(t testing.TB, s *Store, where string) {
	t.Helper()
	refs := map[uint64]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketExtents).ForEach(func(k, v []byte) error {
			r, err := unsealExtentRef(k, v, s.blockSize)
			if err != nil {
				return fmt.Errorf("reference %x: %w", k, err)
			}
			if prev, dup := refs[r.unit]; dup {
				return fmt.Errorf("unit %d referenced by %x and %s", r.unit, k, prev)
			}
			refs[r.unit] = fmt.Sprintf("%x", k)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	s.bf.mu.Lock()
	defer s.bf.mu.Unlock()
	used := 0
	for u := uint64(0); u < s.bf.units; u++ {
		_, ref := refs[u]
		if s.bf.isUsed(u) != ref {
			t.Fatalf("%s: unit %d allocated=%v but referenced=%v", where, u, s.bf.isUsed(u), ref)
		}
		if ref {
			used++
		}
	}
	if used != len(refs) || s.bf.units-s.bf.free != uint64(used) {
		t.Fatalf("%s: %d references (%d inside the file), %d units of %d allocated", where, len(refs), used, s.bf.units-s.bf.free, s.bf.units)
	}
}

// extentCount returns the number of blocks stored in the block file.
func extentCount(t testing.TB, s *Store) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketExtents).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLargeWritesGoToTheBlockFile: the whole blocks of a large write are
// stored in the block file, the partial ones inline; partial overwrites,
// truncation, zeroing and removal move or free exactly the blocks they
// touch, and the units come back for reuse.
func TestLargeWritesGoToTheBlockFile(t *testing.T) {
	const bs = 4096
	s := newStore(t, Options{BlockSize: bs})
	o := obj("big")
	data := pattern(3, 20*bs+100) // 20 whole blocks and a short one
	txn := NewTxn()
	txn.WriteFull(testPG, o, data)
	mustApply(t, s, txn)
	if n := extentCount(t, s); n != 20 {
		t.Fatalf("%d blocks in the block file after a 20-block write, want 20", n)
	}
	checkBytes(t, "after write", mustRead(t, s, testPG, o), data)
	checkAllocation(t, s, "after write")

	step := func(what string, build func(*Txn), wantExtents int) {
		t.Helper()
		txn := NewTxn()
		build(txn)
		mustApply(t, s, txn)
		checkBytes(t, what, mustRead(t, s, testPG, o), data)
		if n := extentCount(t, s); n != wantExtents {
			t.Fatalf("%s: %d blocks in the block file, want %d", what, n, wantExtents)
		}
		checkAllocation(t, s, what)
	}
	// A 100-byte overwrite inside block 3 moves that block inline.
	step("overwrite", func(txn *Txn) {
		txn.Write(testPG, o, 3*bs+10, pattern(9, 100))
		copy(data[3*bs+10:], pattern(9, 100))
	}, 19)
	// Truncating inside block 15 drops 16-19 and moves 15 inline.
	step("truncate", func(txn *Txn) {
		txn.Truncate(testPG, o, 15*bs+7)
		data = data[:15*bs+7]
	}, 14)
	// Zeroing blocks 5-6 whole deletes them; a hole reads as zeros.
	step("zero", func(txn *Txn) {
		txn.Zero(testPG, o, 5*bs, 2*bs)
		clear(data[5*bs : 7*bs])
	}, 12)
	// A 16-block write at block 2 replaces references with fresh units.
	step("rewrite", func(txn *Txn) {
		p := pattern(11, 16*bs)
		txn.Write(testPG, o, 2*bs, p)
		data = append(data[:2*bs], p...)
	}, 18)
	units, _ := s.bf.stats()
	step("remove and write again", func(txn *Txn) {
		txn.Remove(testPG, o)
		data = pattern(12, 18*bs)
		txn.WriteFull(testPG, o, data)
	}, 18)
	if after, _ := s.bf.stats(); after != units {
		t.Fatalf("the block file grew from %d to %d units although freed units could be reused", units, after)
	}
	s = reopen(t, s, Options{})
	checkBytes(t, "after reopen", mustRead(t, s, testPG, o), data)
	checkAllocation(t, s, "after reopen")
	part, err := s.Read(bg, testPG, o, 3*bs-5, 2*bs+10)
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "partial read across blocks", part, data[3*bs-5:5*bs+5])
}

// TestRejectedTransactionFreesItsUnits: a transaction whose block file
// writes succeeded but which fails (the object exists) leaves no
// allocated unit behind, and neither does one submitted to a closed store.
func TestRejectedTransactionFreesItsUnits(t *testing.T) {
	s := newStore(t, Options{BlockSize: 4096})
	txn := NewTxn()
	txn.Create(testPG, obj("x"))
	mustApply(t, s, txn)
	txn = NewTxn()
	txn.WriteFull(testPG, obj("y"), pattern(1, 64<<10))
	txn.Create(testPG, obj("x"))
	wantErr(t, s.Apply(bg, txn), ErrExists)
	checkAllocation(t, s, "after a rejected transaction")
	if _, err := s.Stat(bg, testPG, obj("y")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("object of a rejected transaction: %v", err)
	}
}

// TestReadsHoldRetiredUnits: units a commit stops referring to are not
// reused while a read that started before the commit is in progress.
func TestReadsHoldRetiredUnits(t *testing.T) {
	s := newStore(t, Options{BlockSize: 4096})
	txn := NewTxn()
	txn.WriteFull(testPG, obj("a"), pattern(1, 64<<10))
	mustApply(t, s, txn)
	gen := s.bf.beginRead() // a read in progress
	txn = NewTxn()
	txn.Remove(testPG, obj("a"))
	mustApply(t, s, txn)
	if n := s.bf.popcount(); n != 16 {
		t.Fatalf("%d units allocated while a read may still use the removed object's 16", n)
	}
	late := s.bf.beginRead() // started after the commit: does not hold them
	if err := s.bf.endRead(gen); err != nil {
		t.Fatal(err)
	}
	if n := s.bf.popcount(); n != 0 {
		t.Fatalf("%d units allocated after the read ended, want 0", n)
	}
	if err := s.bf.endRead(late); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentReadsAndRewrites: readers of an object that writers keep
// replacing (whole-object writes through the block file) always get one
// complete version, never a mix and never a checksum error, although the
// writers reuse the units the readers may be reading.
func TestConcurrentReadsAndRewrites(t *testing.T) {
	for _, cache := range []int64{0, 256 << 10} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) { concurrentReadsAndRewrites(t, cache) })
	}
}

// concurrentReadsAndRewrites runs the test with a block cache of the given
// size (units freed and written again must not be served from it).
func concurrentReadsAndRewrites(t *testing.T, cacheBytes int64) {
	s := newStore(t, Options{BlockSize: 4096, CacheBytes: cacheBytes})
	const size = 64 << 10
	versions := make([][]byte, 4)
	for i := range versions {
		versions[i] = pattern(100+i, size)
	}
	txn := NewTxn()
	txn.WriteFull(testPG, obj("hot"), versions[0])
	mustApply(t, s, txn)
	// Half the writes are cached: the cache must never serve a unit that
	// was freed and written again.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	errs := make(chan error, 8)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := s.Read(bg, testPG, obj("hot"), 0, 0)
				if err != nil {
					errs <- err
					return
				}
				if !matchesOne(got, versions) {
					errs <- fmt.Errorf("read %d bytes that match no version", len(got))
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 1; i < 300; i++ {
		txn := NewTxn()
		if i%2 == 0 {
			txn.CacheData()
		}
		txn.WriteFull(testPG, obj("hot"), versions[i%len(versions)])
		mustApply(t, s, txn)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if reads.Load() == 0 {
		t.Fatal("no read completed")
	}
	checkAllocation(t, s, "after the load")
}

func matchesOne(b []byte, versions [][]byte) bool {
	for _, v := range versions {
		if bytes.Equal(b, v) {
			return true
		}
	}
	return false
}

// TestBlockFileCorruptionIsDetected: a byte flipped in the block file is
// reported as a CorruptError naming the object and block, by reads and by
// export, and never returned.
func TestBlockFileCorruptionIsDetected(t *testing.T) {
	dir := t.TempDir()
	const bs = 4096
	s, err := Create(dir, Options{BlockSize: bs})
	if err != nil {
		t.Fatal(err)
	}
	txn := NewTxn()
	txn.CreateCollection(testPG)
	txn.WriteFull(testPG, obj("victim"), markedData(16, bs))
	txn.WriteFull(testPG, obj("bystander"), pattern(5, 16*bs))
	mustApply(t, s, txn)
	s.Close()
	path := filepath.Join(dir, blockFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, blockMarker(6))
	if i < 0 {
		t.Fatal("block 6 of the victim not found in the block file")
	}
	b[i+5] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Read(bg, testPG, obj("victim"), 0, 0)
	wantCorrupt(t, err, "victim", 6)
	_, err = s.Read(bg, testPG, obj("victim"), 6*bs+100, 10)
	wantCorrupt(t, err, "victim", 6)
	if got, err := s.Read(bg, testPG, obj("victim"), 0, 6*bs); err != nil || !bytes.Equal(got, markedData(6, bs)) {
		t.Fatalf("intact blocks before the damage: %v", err)
	}
	checkBytes(t, "bystander", mustRead(t, s, testPG, obj("bystander")), pattern(5, 16*bs))
	_, err = s.Export(bg, testPG, &bytes.Buffer{})
	wantCorrupt(t, err, "victim", 6)
	// A partial overwrite of the damaged block needs its old bytes: it is
	// refused and the store is unchanged.
	txn = NewTxn()
	txn.Write(testPG, obj("victim"), 6*bs+1, []byte("x"))
	wantErr(t, s.Apply(bg, txn), ErrCorrupt)
}

// TestOpenRefusesOtherFormats: a format 1 store (data inside bbolt) and a
// store whose block file is missing are refused with ErrFormat and a
// message saying what to do, not misread.
func TestOpenRefusesOtherFormats(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, blockFileName)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	wantErr(t, err, ErrFormat)
	if !strings.Contains(err.Error(), blockFileName) {
		t.Fatalf("error %q does not name the missing block file", err)
	}
	if err := createBlockFile(filepath.Join(dir, blockFileName)); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, storeFileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyFormat, sealUvarint(keyFormat, 1))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(dir, Options{})
	wantErr(t, err, ErrFormat)
	if !strings.Contains(err.Error(), "format 1") || !strings.Contains(err.Error(), "osd store export") {
		t.Fatalf("error %q does not explain the old format and what to do", err)
	}
}

// TestBlockCache: a run is served only from an entry holding all of it,
// the least recently used entries go first, dropping a unit drops its
// entry, and runs overlapping cached units are not cached twice.
func TestBlockCache(t *testing.T) {
	const unit = 4
	c := newBlockCache(3*unit, unit)
	c.put(10, []byte("aaaabbbb")) // units 10, 11
	if got, ok := c.get(10, 2); !ok || string(got) != "aaaabbbb" {
		t.Fatalf("run 10-11: %q %v", got, ok)
	}
	if got, ok := c.get(11, 1); !ok || string(got) != "bbbb" {
		t.Fatalf("unit 11 inside the run: %q %v", got, ok)
	}
	if _, ok := c.get(11, 2); ok {
		t.Fatal("a run past the cached one was served")
	}
	c.put(11, []byte("xxxx")) // overlaps: not cached
	if got, _ := c.get(11, 1); string(got) != "bbbb" {
		t.Fatalf("an overlapping put replaced a cached unit: %q", got)
	}
	c.put(20, []byte("cccc")) // 12 bytes: full
	c.get(10, 2)
	c.put(30, []byte("dddd")) // evicts the least recently used: 20
	if _, ok := c.get(20, 1); ok {
		t.Fatal("the least recently used run survived")
	}
	c.drop(11) // drops the whole run 10-11
	if _, ok := c.get(10, 1); ok {
		t.Fatal("a run with a dropped unit was served")
	}
	c.put(40, make([]byte, 4*unit)) // larger than the cache: not kept
	if _, _, b := c.stats(); b != unit {
		t.Fatalf("cache holds %d bytes, want %d (unit 30)", b, unit)
	}
	if newBlockCache(unit-1, unit) != nil {
		t.Fatal("a cache smaller than a unit")
	}
	var none *blockCache
	if _, ok := none.get(1, 1); ok {
		t.Fatal("no cache served a run")
	}
	none.put(1, []byte("zzzz"))
	none.drop(1)
}

// TestCachedReads: with CacheData, a large object's data is read back
// from the cache, without a copy and still verified; after an overwrite
// the new data is read, never the cached old one; an object read from
// disk is cached for the next read.
func TestCachedReads(t *testing.T) {
	s := newStore(t, Options{BlockSize: 4096, CacheBytes: 1 << 20})
	o := obj("hot")
	data := pattern(1, 64<<10)
	txn := NewTxn()
	txn.CacheData()
	txn.WriteFull(testPG, o, data)
	mustApply(t, s, txn)
	got := mustRead(t, s, testPG, o)
	checkBytes(t, "cached read", got, data)
	if addrOfBytes(got) != addrOfBytes(data) {
		t.Fatal("the read did not come from the cache (it was copied)")
	}
	newer := pattern(2, 64<<10)
	txn = NewTxn()
	txn.WriteFull(testPG, o, newer) // not cached: read from disk, then cached
	mustApply(t, s, txn)
	checkBytes(t, "after overwrite", mustRead(t, s, testPG, o), newer)
	before := s.Stats().CacheHits
	checkBytes(t, "second read", mustRead(t, s, testPG, o), newer)
	if s.Stats().CacheHits != before+1 {
		t.Fatal("the object read from disk was not cached")
	}
	checkAllocation(t, s, "after cached reads")
	// A cached entry that was changed in memory is caught by its crc.
	cached := mustRead(t, s, testPG, o)
	cached[5] ^= 1
	_, err := s.Read(bg, testPG, o, 0, 0)
	wantCorrupt(t, err, "hot", 0)
}

// TestCachedSmallReads: reads of a few bytes inside a large object (a
// block device's pattern) keep the block they fetched, so the next read of
// that block is a hit; a small overwrite of it is read back, never the
// cached old block; a whole-block read inside a cached run is a hit too.
func TestCachedSmallReads(t *testing.T) {
	s := newStore(t, Options{BlockSize: 4096, CacheBytes: 1 << 20})
	o := obj("disk")
	data := pattern(3, 64<<10)
	txn := NewTxn()
	txn.WriteFull(testPG, o, data)
	mustApply(t, s, txn)
	read := func(off, n uint64) []byte {
		t.Helper()
		b, err := s.Read(bg, testPG, o, off, n)
		if err != nil {
			t.Fatalf("read %d bytes at %d: %v", n, off, err)
		}
		return b
	}
	checkBytes(t, "first small read", read(5000, 100), data[5000:5100])
	hits := s.Stats().CacheHits
	checkBytes(t, "second small read", read(4200, 300), data[4200:4500])
	if s.Stats().CacheHits != hits+1 {
		t.Fatal("the block fetched by a small read was not kept")
	}
	fresh := []byte("overwritten")
	txn = NewTxn()
	txn.Write(testPG, o, 5000, fresh)
	mustApply(t, s, txn)
	want := append(append([]byte{}, data...)[:5000], fresh...)
	checkBytes(t, "after a small overwrite", read(4500, 1000), append(want[4500:5011:5011], data[5011:5500]...))
	checkAllocation(t, s, "after cached small reads")
}
