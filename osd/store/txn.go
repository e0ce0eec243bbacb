package store

import (
	"fmt"
	"sort"
	"time"
)

// Txn is one atomic store transaction: the data, xattr and omap changes of
// an op together with the PG log entry, PG info and per-PG keys the PG layer
// records with it. Build it with the methods below, then Submit or Apply it
// once. After a crash the whole transaction is there or none of it.
//
// Operations execute in the order they were added, each seeing the effects
// of the previous ones. If any fails (ErrNotFound, ErrExists, ErrTooLarge,
// ...), the transaction fails as a whole and the store is unchanged.
//
// Object creation follows Ceph's ObjectStore: Touch, Create, Write,
// WriteFull, Append and Zero create a missing object; Truncate, the xattr,
// omap and version operations need an existing object (else ErrNotFound).
//
// A Txn keeps references to the byte slices passed to it until the
// transaction completes; do not modify them before. A Txn is not safe for
// concurrent use while it is being built.
type Txn struct {
	ops       []op
	mtime     time.Time
	dataBytes int
	submitted bool
	// io is closed once the transaction's block file writes are done and
	// ioErr holds their outcome; io is nil when it has none. runs are the
	// block file units Submit gave it, freed again if it is rejected.
	io    chan struct{}
	ioErr error
	runs  []unitRun
	// cacheData asks for the block file data of the transaction to be
	// cached after its commit; written lists it by unit.
	cacheData bool
	written   []cachedRun
}

// CacheData asks the store to keep the data this transaction writes to
// its block file in its cache once the transaction is committed, so that
// reads of it soon after are served from memory (the PG primary, which
// serves reads, asks for it; replicas do not). The store then keeps
// references to the data slices given to Write and WriteFull after the
// transaction completes: never modify them.
func (t *Txn) CacheData() { t.cacheData = true }

// NewTxn returns an empty transaction.
func NewTxn() *Txn { return &Txn{} }

// SetMtime sets the modification time recorded on every object the
// transaction modifies. The PG layer sets the client's op time so that all
// replicas record the same mtime; if unset, the store uses the time of
// Submit.
func (t *Txn) SetMtime(mtime time.Time) { t.mtime = mtime }

// Len returns the number of operations in t.
func (t *Txn) Len() int { return len(t.ops) }

type opKind uint8

const (
	opCreateColl opKind = iota
	opRemoveColl
	opSetCollFlags
	opTouch
	opCreate
	opWrite
	opWriteFull
	opAppend
	opTruncate
	opZero
	opRemove
	opSetXattr
	opRmXattr
	opOmapSet
	opOmapRm
	opOmapRmRange
	opOmapClear
	opOmapSetHeader
	opSetVersion
	opSetMtime
	opLogAppend
	opLogTrim
	opLogRewind
	opSetPGInfo
	opSetPGMeta
	opRmPGMeta
)

var opNames = [...]string{
	opCreateColl: "create collection", opRemoveColl: "remove collection",
	opSetCollFlags: "set collection flags", opTouch: "touch", opCreate: "create",
	opWrite: "write", opWriteFull: "write_full", opAppend: "append",
	opTruncate: "truncate", opZero: "zero", opRemove: "remove",
	opSetXattr: "setxattr", opRmXattr: "rmxattr", opOmapSet: "omap set",
	opOmapRm: "omap rm", opOmapRmRange: "omap rm range", opOmapClear: "omap clear",
	opOmapSetHeader: "omap set header", opSetVersion: "set version",
	opSetMtime: "set mtime", opLogAppend: "log append", opLogTrim: "log trim",
	opLogRewind: "log rewind", opSetPGInfo: "set pg info",
	opSetPGMeta: "set pg meta", opRmPGMeta: "rm pg meta",
}

func (k opKind) String() string { return opNames[k] }

// op is one recorded operation; which fields are used depends on kind.
type op struct {
	kind     opKind
	coll     CollID
	obj      ObjectID
	off, len uint64 // write/zero range, truncate size
	data     []byte // write data, xattr/omap/log/pg value
	name     string // xattr name, pg meta key, omap range start
	name2    string // omap range end
	keys     []string
	vals     [][]byte // omap values, parallel to keys
	ver      EVersion // set version, log entry, trim/rewind bound
	uver     uint64
	mtime    time.Time
	flags    uint64
	// blocks holds the prepared values of the blocks a write covers
	// completely, indexed from block firstBlock, prepared off the
	// committer so that checksumming and block file writes run in
	// parallel: a sealed bucketData value or a block file unit. Zero
	// entries are partial blocks the committer merges with the old
	// contents.
	blocks     []prepBlock
	firstBlock uint64
}

// prepBlock is one prepared block of a write: a sealed inline value, or
// (ref set) the block file unit it was written to, whose bucketExtents
// value the committer seals once it knows the block's key.
type prepBlock struct {
	val []byte
	ref bool
	ext extentRef
}

func (t *Txn) add(o op) { t.ops = append(t.ops, o) }

func (t *Txn) objOp(kind opKind, c CollID, o ObjectID) *op {
	t.ops = append(t.ops, op{kind: kind, coll: c, obj: o.Normalize()})
	return &t.ops[len(t.ops)-1]
}

// CreateCollection creates collection c; it fails with ErrExists if c
// exists.
func (t *Txn) CreateCollection(c CollID) { t.add(op{kind: opCreateColl, coll: c}) }

// RemoveCollection removes the empty collection c with its PG log, PG info
// and per-PG keys; it fails with ErrCollectionNotEmpty if objects remain.
func (t *Txn) RemoveCollection(c CollID) { t.add(op{kind: opRemoveColl, coll: c}) }

// setCollFlags replaces the flags of c (import marks and clears
// collFlagIncomplete).
func (t *Txn) setCollFlags(c CollID, flags uint64) {
	t.add(op{kind: opSetCollFlags, coll: c, flags: flags})
}

// Touch creates object o if it does not exist.
func (t *Txn) Touch(c CollID, o ObjectID) { t.objOp(opTouch, c, o) }

// Create creates object o; it fails with ErrExists if o exists.
func (t *Txn) Create(c CollID, o ObjectID) { t.objOp(opCreate, c, o) }

// Write writes data at offset off of object o, creating it and extending
// its size as needed; bytes skipped past the old end read as zeros.
func (t *Txn) Write(c CollID, o ObjectID, off uint64, data []byte) {
	p := t.objOp(opWrite, c, o)
	p.off, p.len, p.data = off, uint64(len(data)), data
	t.dataBytes += len(data)
}

// WriteFull replaces the contents of object o with data.
func (t *Txn) WriteFull(c CollID, o ObjectID, data []byte) {
	p := t.objOp(opWriteFull, c, o)
	p.len, p.data = uint64(len(data)), data
	t.dataBytes += len(data)
}

// Append writes data at the end of object o.
func (t *Txn) Append(c CollID, o ObjectID, data []byte) {
	p := t.objOp(opAppend, c, o)
	p.len, p.data = uint64(len(data)), data
	t.dataBytes += len(data)
}

// Truncate sets the size of object o, dropping bytes past size or
// extending with zeros.
func (t *Txn) Truncate(c CollID, o ObjectID, size uint64) {
	t.objOp(opTruncate, c, o).off = size
}

// Zero zeroes length bytes of object o from off (within its size; Zero
// never changes the size), freeing whole blocks.
func (t *Txn) Zero(c CollID, o ObjectID, off, length uint64) {
	p := t.objOp(opZero, c, o)
	p.off, p.len = off, length
}

// Remove removes object o with its data, xattrs and omap; it fails with
// ErrNotFound if o does not exist.
func (t *Txn) Remove(c CollID, o ObjectID) { t.objOp(opRemove, c, o) }

// SetXattr sets xattr name of object o to value.
func (t *Txn) SetXattr(c CollID, o ObjectID, name string, value []byte) {
	p := t.objOp(opSetXattr, c, o)
	p.name, p.data = name, value
}

// RmXattr removes xattr name of object o; it fails with ErrNoXattr if the
// xattr does not exist.
func (t *Txn) RmXattr(c CollID, o ObjectID, name string) {
	t.objOp(opRmXattr, c, o).name = name
}

// OmapSet sets omap keys of object o (applied in key order).
func (t *Txn) OmapSet(c CollID, o ObjectID, kv map[string][]byte) {
	p := t.objOp(opOmapSet, c, o)
	p.keys = make([]string, 0, len(kv))
	for k := range kv {
		p.keys = append(p.keys, k)
	}
	sort.Strings(p.keys)
	p.vals = make([][]byte, len(p.keys))
	for i, k := range p.keys {
		p.vals[i] = kv[k]
	}
}

// OmapRm removes omap keys of object o; missing keys are ignored.
func (t *Txn) OmapRm(c CollID, o ObjectID, keys ...string) {
	t.objOp(opOmapRm, c, o).keys = append([]string{}, keys...)
}

// OmapRmRange removes the omap keys k of object o with first <= k < last.
func (t *Txn) OmapRmRange(c CollID, o ObjectID, first, last string) {
	p := t.objOp(opOmapRmRange, c, o)
	p.name, p.name2 = first, last
}

// OmapClear removes every omap key and the omap header of object o.
func (t *Txn) OmapClear(c CollID, o ObjectID) { t.objOp(opOmapClear, c, o) }

// OmapSetHeader sets the omap header of object o.
func (t *Txn) OmapSetHeader(c CollID, o ObjectID, header []byte) {
	t.objOp(opOmapSetHeader, c, o).data = header
}

// SetVersion records the PG layer's version of object o: the eversion of
// the write that produced it and the user-visible version.
func (t *Txn) SetVersion(c CollID, o ObjectID, v EVersion, userVersion uint64) {
	p := t.objOp(opSetVersion, c, o)
	p.ver, p.uver = v, userVersion
}

// SetObjectMtime sets the mtime of object o explicitly, overriding the
// transaction's mtime for it (recovery and import keep the source's).
func (t *Txn) SetObjectMtime(c CollID, o ObjectID, mtime time.Time) {
	t.objOp(opSetMtime, c, o).mtime = mtime
}

// AppendLog adds PG log entry v of collection c; it fails with ErrExists if
// an entry with version v exists.
func (t *Txn) AppendLog(c CollID, v EVersion, entry []byte) {
	t.add(op{kind: opLogAppend, coll: c, ver: v, data: entry})
}

// TrimLog removes the log entries of c with versions <= upTo.
func (t *Txn) TrimLog(c CollID, upTo EVersion) { t.add(op{kind: opLogTrim, coll: c, ver: upTo}) }

// RewindLog removes the log entries of c with versions > after (divergent
// entries found by peering).
func (t *Txn) RewindLog(c CollID, after EVersion) {
	t.add(op{kind: opLogRewind, coll: c, ver: after})
}

// SetPGInfo sets the PG info of collection c.
func (t *Txn) SetPGInfo(c CollID, info []byte) { t.add(op{kind: opSetPGInfo, coll: c, data: info}) }

// SetPGMeta sets per-PG key of collection c to value.
func (t *Txn) SetPGMeta(c CollID, key string, value []byte) {
	t.add(op{kind: opSetPGMeta, coll: c, name: key, data: value})
}

// RmPGMeta removes per-PG key of collection c; a missing key is ignored.
func (t *Txn) RmPGMeta(c CollID, key string) { t.add(op{kind: opRmPGMeta, coll: c, name: key}) }

// opError wraps the error of operation i of a transaction with its
// position, kind and target, so a failure says which op caused it.
func opError(i int, p *op, err error) error {
	target := "collection " + p.coll.String()
	if p.obj.Name != "" {
		target += " object " + p.obj.String()
	}
	return fmt.Errorf("op %d (%s) on %s: %w", i, p.kind, target, err)
}
