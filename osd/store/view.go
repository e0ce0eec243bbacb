package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// view is one transaction's private overlay on the committer's bbolt write
// transaction. Executing a store transaction reads through the view and
// records every change in it; nothing reaches bbolt until the whole
// transaction has executed without error. This is how a failing transaction
// (object exists, size limit, corrupt block) is rejected without touching
// the other transactions of its batch, with no savepoints in bbolt and no
// re-execution.
type view struct {
	buckets *[numBuckets]*bolt.Bucket
	muts    []mutation
	points  [numBuckets]map[string]pointVal
	ranges  [numBuckets][]keyRange
	// putBytes counts key and value bytes of puts, for Stats.
	putBytes uint64
}

// mutation is one recorded change, replayed in order by flush.
type mutation struct {
	bucket bucketID
	kind   mutKind
	key    []byte
	val    []byte // put: the value; deleteRange: the exclusive end key
}

type mutKind uint8

const (
	mutPut mutKind = iota
	mutDelete
	mutDeleteRange
)

// pointVal is the overlay's latest put or delete of a key.
type pointVal struct {
	val     []byte
	deleted bool
}

// keyRange is [start, end); a nil end means "to the end of the bucket".
type keyRange struct{ start, end []byte }

func (r keyRange) contains(k []byte) bool {
	return bytes.Compare(k, r.start) >= 0 && (r.end == nil || bytes.Compare(k, r.end) < 0)
}

func newView(buckets *[numBuckets]*bolt.Bucket) *view {
	return &view{buckets: buckets}
}

// get returns the value of key as the transaction sees it, or nil. The
// result may alias bbolt memory: callers must not modify or keep it.
func (v *view) get(b bucketID, key []byte) []byte {
	if p, ok := v.points[b][string(key)]; ok {
		if p.deleted {
			return nil
		}
		return p.val
	}
	if v.masked(b, key) {
		return nil
	}
	return v.buckets[b].Get(key)
}

// getOverlay is get for a key that cannot be in bbolt (it lies under a
// new nid): only the view's own changes are looked at.
func (v *view) getOverlay(b bucketID, key []byte) []byte {
	if p, ok := v.points[b][string(key)]; ok && !p.deleted {
		return p.val
	}
	return nil
}

// each calls fn for every key in [start, end) of bucket b as the
// transaction sees it, in no particular order; with inBolt false the keys
// are known not to be in bbolt and only the view's own puts are visited.
// Values may alias bbolt memory.
func (v *view) each(b bucketID, start, end []byte, inBolt bool, fn func(k, val []byte)) {
	r := keyRange{start: start, end: end}
	if inBolt {
		c := v.buckets[b].Cursor()
		for k, val := c.Seek(start); k != nil && r.contains(k); k, val = c.Next() {
			if _, ok := v.points[b][string(k)]; ok || v.masked(b, k) {
				continue // changed by the view: visited below, or deleted
			}
			fn(k, val)
		}
	}
	for k, p := range v.points[b] {
		if !p.deleted && r.contains([]byte(k)) {
			fn([]byte(k), p.val)
		}
	}
}

// masked reports whether a deleted range of the view covers key.
func (v *view) masked(b bucketID, key []byte) bool {
	for _, r := range v.ranges[b] {
		if r.contains(key) {
			return true
		}
	}
	return false
}

// put records key = val; the view owns both slices from now on.
func (v *view) put(b bucketID, key, val []byte) {
	v.point(b)[string(key)] = pointVal{val: val}
	v.muts = append(v.muts, mutation{bucket: b, kind: mutPut, key: key, val: val})
	v.putBytes += uint64(len(key) + len(val))
}

// del records the deletion of key.
func (v *view) del(b bucketID, key []byte) {
	v.point(b)[string(key)] = pointVal{deleted: true}
	v.muts = append(v.muts, mutation{bucket: b, kind: mutDelete, key: key})
}

// delRange records the deletion of every key in [start, end).
func (v *view) delRange(b bucketID, start, end []byte) {
	r := keyRange{start: start, end: end}
	for k := range v.points[b] {
		if r.contains([]byte(k)) {
			delete(v.points[b], k)
		}
	}
	v.ranges[b] = append(v.ranges[b], r)
	v.muts = append(v.muts, mutation{bucket: b, kind: mutDeleteRange, key: start, val: end})
}

func (v *view) point(b bucketID) map[string]pointVal {
	if v.points[b] == nil {
		v.points[b] = make(map[string]pointVal)
	}
	return v.points[b]
}

// flush replays the recorded changes into bbolt. Executing the transaction
// already checked everything bbolt could refuse (key and value sizes), so
// an error here is an I/O or internal failure; the committer then rolls the
// whole batch back.
func (v *view) flush() error {
	for _, m := range v.muts {
		bk := v.buckets[m.bucket]
		var err error
		switch m.kind {
		case mutPut:
			err = bk.Put(m.key, m.val)
		case mutDelete:
			err = bk.Delete(m.key)
		case mutDeleteRange:
			err = deleteRange(bk, m.key, m.val)
		}
		if err != nil {
			return fmt.Errorf("apply to bucket %s: %w", allBuckets[m.bucket], err)
		}
	}
	return nil
}

// deleteRange deletes [start, end) from bk. It seeks afresh after each
// delete because a bbolt cursor may skip the element after a Delete.
func deleteRange(bk *bolt.Bucket, start, end []byte) error {
	c := bk.Cursor()
	for k, _ := c.Seek(start); k != nil && (end == nil || bytes.Compare(k, end) < 0); k, _ = c.Seek(start) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
