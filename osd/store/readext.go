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
		start := b * bs
		from, to := max(off, start), min(end, start+bs)
		copy(out[from-off:to-off], buf[from-start:to-start])
		b++
	}
	return nil
}

// readVerified reads the consecutive units of refs (blocks from index
// first) into dst and checks every block's crc32c.
func (r *reader) readVerified(c CollID, o ObjectID, first uint64, refs []extentRef, dst []byte) error {
	bs := uint64(r.s.blockSize)
	if err := r.s.bf.readUnits(dst, refs[0].unit); err != nil {
		return &CorruptError{Coll: c, Object: o, Block: int64(first), What: "data block: " + err.Error()}
	}
	for i, ref := range refs {
		if crc32.Checksum(dst[uint64(i)*bs:uint64(i+1)*bs], castagnoli) != ref.crc {
			return &CorruptError{Coll: c, Object: o, Block: int64(first) + int64(i), What: "data block in the block file: " + errChecksum.Error()}
		}
	}
	return nil
}
