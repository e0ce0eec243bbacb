package store

// This file declares every bbolt bucket, key layout and value encoding of the
// object store (DIR/store.db), so the on-disk format reads in one place.
//
// Conventions:
//   - Integers in keys are big-endian so that cursor order is numeric order;
//     pool ids have their sign bit flipped so that -1 (meta) sorts first.
//   - Strings in keys use the ordered encoding of codec.go (0x00 escaped as
//     0x00 0xFF, terminated by 0x00 0x01) so that key order is tuple order.
//   - Every value except data blocks is an envelope: crc32c(key || payload)
//     as 4 big-endian bytes, then the payload. Covering the key catches a
//     value that landed under the wrong key, not only flipped bits.
//   - Data block values are crc32c(payload) then the payload. The key is left
//     out so that writers can checksum full blocks on their own goroutine
//     before the committer has assigned the object's nid.
//   - Objects are stored under a 64-bit node id (nid) allocated at creation:
//     data, xattrs and omap are keyed by nid, not by the long object name, so
//     keys stay short and moving an object (PG split) rewrites only its onode.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"time"
)

// storeFileName is the bbolt file inside the OSD data directory; the
// block file (blockfile.go, DIR/store.blocks) sits next to it.
const storeFileName = "store.db"

// formatVersion is written at creation; a store with another version is
// refused instead of being misread. Format 1 kept all data in bbolt; format
// 2 adds the block file and the extents bucket.
const formatVersion = 2

var (
	// bucketMeta holds store-wide settings, each value an envelope around a
	// uvarint: keyFormat (formatVersion), keyBlockSize (data block size in
	// bytes, fixed at creation), keyNextNID (next unused nid; nids are never
	// reused) and keyCreated (creation time, Unix ns as a varint).
	bucketMeta   = []byte("meta")
	keyFormat    = []byte("format")
	keyBlockSize = []byte("block_size")
	keyNextNID   = []byte("next_nid")
	keyCreated   = []byte("created")

	// bucketColls maps collKey(c) -> collRecord.
	bucketColls = []byte("colls")

	// bucketOnodes maps objKey(c, o) -> onode: the object's nid, size,
	// mtime and versions. Cursor order within a collection is Compare order.
	bucketOnodes = []byte("onodes")

	// bucketData maps blockKey(nid, index) -> crc32c(payload) || payload,
	// the bytes [index*blockSize, index*blockSize+len(payload)) of the
	// object, for blocks stored inline. A block missing from both
	// bucketData and bucketExtents, or the part of a block past its
	// payload, reads as zeros (holes). No payload extends past the
	// object's size.
	bucketData = []byte("data")

	// bucketExtents maps blockKey(nid, index) -> envelope(extentRef), for
	// blocks stored in the block file. A block key is in bucketData or in
	// bucketExtents, never in both; a unit is referenced by at most one
	// block.
	bucketExtents = []byte("extents")

	// bucketXattrs maps nid || name -> envelope(value).
	bucketXattrs = []byte("xattrs")

	// bucketOmap maps nid || 0x00 -> envelope(header) and
	// nid || 0x01 || key -> envelope(value).
	bucketOmap = []byte("omap")

	// bucketPGLog maps collKey(c) || epoch(4) || version(8) ->
	// envelope(entry), the PG layer's opaque log entries in eversion order.
	bucketPGLog = []byte("pglog")

	// bucketPGInfo maps collKey(c) -> envelope(info), the PG layer's opaque
	// pg_info.
	bucketPGInfo = []byte("pginfo")

	// bucketPGMeta maps collKey(c) || key -> envelope(value), small opaque
	// per-PG keys of the PG layer (past intervals, dup list, ...).
	bucketPGMeta = []byte("pgmeta")
)

// bucketID indexes allBuckets; the committer keeps handles by id.
type bucketID uint8

const (
	bMeta bucketID = iota
	bColls
	bOnodes
	bData
	bXattrs
	bOmap
	bPGLog
	bPGInfo
	bPGMeta
	bExtents
	numBuckets
)

// allBuckets lists every bucket by bucketID, created with the store.
var allBuckets = [numBuckets][]byte{
	bucketMeta, bucketColls, bucketOnodes, bucketData, bucketXattrs,
	bucketOmap, bucketPGLog, bucketPGInfo, bucketPGMeta, bucketExtents,
}

// Key lengths.
const (
	collKeyLen  = 12 // pool(8) || seed(4)
	nidLen      = 8
	blockKeyLen = nidLen + 4
	logKeyLen   = collKeyLen + 12
	crcLen      = 4

	omapHeaderTag = 0x00 // after the nid: the omap header
	omapEntryTag  = 0x01 // after the nid: an omap key follows
)

// collKey encodes c: the pool with its sign bit flipped, then the seed.
func collKey(c CollID) []byte {
	b := make([]byte, collKeyLen, collKeyLen+64)
	binary.BigEndian.PutUint64(b, uint64(c.Pool)^(1<<63))
	binary.BigEndian.PutUint32(b[8:], c.Seed)
	return b
}

// decodeCollKey is the inverse of collKey.
func decodeCollKey(b []byte) (CollID, error) {
	if len(b) != collKeyLen {
		return CollID{}, errDecode
	}
	return CollID{
		Pool: int64(binary.BigEndian.Uint64(b) ^ (1 << 63)),
		Seed: binary.BigEndian.Uint32(b[8:]),
	}, nil
}

// objKey encodes o in collection c: collKey(c), the bit-reversed hash
// (4 bytes), then namespace, effective key and name as ordered strings.
// Byte order of these keys is Compare order.
func objKey(c CollID, o ObjectID) []byte {
	return appendObjSuffix(collKey(c), o)
}

func appendObjSuffix(b []byte, o ObjectID) []byte {
	b = binary.BigEndian.AppendUint32(b, bits.Reverse32(o.Hash))
	b = appendOrdered(b, o.Namespace)
	b = appendOrdered(b, o.effectiveKey())
	return appendOrdered(b, o.Name)
}

// decodeObjSuffix decodes the part of an onode key after the collection
// key; it accepts only the canonical encoding appendObjSuffix produces.
func decodeObjSuffix(pool int64, b []byte) (ObjectID, error) {
	if len(b) < 4 {
		return ObjectID{}, errDecode
	}
	o := ObjectID{Pool: pool, Hash: bits.Reverse32(binary.BigEndian.Uint32(b))}
	var key string
	var err error
	if o.Namespace, b, err = readOrdered(b[4:]); err != nil {
		return ObjectID{}, err
	}
	if key, b, err = readOrdered(b); err != nil {
		return ObjectID{}, err
	}
	// The effective key is never empty: it is the key, or else the name,
	// and names are never empty.
	if o.Name, b, err = readOrdered(b); err != nil || len(b) != 0 || o.Name == "" || key == "" {
		return ObjectID{}, errDecode
	}
	if key != o.Name {
		o.Key = key
	}
	return o, nil
}

// nidKey is the 8-byte prefix of an object's data, xattr and omap keys.
func nidKey(nid uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, nidLen+32), nid)
}

// blockKey is the key of data block index of object nid.
func blockKey(nid uint64, index uint32) []byte {
	return binary.BigEndian.AppendUint32(nidKey(nid), index)
}

func xattrKey(nid uint64, name string) []byte { return append(nidKey(nid), name...) }

func omapHeaderKey(nid uint64) []byte { return append(nidKey(nid), omapHeaderTag) }

func omapKey(nid uint64, key string) []byte {
	return append(append(nidKey(nid), omapEntryTag), key...)
}

// logKey is the key of the PG log entry v of collection c.
func logKey(c CollID, v EVersion) []byte {
	b := binary.BigEndian.AppendUint32(collKey(c), v.Epoch)
	return binary.BigEndian.AppendUint64(b, v.Version)
}

// decodeLogVersion reads the eversion of a log key.
func decodeLogVersion(k []byte) (EVersion, error) {
	if len(k) != logKeyLen {
		return EVersion{}, errDecode
	}
	return EVersion{
		Epoch:   binary.BigEndian.Uint32(k[collKeyLen:]),
		Version: binary.BigEndian.Uint64(k[collKeyLen+4:]),
	}, nil
}

func pgMetaKey(c CollID, key string) []byte { return append(collKey(c), key...) }

// prefixEnd returns the smallest key greater than every key starting with
// p, or nil when there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := append([]byte{}, p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// seal wraps a metadata payload in its envelope.
func seal(key, payload []byte) []byte {
	crc := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, payload)
	v := make([]byte, crcLen, crcLen+len(payload))
	binary.BigEndian.PutUint32(v, crc)
	return append(v, payload...)
}

// errChecksum is the cause of a failed crc32c comparison.
var errChecksum = errors.New("crc32c mismatch")

// unseal checks an envelope and returns its payload (aliasing v).
func unseal(key, v []byte) ([]byte, error) {
	if len(v) < crcLen {
		return nil, errDecode
	}
	payload := v[crcLen:]
	want := binary.BigEndian.Uint32(v)
	if crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, payload) != want {
		return nil, errChecksum
	}
	return payload, nil
}

// sealBlock builds a data block value from its payload. Growing a 4-byte
// slice by append, rather than make and copy, spares zeroing memory that
// is overwritten at once (a measurable share of a 4 MiB write's CPU).
func sealBlock(payload []byte) []byte {
	v := append([]byte{0, 0, 0, 0}, payload...)
	binary.BigEndian.PutUint32(v, crc32.Checksum(payload, castagnoli))
	return v
}

// unsealBlock checks a data block value and returns its payload (aliasing
// v).
func unsealBlock(v []byte, blockSize int) ([]byte, error) {
	if len(v) < crcLen || len(v)-crcLen > blockSize {
		return nil, errDecode
	}
	payload := v[crcLen:]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(v) {
		return nil, errChecksum
	}
	return payload, nil
}

// extentRef is where a block stored in the block file lives: its unit,
// the length of its payload (a whole block: partial blocks stay inline)
// and the crc32c of the payload, checked on every read.
type extentRef struct {
	unit   uint64
	length uint32
	crc    uint32
}

// extentRefLen is the payload length of an extentRef: crc (4), unit (8)
// and length (4), big-endian.
const extentRefLen = 16

// sealExtentRef builds the bucketExtents value of key.
func sealExtentRef(key []byte, r extentRef) []byte {
	var p [extentRefLen]byte
	binary.BigEndian.PutUint32(p[0:], r.crc)
	binary.BigEndian.PutUint64(p[4:], r.unit)
	binary.BigEndian.PutUint32(p[12:], r.length)
	return seal(key, p[:])
}

// unsealExtentRef checks and decodes a bucketExtents value. A reference
// whose length is not a whole block of blockSize is refused: the store
// writes no other.
func unsealExtentRef(key, v []byte, blockSize int) (extentRef, error) {
	p, err := unseal(key, v)
	if err != nil {
		return extentRef{}, err
	}
	if len(p) != extentRefLen {
		return extentRef{}, errDecode
	}
	r := extentRef{crc: binary.BigEndian.Uint32(p), unit: binary.BigEndian.Uint64(p[4:]),
		length: binary.BigEndian.Uint32(p[12:])}
	if int(r.length) != blockSize || r.unit > math.MaxInt64/uint64(blockSize) {
		return extentRef{}, errDecode
	}
	return r, nil
}

// sealUvarint and unsealUvarint encode the meta bucket's values.
func sealUvarint(key []byte, v uint64) []byte {
	return seal(key, binary.AppendUvarint(nil, v))
}

func unsealUvarint(key, v []byte) (uint64, error) {
	p, err := unseal(key, v)
	if err != nil {
		return 0, err
	}
	d := dec{b: p}
	n := d.uvar()
	return n, d.finish()
}

// onode is an object's metadata record.
type onode struct {
	nid         uint64
	size        uint64
	mtime       time.Time
	version     EVersion
	userVersion uint64
}

// onodeFormat is the first payload byte of an onode; decoders refuse others.
const onodeFormat = 1

// encode returns the onode payload: format, nid, size, mtime, epoch,
// version, user version.
func (n *onode) encode() []byte {
	e := enc{b: make([]byte, 0, 48)}
	e.u8(onodeFormat)
	e.uvar(n.nid)
	e.uvar(n.size)
	e.time(n.mtime)
	e.uvar(uint64(n.version.Epoch))
	e.uvar(n.version.Version)
	e.uvar(n.userVersion)
	return e.b
}

// decodeOnode decodes an onode payload.
func decodeOnode(p []byte) (onode, error) {
	d := dec{b: p}
	var n onode
	if d.u8() != onodeFormat {
		return onode{}, fmt.Errorf("%w: unknown onode format", errDecode)
	}
	n.nid = d.uvar()
	n.size = d.uvar()
	n.mtime = d.time()
	epoch := d.uvar()
	n.version = EVersion{Epoch: uint32(epoch), Version: d.uvar()}
	n.userVersion = d.uvar()
	if err := d.finish(); err != nil {
		return onode{}, err
	}
	// A crc-valid record can still be wrong (a bug, a bad import): keep
	// values in the ranges the store produces so that no later
	// computation overflows or allocates without bound.
	if epoch > math.MaxUint32 || n.nid == 0 || n.nid == math.MaxUint64 || n.size > objectSizeCeiling {
		return onode{}, errDecode
	}
	return n, nil
}

// collRecord is a collection's record: creation time, object count, the sum
// of object sizes, and flags.
type collRecord struct {
	created time.Time
	objects uint64
	bytes   uint64
	flags   uint64
}

const (
	collFormat = 1
	// collFlagIncomplete marks a collection being imported; it is cleared
	// by the import's last transaction.
	collFlagIncomplete = 1 << 0
	collFlagsKnown     = collFlagIncomplete
)

func (r *collRecord) encode() []byte {
	e := enc{b: make([]byte, 0, 32)}
	e.u8(collFormat)
	e.time(r.created)
	e.uvar(r.objects)
	e.uvar(r.bytes)
	e.uvar(r.flags)
	return e.b
}

func decodeCollRecord(p []byte) (collRecord, error) {
	d := dec{b: p}
	if d.u8() != collFormat {
		return collRecord{}, fmt.Errorf("%w: unknown collection format", errDecode)
	}
	r := collRecord{created: d.time(), objects: d.uvar(), bytes: d.uvar(), flags: d.uvar()}
	if err := d.finish(); err != nil {
		return collRecord{}, err
	}
	if r.flags&^collFlagsKnown != 0 {
		return collRecord{}, fmt.Errorf("%w: unknown collection flags %#x", errDecode, r.flags)
	}
	return r, nil
}
