package store

import (
	"encoding/binary"
	"hash/crc32"
)

// Object data is cut into blocks of Store.blockSize bytes, each stored with
// its crc32c either inline, as one bbolt value (bucketData), or in a unit
// of the block file referenced from bbolt (bucketExtents). A write replaces
// only the blocks it touches: a block it covers completely is replaced by
// a block prepared by Submit (inline, or already written to fresh units),
// a block it covers partly is read, checked, merged and re-sealed inline
// (read-modify-write). So a 4 KiB overwrite inside a 4 MiB object rewrites
// one block, not the object, whichever way the object was written.

// write writes data at off. blocks[i] is the prepared block firstBlock+i,
// or zero if the committer must merge it.
func (x *txnExec) write(c *collState, o *objState, off uint64, data []byte, blocks []prepBlock, firstBlock uint64) error {
	if len(data) == 0 {
		return nil
	}
	bs := uint64(x.s.blockSize)
	end := off + uint64(len(data))
	for b := off / bs; b <= (end-1)/bs; b++ {
		key := blockKey(o.n.nid, uint32(b))
		if i := b - firstBlock; b >= firstBlock && i < uint64(len(blocks)) {
			switch pb := blocks[i]; {
			case pb.ref:
				x.putRef(o, key, pb.ext)
				continue
			case pb.val != nil:
				x.putInline(o, key, pb.val)
				continue
			}
		}
		start := b * bs
		segStart, segEnd := max(off, start)-start, min(end, start+bs)-start
		val, err := x.loadBlock(o, b, key, int(segEnd), segStart == 0 && segEnd == bs)
		if err != nil {
			return err
		}
		copy(val[crcLen+segStart:crcLen+segEnd], data[start+segStart-off:])
		x.putInline(o, key, resealBlock(val))
	}
	if end > o.n.size {
		x.setSize(c, o, end)
	}
	return nil
}

// truncate sets the size, deleting the blocks past it and cutting the
// payload of the new last block so that bytes past the end never come
// back as data if the object grows again.
func (x *txnExec) truncate(c *collState, o *objState, size uint64) error {
	if size < o.n.size {
		bs := uint64(x.s.blockSize)
		x.dropBlocks(o, (size+bs-1)/bs)
		if rem := int(size % bs); rem != 0 {
			key := blockKey(o.n.nid, uint32(size/bs))
			payload, err := x.blockPayload(o, size/bs, key)
			if err != nil {
				return err
			}
			if len(payload) > rem {
				x.putInline(o, key, sealBlock(payload[:rem]))
			}
		}
	}
	x.setSize(c, o, size)
	return nil
}

// zero zeroes [off, off+length) within the object's size: blocks whose
// whole payload is covered are deleted (holes read as zeros), others are
// merged.
func (x *txnExec) zero(o *objState, off, length uint64) error {
	end := min(off+length, o.n.size)
	if off >= end {
		return nil
	}
	bs := uint64(x.s.blockSize)
	for b := off / bs; b <= (end-1)/bs; b++ {
		start := b * bs
		segStart, segEnd := max(off, start)-start, min(end, start+bs)-start
		key := blockKey(o.n.nid, uint32(b))
		if segStart == 0 && segEnd >= min(bs, o.n.size-start) {
			x.dropBlock(o, key)
			continue
		}
		payload, err := x.blockPayload(o, b, key)
		if err != nil {
			return err
		}
		if segStart >= uint64(len(payload)) {
			continue // the range is already a hole
		}
		val := make([]byte, crcLen+len(payload))
		copy(val[crcLen:], payload)
		clear(val[crcLen+segStart : crcLen+min(segEnd, uint64(len(payload)))])
		x.putInline(o, key, resealBlock(val))
	}
	return nil
}

// lookup returns the value of key in bucket b as the transaction sees it.
// An object created by this transaction has a new nid with nothing stored
// under it, so only the transaction's own changes need a look.
func (x *txnExec) lookup(o *objState, b bucketID, key []byte) []byte {
	if o.fresh {
		return x.v.getOverlay(b, key)
	}
	return x.v.get(b, key)
}

// putInline stores a sealed block value inline, replacing a block file
// reference if there is one.
func (x *txnExec) putInline(o *objState, key, val []byte) {
	x.dropRef(o, key)
	x.v.put(bData, key, val)
}

// putRef stores a block written to the block file, replacing the block's
// inline value or older reference.
func (x *txnExec) putRef(o *objState, key []byte, r extentRef) {
	x.dropRef(o, key)
	if x.lookup(o, bData, key) != nil {
		x.v.del(bData, key)
	}
	x.v.put(bExtents, key, sealExtentRef(key, r))
}

// dropBlock deletes one block, inline or referenced.
func (x *txnExec) dropBlock(o *objState, key []byte) {
	x.dropRef(o, key)
	x.v.del(bData, key)
}

// dropRef deletes the block file reference of key, if any, and retires its
// unit. A reference too damaged to name its unit leaves the unit
// allocated until the store is reopened.
func (x *txnExec) dropRef(o *objState, key []byte) {
	v := x.lookup(o, bExtents, key)
	if v == nil {
		return
	}
	if r, err := unsealExtentRef(key, v, x.s.blockSize); err == nil {
		x.retired = append(x.retired, r.unit)
	}
	x.v.del(bExtents, key)
}

// dropBlocks deletes the object's blocks from index from on, retiring the
// units of those in the block file.
func (x *txnExec) dropBlocks(o *objState, from uint64) {
	start, end := blockKey(o.n.nid, uint32(from)), nidKey(o.n.nid+1)
	x.v.each(bExtents, start, end, !o.fresh, func(k, v []byte) {
		if r, err := unsealExtentRef(k, v, x.s.blockSize); err == nil {
			x.retired = append(x.retired, r.unit)
		}
	})
	x.v.delRange(bData, start, end)
	x.v.delRange(bExtents, start, end)
}

// blockPayload returns the verified payload of block index of o, nil for
// a hole. The result may alias bbolt memory.
func (x *txnExec) blockPayload(o *objState, index uint64, key []byte) ([]byte, error) {
	corrupt := func(what string, err error) error {
		return &CorruptError{Coll: o.coll, Object: o.id, Block: int64(index), What: what + err.Error()}
	}
	if v := x.lookup(o, bData, key); v != nil {
		payload, err := unsealBlock(v, x.s.blockSize)
		if err != nil {
			return nil, corrupt("data block: ", err)
		}
		return payload, nil
	}
	v := x.lookup(o, bExtents, key)
	if v == nil {
		return nil, nil
	}
	r, err := unsealExtentRef(key, v, x.s.blockSize)
	if err != nil {
		return nil, corrupt("block file reference: ", err)
	}
	payload := make([]byte, r.length)
	if err := x.s.bf.readUnits(payload, r.unit); err != nil {
		return nil, corrupt("data block: ", err)
	}
	if crc32.Checksum(payload, castagnoli) != r.crc {
		return nil, corrupt("data block in the block file: ", errChecksum)
	}
	return payload, nil
}

// loadBlock returns a new block value (crc placeholder, then payload) of at
// least minLen payload bytes holding the block's current contents; with
// overwritten set the old contents are not needed and not read.
func (x *txnExec) loadBlock(o *objState, index uint64, key []byte, minLen int, overwritten bool) ([]byte, error) {
	var payload []byte
	if !overwritten {
		var err error
		if payload, err = x.blockPayload(o, index, key); err != nil {
			return nil, err
		}
	}
	val := make([]byte, crcLen+max(len(payload), minLen))
	copy(val[crcLen:], payload)
	return val, nil
}

// resealBlock fills in the crc of a block value built in place.
func resealBlock(val []byte) []byte {
	binary.BigEndian.PutUint32(val, crc32.Checksum(val[crcLen:], castagnoli))
	return val
}
