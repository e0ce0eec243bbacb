package store

import (
	"container/list"
	"sync"
)

// blockCache keeps recently written and read runs of block file units in
// the OSD's own memory, as BlueStore's cache does: the block file is read
// with O_DIRECT, and on the test machine the kernel pages out file pages
// read once within seconds anyway, while anonymous memory stays.
//
// An entry is a run of consecutive units and the bytes they hold: the
// data of a write (the caller's buffer, not a copy; Options.CacheWrites)
// or the buffer a read returned. Entries are never modified, so a read of
// exactly a cached run returns the entry itself, without a copy, after
// checking its crc32c like a read from disk. A unit's contents never
// change while a block refers to it (copy-on-write), and a unit leaves the
// cache, with its whole run, when it is freed, before it can be written
// again.
type blockCache struct {
	mu     sync.Mutex
	unit   uint64
	max    uint64                   // bytes
	bytes  uint64                   // bytes held
	byUnit map[uint64]*list.Element // every cached unit -> its run
	lru    list.List                // front: most recently used; values are *cachedRun
	hits   uint64
	misses uint64
}

// cachedRun is one entry: len(data)/unit units from start.
type cachedRun struct {
	start uint64
	data  []byte
}

func (r *cachedRun) units(unit uint64) uint64 { return uint64(len(r.data)) / unit }

// newBlockCache returns a cache of up to bytes of runs of unit-byte units,
// or nil (no cache) when bytes is below one unit.
func newBlockCache(bytes int64, unit uint64) *blockCache {
	if bytes < int64(unit) {
		return nil
	}
	return &blockCache{unit: unit, max: uint64(bytes), byUnit: map[uint64]*list.Element{}}
}

// get returns the cached bytes of the n units from start, if one entry
// holds them all. The result must not be modified.
func (c *blockCache) get(start, n uint64) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byUnit[start]
	if !ok {
		c.misses++
		return nil, false
	}
	r := el.Value.(*cachedRun)
	if start+n > r.start+r.units(c.unit) {
		c.misses++
		return nil, false
	}
	c.lru.MoveToFront(el)
	c.hits++
	off := (start - r.start) * c.unit
	return r.data[off : off+n*c.unit : off+n*c.unit], true
}

// put caches data, whole units from start, keeping a reference to it: the
// caller must never modify it again. Units already cached are left as
// they are (the run is not cached then), and the least recently used runs
// go when the cache is full.
func (c *blockCache) put(start uint64, data []byte) {
	if c == nil || uint64(len(data)) > c.max || len(data) == 0 {
		return
	}
	r := &cachedRun{start: start, data: data[:len(data):len(data)]}
	n := r.units(c.unit)
	c.mu.Lock()
	defer c.mu.Unlock()
	for u := start; u < start+n; u++ {
		if _, ok := c.byUnit[u]; ok {
			return
		}
	}
	el := c.lru.PushFront(r)
	for u := start; u < start+n; u++ {
		c.byUnit[u] = el
	}
	c.bytes += uint64(len(data))
	for c.bytes > c.max {
		c.remove(c.lru.Back())
	}
}

// remove drops an entry. The caller holds c.mu.
func (c *blockCache) remove(el *list.Element) {
	r := c.lru.Remove(el).(*cachedRun)
	for u := r.start; u < r.start+r.units(c.unit); u++ {
		delete(c.byUnit, u)
	}
	c.bytes -= uint64(len(r.data))
}

// drop forgets the run holding a unit that is being freed.
func (c *blockCache) drop(u uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byUnit[u]; ok {
		c.remove(el)
	}
}

// stats returns the cache's hits and misses (in runs asked for) and the
// bytes it holds.
func (c *blockCache) stats() (hits, misses, bytes uint64) {
	if c == nil {
		return 0, 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.bytes
}
