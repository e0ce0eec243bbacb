package store

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The block file (DIR/store.blocks) holds the data blocks of large writes,
// one block per unit of Store.blockSize bytes at offset unit*blockSize.
// bbolt's extents bucket maps an object's block to its unit (schema.go);
// the file itself holds nothing but payloads, so everything about it that
// must survive a crash is in bbolt.
//
// Large writes go here rather than into bbolt because of what the kernel
// charges for them: on the test machine a buffered 4 MiB pwrite plus
// fdatasync cost 12 ms of CPU and ran at 360 MB/s, an O_DIRECT|O_DSYNC
// pwrite of the same 4 MiB cost 0.3 ms and ran at 1.6 GB/s (see the
// package doc). bbolt writes every page it changes with a buffered pwrite,
// so a 4 MiB value in bbolt pays the first price on every replica.
//
// Copy-on-write: a write never overwrites a unit that a committed block
// refers to. Submit allocates fresh units and writes them, durably
// (O_DSYNC), before the transaction reaches the committer; the bbolt
// commit then switches the references. A crash before the commit leaves
// the new units unreferenced, which is free space: the allocation bitmap
// is not stored but rebuilt at Open from the references. Units that a
// commit stops referencing are retired, and become free only once every
// read that started before that commit has ended, so that a reader never
// sees a unit reused under it.

// blockFileName is the block file inside the OSD data directory.
const blockFileName = "store.blocks"

// Growth of the block file: it is extended with fallocate by half its size,
// at least blockFileGrowMin and at most blockFileGrowMax (or what one
// allocation needs), so that extending it is rare and its units stay
// contiguous on disk.
const (
	blockFileGrowMin = 16 << 20
	blockFileGrowMax = 1 << 30
)

// directAlign is the memory and file alignment O_DIRECT needs. The device
// here reports 512 bytes (statx STATX_DIOALIGN); 4096 covers the devices
// with 4 KiB sectors too.
const directAlign = 4096

// unitRun is n consecutive units from start.
type unitRun struct{ start, n uint64 }

// blockFile is the open block file with its allocator and reader gate.
type blockFile struct {
	path string
	w    *os.File // writes: O_DIRECT|O_DSYNC, or O_DSYNC where O_DIRECT is refused
	r    *os.File // reads: O_DIRECT, or through the page cache where refused
	// direct and directRead tell whether w and r bypass the page cache
	// (and need aligned buffers).
	direct, directRead bool
	unit               uint64      // bytes per unit, the store's block size
	cache              *blockCache // nil: none

	// bouncePool holds *[]byte aligned buffers of blockBounceBytes for
	// O_DIRECT writes of data that is not aligned in memory.
	bouncePool sync.Pool

	mu    sync.Mutex
	used  []uint64 // allocation bitmap: bit set = referenced, being written, or retired
	units uint64   // units the file holds
	free  uint64   // clear bits below units
	rover uint64   // next-fit start
	// gen counts commits that retired units; readers holds the number of
	// reads in progress by the gen at which they started; retired holds
	// units waiting for those reads to end.
	gen     uint64
	readers map[uint64]int
	retired []retiredUnits
}

type retiredUnits struct {
	gen   uint64
	units []uint64
}

// blockBounceBytes is the size of the aligned buffers that carry unaligned
// data to O_DIRECT writes, one chunk at a time.
const blockBounceBytes = 1 << 20

// testNoDirectIO, set by tests, opens block files without O_DIRECT, as on
// file systems that refuse it (tmpfs).
var testNoDirectIO bool

// createBlockFile creates an empty block file; it fails if one exists.
func createBlockFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create block file: %w", err)
	}
	return f.Close()
}

// openBlockFile opens the block file of a store with the given block size.
// A read-only store opens it for reading only.
func openBlockFile(path string, unit int, readOnly bool) (*blockFile, error) {
	f := &blockFile{path: path, unit: uint64(unit), readers: map[uint64]int{}}
	if err := f.openReader(); err != nil {
		return nil, err
	}
	st, err := f.r.Stat()
	if err != nil {
		f.r.Close()
		return nil, fmt.Errorf("stat block file: %w", err)
	}
	f.units = uint64(st.Size()) / f.unit
	if !readOnly {
		if err := f.openWriter(); err != nil {
			f.r.Close()
			return nil, err
		}
	}
	f.used = make([]uint64, (f.units+63)/64)
	f.free = f.units
	f.bouncePool.New = func() any {
		b := alignedBuffer(blockBounceBytes)
		return &b
	}
	return f, nil
}

// openReader opens the read descriptor, with O_DIRECT where the file
// system supports it. Reads bypass the page cache for the same reasons
// writes do, and because the test machine's memory manager pages out file
// pages read once within seconds, at a CPU cost of its own: 4 MiB
// sequential reads through the page cache ran at 500 MB/s with the kernel
// taking 80% of the CPU.
func (f *blockFile) openReader() error {
	var err error
	if !testNoDirectIO {
		if f.r, err = os.OpenFile(f.path, os.O_RDONLY|unix.O_DIRECT, 0); err == nil {
			f.directRead = true
			return nil
		}
	}
	if f.r, err = os.Open(f.path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: block file %s is missing; the store cannot be read without it", ErrFormat, f.path)
		}
		return fmt.Errorf("open block file: %w", err)
	}
	// Reads fetch whole blocks they verify; readahead would only fill the
	// page cache with units nobody asked for.
	_ = unix.Fadvise(int(f.r.Fd()), 0, 0, unix.FADV_RANDOM)
	return nil
}

// openWriter opens the write descriptor, with O_DIRECT where the file
// system supports it.
func (f *blockFile) openWriter() error {
	flags := os.O_RDWR | unix.O_DSYNC
	if !testNoDirectIO {
		w, err := os.OpenFile(f.path, flags|unix.O_DIRECT, 0)
		if err == nil {
			f.w, f.direct = w, true
			return nil
		}
		if !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("open block file for writing: %w", err)
		}
	}
	w, err := os.OpenFile(f.path, flags, 0)
	if err != nil {
		return fmt.Errorf("open block file for writing: %w", err)
	}
	f.w = w
	return nil
}

func (f *blockFile) close() error {
	err := f.r.Close()
	if f.w != nil {
		err = errors.Join(err, f.w.Close())
	}
	return err
}

// alignedBuffer returns n bytes aligned for O_DIRECT.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	skip := (directAlign - int(uintptr(unsafe.Pointer(&b[0]))%directAlign)) % directAlign
	return b[skip : skip+n : skip+n]
}

func isAligned(b []byte) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%directAlign == 0
}

// markUsed records at Open that a committed block refers to unit u. It
// reports false for a unit past the end of the file or referenced twice,
// which only corruption produces.
func (f *blockFile) markUsed(u uint64) bool {
	if u >= f.units || f.isUsed(u) {
		return false
	}
	f.setUsed(u, true)
	f.free--
	return true
}

func (f *blockFile) isUsed(u uint64) bool { return f.used[u/64]&(1<<(u%64)) != 0 }

func (f *blockFile) setUsed(u uint64, on bool) {
	if on {
		f.used[u/64] |= 1 << (u % 64)
	} else {
		f.used[u/64] &^= 1 << (u % 64)
	}
}

// alloc reserves n units for a write, in as few runs as the free space
// allows, extending the file when there are not enough free units.
func (f *blockFile) alloc(n uint64) ([]unitRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.free < n {
		if err := f.grow(n - f.free); err != nil {
			return nil, err
		}
	}
	if start, ok := f.findRun(n); ok {
		f.take(start, n)
		return []unitRun{{start, n}}, nil
	}
	return f.gather(n), nil
}

// findRun finds n consecutive free units, next fit from the rover.
func (f *blockFile) findRun(n uint64) (uint64, bool) {
	if start, ok := f.scanRun(f.rover, f.units, n); ok {
		return start, true
	}
	return f.scanRun(0, min(f.rover+n, f.units), n)
}

// scanRun finds n consecutive free units within [lo, hi).
func (f *blockFile) scanRun(lo, hi, n uint64) (uint64, bool) {
	start, length := lo, uint64(0)
	for u := lo; u < hi; u++ {
		if u%64 == 0 && f.used[u/64] == ^uint64(0) {
			u += 63 // a full word: skip it
			start, length = u+1, 0
			continue
		}
		if f.isUsed(u) {
			start, length = u+1, 0
			continue
		}
		if length++; length == n {
			return start, true
		}
	}
	return 0, false
}

// gather takes n free units wherever they are, as runs; the caller made
// sure there are enough.
func (f *blockFile) gather(n uint64) []unitRun {
	var runs []unitRun
	for u := uint64(0); u < f.units && n > 0; u++ {
		if f.isUsed(u) {
			continue
		}
		if k := len(runs) - 1; k >= 0 && runs[k].start+runs[k].n == u {
			runs[k].n++
		} else {
			runs = append(runs, unitRun{u, 1})
		}
		n--
	}
	for _, r := range runs {
		f.take(r.start, r.n)
	}
	return runs
}

func (f *blockFile) take(start, n uint64) {
	for u := start; u < start+n; u++ {
		f.setUsed(u, true)
	}
	f.free -= n
	f.rover = start + n
}

// grow extends the file by at least need units. The caller holds f.mu.
func (f *blockFile) grow(need uint64) error {
	size := f.units * f.unit
	step := min(max(size/2, blockFileGrowMin), blockFileGrowMax)
	add := max((step+f.unit-1)/f.unit, need)
	newSize := (f.units + add) * f.unit
	if err := unix.Fallocate(int(f.w.Fd()), 0, int64(size), int64(newSize-size)); err != nil {
		if !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("extend block file %s to %d bytes: %w", f.path, newSize, err)
		}
		if err := f.w.Truncate(int64(newSize)); err != nil {
			return fmt.Errorf("extend block file %s to %d bytes: %w", f.path, newSize, err)
		}
	}
	words := (f.units + add + 63) / 64
	f.used = append(f.used, make([]uint64, words-uint64(len(f.used)))...)
	f.units += add
	f.free += add
	return nil
}

// release frees units that no committed block refers to (a rejected
// transaction's), at once.
func (f *blockFile) release(runs []unitRun) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range runs {
		for u := r.start; u < r.start+r.n; u++ {
			if err := f.clear(u); err != nil {
				return err
			}
		}
	}
	return nil
}

// clear frees one unit. The caller holds f.mu.
func (f *blockFile) clear(u uint64) error {
	if u >= f.units || !f.isUsed(u) {
		return fmt.Errorf("object store bug: freeing block file unit %d, which is not allocated", u)
	}
	f.setUsed(u, false)
	f.free++
	f.cache.drop(u) // before the unit can be written again
	return nil
}

// beginRead registers a read about to start a bbolt read transaction and
// returns its token for endRead.
func (f *blockFile) beginRead() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readers[f.gen]++
	return f.gen
}

// endRead ends a read and frees the retired units no read can see anymore.
func (f *blockFile) endRead(gen uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readers[gen]--; f.readers[gen] <= 0 {
		delete(f.readers, gen)
	}
	return f.freeRetired()
}

// retire records units that a commit just made unreferenced. They stay
// allocated until the reads that may still follow the old references end.
func (f *blockFile) retire(units []uint64) error {
	if len(units) == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.retired = append(f.retired, retiredUnits{gen: f.gen, units: units})
	return f.freeRetired()
}

// freeRetired frees the retired units of every commit that all current
// reads started after. The caller holds f.mu.
func (f *blockFile) freeRetired() error {
	oldest := f.gen + 1
	for g := range f.readers {
		oldest = min(oldest, g)
	}
	n := 0
	for n < len(f.retired) && f.retired[n].gen <= oldest {
		for _, u := range f.retired[n].units {
			if err := f.clear(u); err != nil {
				return err
			}
		}
		n++
	}
	f.retired = f.retired[n:]
	return nil
}

// stats returns the file's units and how many are free.
func (f *blockFile) stats() (units, free uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.units, f.free
}

// writeRun writes data, whose length is a multiple of the unit, at unit
// start. It returns once the data is durable (O_DSYNC).
func (f *blockFile) writeRun(start uint64, data []byte) error {
	off := int64(start * f.unit)
	if !f.direct || isAligned(data) {
		return f.pwrite(data, off)
	}
	bp := f.bouncePool.Get().(*[]byte)
	defer f.bouncePool.Put(bp)
	for len(data) > 0 {
		n := copy(*bp, data)
		if err := f.pwrite((*bp)[:n], off); err != nil {
			return err
		}
		data, off = data[n:], off+int64(n)
	}
	return nil
}

func (f *blockFile) pwrite(b []byte, off int64) error {
	if _, err := f.w.WriteAt(b, off); err != nil {
		return fmt.Errorf("write block file %s at %d: %w", f.path, off, err)
	}
	return nil
}

// readUnits reads len(b) bytes, whole units, from unit start. A short
// read means the reference points past the end of the file. A buffer
// O_DIRECT cannot use is filled through an aligned one.
func (f *blockFile) readUnits(b []byte, start uint64) error {
	off := int64(start * f.unit)
	if !f.directRead || isAligned(b) {
		return f.pread(b, off)
	}
	bp := f.bouncePool.Get().(*[]byte)
	defer f.bouncePool.Put(bp)
	for len(b) > 0 {
		n := min(len(b), len(*bp))
		if err := f.pread((*bp)[:n], off); err != nil {
			return err
		}
		copy(b, (*bp)[:n])
		b, off = b[n:], off+int64(n)
	}
	return nil
}

func (f *blockFile) pread(b []byte, off int64) error {
	n, err := f.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil {
		err = errShortRead
	}
	return fmt.Errorf("read block file at %d: %w", off, err)
}

// errShortRead is the cause of a read that ended before the bytes a
// reference promises.
var errShortRead = errors.New("short read")

// popcount counts the set bits of the bitmap, for tests.
func (f *blockFile) popcount() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, w := range f.used {
		n += bits.OnesCount64(w)
	}
	return uint64(n)
}
