package store

import (
	"encoding/binary"
	"hash/crc32"
)

// Object data is cut into blocks of Store.blockSize bytes, each stored as
// one bbolt value with its crc32c. A write replaces only the blocks it
// touches: a block it covers completely is replaced by a value prepared on
// the writer's goroutine, a block it covers partly is read, checked,
// merged and re-sealed (read-modify-write). So a 4 KiB overwrite inside a
// 4 MiB object rewrites one block, not the object.

// write writes data at off. blocks[i] is the prepared value of block
// firstBlock+i, or nil if the committer must merge it.
func (x *txnExec) write(c *collState, o *objState, off uint64, data []byte, blocks [][]byte, firstBlock uint64) error {
	if len(data) == 0 {
		return nil
	}
	bs := uint64(x.s.blockSize)
	end := off + uint64(len(data))
	for b := off / bs; b <= (end-1)/bs; b++ {
		key := blockKey(o.n.nid, uint32(b))
		if i := b - firstBlock; b >= firstBlock && i < uint64(len(blocks)) && blocks[i] != nil {
			x.v.put(bData, key, blocks[i])
			continue
		}
		start := b * bs
		segStart, segEnd := max(off, start)-start, min(end, start+bs)-start
		val, err := x.loadBlock(o, b, key, int(segEnd), segStart == 0 && segEnd == bs)
		if err != nil {
			return err
		}
		copy(val[crcLen+segStart:crcLen+segEnd], data[start+segStart-off:])
		x.v.put(bData, key, resealBlock(val))
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
		kept := (size + bs - 1) / bs
		x.v.delRange(bData, blockKey(o.n.nid, uint32(kept)), nidKey(o.n.nid+1))
		if rem := int(size % bs); rem != 0 {
			key := blockKey(o.n.nid, uint32(size/bs))
			payload, err := x.blockPayload(o, size/bs, key)
			if err != nil {
				return err
			}
			if len(payload) > rem {
				x.v.put(bData, key, sealBlock(payload[:rem]))
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
			x.v.del(bData, key)
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
		x.v.put(bData, key, resealBlock(val))
	}
	return nil
}

// blockPayload returns the verified payload of block index of o, nil for
// a hole. The result may alias bbolt memory.
func (x *txnExec) blockPayload(o *objState, index uint64, key []byte) ([]byte, error) {
	v := x.v.get(bData, key)
	if v == nil {
		return nil, nil
	}
	payload, err := unsealBlock(v, x.s.blockSize)
	if err != nil {
		return nil, &CorruptError{Coll: o.coll, Object: o.id, Block: int64(index), What: "data block: " + err.Error()}
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
