package store

import (
	"bytes"
	"fmt"
	"hash/crc32"
)

// Reads of blocks in the block file. Blocks whose units follow each other
// are read with one pread, straight into the caller's buffer when the read
// covers them whole; every block is verified against the crc32c of its
// reference before the read returns.

// extentSpan is a run of blocks stored in consecutive units.
type extentSpan struct {
	first uint64 // block index of the first block
	refs  []extentRef
}

// readExtents copies the blocks in the block file of [off, off+len(out))
// into out.
func (r *reader) readExtents(c CollID, o ObjectID, n onode, off uint64, out []byte) error {
	bs := uint64(r.s.blockSize)
	end := off + uint64(len(out))
	var span extentSpan
	cur := r.tx.Bucket(bucketExtents).Cursor()
	lastKey := blockKey(n.nid, uint32((end-1)/bs))
	for k, v := cur.Seek(blockKey(n.nid, uint32(off/bs))); k != nil && bytes.Compare(k, lastKey) <= 0; k, v = cur.Next() {
		index := uint64(keyBlockIndex(k))
		ref, err := unsealExtentRef(k, v, r.s.blockSize)
		if err == nil && index*bs+uint64(ref.length) > n.size {
			err = fmt.Errorf("block of %d bytes extends past the object size %d", ref.length, n.size)
		}
		if err != nil {
			return &CorruptError{Coll: c, Object: o, Block: int64(index), What: "block file reference: " + err.Error()}
		}
		if !span.extends(index, ref) {
			if err := r.readSpan(c, o, span, off, out); err != nil {
				return err
			}
			span = extentSpan{first: index}
		}
		span.refs = append(span.refs, ref)
	}
	return r.readSpan(c, o, span, off, out)
}

// extends reports whether block index stored at ref continues the span.
func (sp *extentSpan) extends(index uint64, ref extentRef) bool {
	k := len(sp.refs)
	return k > 0 && index == sp.first+uint64(k) && ref.unit == sp.refs[k-1].unit+1
}

// readSpan reads a span's blocks and copies their part in
// [off, off+len(out)) into out. Blocks the read covers whole are read in
// place; the span's first and last blocks may need a scratch buffer.
func (r *reader) readSpan(c CollID, o ObjectID, sp extentSpan, off uint64, out []byte) error {
	if len(sp.refs) == 0 {
		return nil
	}
	bs := uint64(r.s.blockSize)
	end := off + uint64(len(out))
	lo, hi := sp.first, sp.first+uint64(len(sp.refs)) // blocks [lo, hi)
	// Whole blocks inside the read: [inLo, inHi).
	inLo, inHi := max(lo, (off+bs-1)/bs), min(hi, end/bs)
	for b := lo; b < hi; {
		if b >= inLo && b < inHi {
			dst := out[b*bs-off : inHi*bs-off]
			if err := r.readVerified(c, o, b, sp.refs[b-lo:inHi-lo], dst); err != nil {
				return err
			}
			b = inHi
			continue
		}
		buf := make([]byte, bs)
		if err := r.readVerified(c, o, b, sp.refs[b-lo:b-lo+1], buf); err != nil {
			return err
		}
		// The scratch block is the caller's no more: keep it for the next
		// small read of the same block (a block device's 4 KiB reads).
		r.s.bf.cache.put(sp.refs[b-lo].unit, buf)
		start := b * bs
		from, to := max(off, start), min(end, start+bs)
		copy(out[from-off:to-off], buf[from-start:to-start])
		b++
	}
	return nil
}

// readVerified copies the consecutive units of refs (blocks from index
// first) into dst, from the cache if one of its entries holds them all,
// else from disk, and checks every block's crc32c.
func (r *reader) readVerified(c CollID, o ObjectID, first uint64, refs []extentRef, dst []byte) error {
	if data, ok := r.s.bf.cache.get(refs[0].unit, uint64(len(refs))); ok {
		copy(dst, data)
		return verifyRefs(c, o, first, refs, dst, uint64(r.s.blockSize))
	}
	return r.readDisk(c, o, first, refs, dst)
}

// readDisk reads the consecutive units of refs from disk into dst and
// checks every block's crc32c.
func (r *reader) readDisk(c CollID, o ObjectID, first uint64, refs []extentRef, dst []byte) error {
	if err := r.s.bf.readUnits(dst, refs[0].unit); err != nil {
		return &CorruptError{Coll: c, Object: o, Block: int64(first), What: "data block: " + err.Error()}
	}
	return verifyRefs(c, o, first, refs, dst, uint64(r.s.blockSize))
}

// verifyRefs checks the crc32c of each block of data against its
// reference.
func verifyRefs(c CollID, o ObjectID, first uint64, refs []extentRef, data []byte, bs uint64) error {
	for i, ref := range refs {
		if crc32.Checksum(data[uint64(i)*bs:uint64(i+1)*bs], castagnoli) != ref.crc {
			return &CorruptError{Coll: c, Object: o, Block: int64(first) + int64(i), What: "data block in the block file: " + errChecksum.Error()}
		}
	}
	return nil
}

// readRun serves a read of whole blocks [off, end) that all lie in the
// block file in consecutive units (a large object written in one go):
// from the cache without a copy when it holds them, else with one disk
// read into a buffer the cache then keeps. It reports false, having done
// nothing, for any other read.
func (r *reader) readRun(c CollID, o ObjectID, n onode, off, end uint64) ([]byte, bool, error) {
	bs := uint64(r.s.blockSize)
	if r.s.bf.cache == nil || off%bs != 0 || end%bs != 0 {
		return nil, false, nil
	}
	first, nblocks := off/bs, (end-off)/bs
	refs := make([]extentRef, 0, nblocks)
	cur := r.tx.Bucket(bucketExtents).Cursor()
	lastKey := blockKey(n.nid, uint32(end/bs-1))
	for k, v := cur.Seek(blockKey(n.nid, uint32(first))); k != nil && bytes.Compare(k, lastKey) <= 0; k, v = cur.Next() {
		ref, err := unsealExtentRef(k, v, r.s.blockSize)
		i := uint64(len(refs))
		if err != nil || uint64(keyBlockIndex(k)) != first+i || (i > 0 && ref.unit != refs[i-1].unit+1) {
			return nil, false, nil // the general path reports damage
		}
		refs = append(refs, ref)
	}
	if uint64(len(refs)) != nblocks {
		return nil, false, nil
	}
	if data, ok := r.s.bf.cache.get(refs[0].unit, nblocks); ok {
		return data, true, verifyRefs(c, o, first, refs, data, bs)
	}
	out := make([]byte, end-off)
	if err := r.readDisk(c, o, first, refs, out); err != nil {
		return nil, true, err
	}
	r.s.bf.cache.put(refs[0].unit, out)
	return out, true, nil
}
