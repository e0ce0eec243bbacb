package store

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Limits bounds what a transaction may store. Zero fields take the
// defaults of DefaultLimits, which follow Ceph's (osd_max_object_size,
// osd_max_object_name_len, osd_max_object_namespace_len,
// osd_max_attr_name_len). A request over a limit fails with ErrTooLarge and
// changes nothing.
type Limits struct {
	ObjectSize    uint64 // largest object size and write end offset, bytes
	NameLen       int    // object name, bytes
	NamespaceLen  int    // RADOS namespace, bytes
	KeyLen        int    // locator key, bytes
	XattrNameLen  int    // xattr name, bytes
	XattrValueLen int    // xattr value, bytes
	OmapKeyLen    int    // omap key, bytes
	OmapValueLen  int    // omap value or header, bytes
	PGKeyLen      int    // per-PG metadata key, bytes
	PGValueLen    int    // PG log entry, PG info or per-PG value, bytes
}

// DefaultLimits are the limits used for zero fields of Options.Limits.
var DefaultLimits = Limits{
	ObjectSize:    128 << 20,
	NameLen:       2048,
	NamespaceLen:  256,
	KeyLen:        2048,
	XattrNameLen:  100,
	XattrValueLen: 64 << 10,
	OmapKeyLen:    4096,
	OmapValueLen:  1 << 20,
	PGKeyLen:      1024,
	PGValueLen:    1 << 20,
}

// maxKeyBytes is bbolt's key size limit; limits are checked against it so a
// key that passes validation can always be stored.
const maxKeyBytes = 32768

// objectSizeCeiling bounds Limits.ObjectSize so that block indexes fit in
// 32 bits with the smallest block size.
const objectSizeCeiling = 1 << 40

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.ObjectSize != 0 {
		d.ObjectSize = l.ObjectSize
	}
	setInt := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	setInt(&d.NameLen, l.NameLen)
	setInt(&d.NamespaceLen, l.NamespaceLen)
	setInt(&d.KeyLen, l.KeyLen)
	setInt(&d.XattrNameLen, l.XattrNameLen)
	setInt(&d.XattrValueLen, l.XattrValueLen)
	setInt(&d.OmapKeyLen, l.OmapKeyLen)
	setInt(&d.OmapValueLen, l.OmapValueLen)
	setInt(&d.PGKeyLen, l.PGKeyLen)
	setInt(&d.PGValueLen, l.PGValueLen)
	return d
}

func (l Limits) validate() error {
	if l.ObjectSize > objectSizeCeiling {
		return fmt.Errorf("%w: object size limit %d is over %d", ErrInvalid, l.ObjectSize, uint64(objectSizeCeiling))
	}
	for _, v := range []int{l.NameLen, l.NamespaceLen, l.KeyLen, l.XattrNameLen, l.XattrValueLen, l.OmapKeyLen, l.OmapValueLen, l.PGKeyLen, l.PGValueLen} {
		if v < 0 {
			return fmt.Errorf("%w: negative limit in %+v", ErrInvalid, l)
		}
	}
	// Worst case of an onode key: every byte of the strings escaped.
	if collKeyLen+4+2*(l.NamespaceLen+l.KeyLen+l.NameLen)+6 > maxKeyBytes {
		return fmt.Errorf("%w: name, key and namespace limits make onode keys longer than bbolt's %d bytes", ErrInvalid, maxKeyBytes)
	}
	if nidLen+1+max(l.OmapKeyLen, l.XattrNameLen) > maxKeyBytes || collKeyLen+l.PGKeyLen > maxKeyBytes {
		return fmt.Errorf("%w: omap, xattr or PG key limit over bbolt's %d-byte keys", ErrInvalid, maxKeyBytes)
	}
	return nil
}

// Options configures Open and Create. The zero value is valid.
type Options struct {
	// Limits bounds objects and metadata; zero fields take DefaultLimits.
	Limits Limits
	// BlockSize is the data block size, the unit of checksums and of
	// read-modify-write, fixed when the store is created (Create); Open
	// uses the stored one. A power of two from 4 KiB to 1 MiB; default
	// 32 KiB (see the package doc for the measurements behind it).
	BlockSize int
	// BlockFileMin is the smallest run of whole blocks, in bytes, that a
	// write stores in the block file instead of bbolt (see the package
	// doc); shorter writes and the partial blocks at a write's edges stay
	// in bbolt. Default 64 KiB; a negative value keeps all data in bbolt.
	BlockFileMin int
	// CacheBytes is the memory kept for the block file units reads
	// fetched last (a hit costs a copy and a crc check instead of a disk
	// read); 0 keeps none.
	CacheBytes int64
	// ReadOnly opens the store for reading only, sharing it with other
	// read-only users (the offline tool); Submit fails with ErrInvalid.
	ReadOnly bool
	// LockTimeout is how long Open waits for another process to release
	// the store; default 1 s, after which Open fails with ErrLocked.
	LockTimeout time.Duration
	// MaxBatchTxns and MaxBatchBytes bound one group commit; defaults 1024
	// transactions and 64 MiB of data. A larger batch saves fsyncs but
	// makes its first transaction wait longer.
	MaxBatchTxns  int
	MaxBatchBytes int
	// MaxQueuedTxns bounds transactions submitted but not yet committed;
	// Submit waits for room. Default 4096.
	MaxQueuedTxns int
	// MmapSize is bbolt's initial memory map size (address space, not
	// memory); default 4 GiB (less on 32-bit hosts). The map is grown when the
	// file outgrows it, which briefly blocks readers.
	MmapSize int
	// Logger receives commit failures; default slog.Default().
	Logger *slog.Logger
	// OnCommit, if set, is called by the committer after every group
	// commit, for metrics. It must return quickly.
	OnCommit func(CommitInfo)
}

// CommitInfo describes one group commit, for OnCommit.
type CommitInfo struct {
	Txns     int           // transactions committed
	Failed   int           // transactions of the batch rejected
	BytesPut uint64        // key and value bytes written to bbolt
	Duration time.Duration // from the start of the bbolt transaction to the end of its fsyncs
	Err      error         // non-nil if the commit itself failed
}

// Default values of Options.
const (
	DefaultBlockSize     = 32 << 10
	defaultBlockFileMin  = 64 << 10
	defaultLockTimeout   = time.Second
	defaultMaxBatchTxns  = 1024
	defaultMaxBatchBytes = 64 << 20
	defaultMaxQueued     = 4096
	minBlockSize         = 4 << 10
	maxBlockSize         = 1 << 20
)

// defaultMmapSize is a variable so that the conversion to int above is not
// a constant overflow on 32-bit hosts.
var defaultMmapSize uint64 = 4 << 30

func (o Options) withDefaults() (Options, error) {
	o.Limits = o.Limits.withDefaults()
	if err := o.Limits.validate(); err != nil {
		return o, err
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if err := checkBlockSize(o.BlockSize); err != nil {
		return o, err
	}
	if o.BlockFileMin == 0 {
		o.BlockFileMin = defaultBlockFileMin
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = defaultLockTimeout
	}
	if o.MaxBatchTxns <= 0 {
		o.MaxBatchTxns = defaultMaxBatchTxns
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = defaultMaxBatchBytes
	}
	if o.MaxQueuedTxns <= 0 {
		o.MaxQueuedTxns = defaultMaxQueued
	}
	if o.MmapSize <= 0 {
		o.MmapSize = int(min(defaultMmapSize, uint64(math.MaxInt)))
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

func checkBlockSize(n int) error {
	if n < minBlockSize || n > maxBlockSize || n&(n-1) != 0 {
		return fmt.Errorf("%w: block size %d: want a power of two from %d to %d", ErrInvalid, n, minBlockSize, maxBlockSize)
	}
	return nil
}
