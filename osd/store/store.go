package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"
)

// Store is an OSD's object store. It is safe for concurrent use: reads run
// in parallel with each other and with commits; writes are queued to one
// committer goroutine that group-commits them.
type Store struct {
	dir       string
	db        *bolt.DB
	bf        *blockFile
	opts      Options
	limits    Limits
	blockSize int

	mu      sync.Mutex
	cond    *sync.Cond // signals the committer: queue not empty or closing
	queue   []*Pending
	closed  bool
	failed  error         // set by the first failed commit
	slots   chan struct{} // one token per queued transaction
	stopped chan struct{} // closed when the committer exits

	nextNID uint64 // owned by the committer after Open

	// blockPool holds *[]byte buffers of crcLen+blockSize bytes for
	// prepared data blocks.
	blockPool sync.Pool

	stats struct {
		txns, failedTxns, commits, maxBatch, bytesPut, commitNanos atomic.Uint64
	}
}

// Create makes a new, empty store in directory dir (created if needed) and
// opens it. It fails with ErrStoreExists if dir already holds one. The
// store starts with the meta collection.
func Create(dir string, opts Options) (*Store, error) {
	if opts.ReadOnly {
		return nil, fmt.Errorf("%w: cannot create a store read-only", ErrInvalid)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create object store directory: %w", err)
	}
	path := filepath.Join(dir, storeFileName)
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrStoreExists, path)
	}
	// The block file comes first: a store.db without it is refused by
	// Open, so a crash in between leaves nothing that looks like a store.
	bpath := filepath.Join(dir, blockFileName)
	os.Remove(bpath) // left by a Create that crashed before store.db
	if err := createBlockFile(bpath); err != nil {
		return nil, err
	}
	db, err := openBolt(path, o)
	if err != nil {
		os.Remove(bpath)
		return nil, err
	}
	if err := db.Update(func(tx *bolt.Tx) error { return initSchema(tx, o.BlockSize) }); err != nil {
		db.Close()
		os.Remove(path)
		os.Remove(bpath)
		return nil, fmt.Errorf("initialize object store %s: %w", path, err)
	}
	return start(dir, db, o)
}

// Open opens the store in directory dir. It fails with ErrNoStore if there
// is none, ErrLocked if another process has it open, and ErrFormat if it
// was written by an incompatible version.
func Open(dir string, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, storeFileName)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoStore, dir)
		}
		return nil, fmt.Errorf("open object store: %w", err)
	}
	db, err := openBolt(path, o)
	if err != nil {
		return nil, err
	}
	return start(dir, db, o)
}

func openBolt(path string, o Options) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  o.LockTimeout,
		ReadOnly: o.ReadOnly,
		// The freelist is rebuilt at open instead of being rewritten by
		// every commit; with data in bbolt it would be large.
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: o.MmapSize,
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("%w: %s is not a readable bbolt file: %w", ErrFormat, path, err)
	case err != nil:
		return nil, fmt.Errorf("open object store %s: %w", path, err)
	}
	// Grow the file in large steps: each growth costs an extra fsync.
	db.AllocSize = 64 << 20
	return db, nil
}

// initSchema creates the buckets, the meta keys and the meta collection.
func initSchema(tx *bolt.Tx, blockSize int) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	now := time.Now()
	for _, kv := range []struct {
		k []byte
		v uint64
	}{{keyFormat, formatVersion}, {keyBlockSize, uint64(blockSize)}, {keyNextNID, 1}, {keyCreated, uint64(now.UnixNano())}} {
		if err := meta.Put(kv.k, sealUvarint(kv.k, kv.v)); err != nil {
			return err
		}
	}
	k := collKey(MetaColl)
	rec := collRecord{created: now}
	return tx.Bucket(bucketColls).Put(k, seal(k, rec.encode()))
}

// start reads the store's settings and starts the committer.
func start(dir string, db *bolt.DB, o Options) (*Store, error) {
	s := &Store{dir: dir, db: db, opts: o, limits: o.Limits,
		slots: make(chan struct{}, o.MaxQueuedTxns), stopped: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	if err := db.View(s.loadMeta); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.openBlocks(); err != nil {
		db.Close()
		return nil, err
	}
	s.blockPool.New = func() any {
		b := make([]byte, 0, crcLen+s.blockSize)
		return &b
	}
	if o.ReadOnly {
		close(s.stopped)
	} else {
		go s.commitLoop()
	}
	return s, nil
}

func (s *Store) loadMeta(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: bucket %q missing; %s is not an object store", ErrFormat, name, s.dir)
		}
	}
	meta := tx.Bucket(bucketMeta)
	read := func(k []byte) (uint64, error) {
		v, err := unsealUvarint(k, meta.Get(k))
		if err != nil {
			return 0, &CorruptError{Coll: MetaColl, Block: -1, What: fmt.Sprintf("store meta key %q: %v", k, err)}
		}
		return v, nil
	}
	format, err := read(keyFormat)
	if err != nil {
		return err
	}
	if format == 1 {
		return fmt.Errorf("%w: %s holds a store of format 1 (all data inside bbolt), this build reads format %d (large blocks in %s): "+
			"export its PGs with the build that wrote it (osd store export), then recreate the OSD (osd mkfs) and import them",
			ErrFormat, s.dir, formatVersion, blockFileName)
	}
	if format != formatVersion {
		return fmt.Errorf("%w: store format %d, this build reads format %d", ErrFormat, format, formatVersion)
	}
	bs, err := read(keyBlockSize)
	if err != nil {
		return err
	}
	if bs > maxBlockSize || checkBlockSize(int(bs)) != nil {
		return &CorruptError{Coll: MetaColl, Block: -1, What: fmt.Sprintf("store block size %d", bs)}
	}
	s.blockSize = int(bs)
	s.nextNID, err = read(keyNextNID)
	return err
}

// Close commits the transactions already queued, stops the committer and
// closes the store. Later calls return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	<-s.stopped
	err := s.db.Close()
	if berr := s.bf.close(); err == nil {
		err = berr
	}
	if err != nil {
		return fmt.Errorf("close object store: %w", err)
	}
	return nil
}

// openBlocks opens the block file and, for a writable store, rebuilds its
// allocation bitmap from the references in bucketExtents: units nobody
// refers to, including those of transactions a crash interrupted, are
// free.
func (s *Store) openBlocks() error {
	bf, err := openBlockFile(filepath.Join(s.dir, blockFileName), s.blockSize, s.opts.ReadOnly)
	if err != nil {
		return err
	}
	bf.cache = newBlockCache(s.opts.CacheBytes, uint64(s.blockSize))
	if !s.opts.ReadOnly {
		err = s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketExtents).ForEach(func(k, v []byte) error {
				// A bad reference is reported by the reads that meet
				// it; here it only must not be marked twice.
				if r, err := unsealExtentRef(k, v, s.blockSize); err == nil && !bf.markUsed(r.unit) {
					s.opts.Logger.Error("object store: a block refers to a block file unit past the end of the file or already referenced",
						"unit", r.unit, "key", fmt.Sprintf("%x", k))
				}
				return nil
			})
		})
	}
	if err != nil {
		bf.close()
		return fmt.Errorf("rebuild the block file allocation: %w", err)
	}
	s.bf = bf
	return nil
}

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// BlockSize returns the data block size fixed at creation.
func (s *Store) BlockSize() int { return s.blockSize }

// Limits returns the limits in force.
func (s *Store) Limits() Limits { return s.limits }

// Stats are cumulative counters since Open.
type Stats struct {
	// Txns and FailedTxns count committed and rejected transactions.
	Txns, FailedTxns uint64
	// Commits counts bbolt commits (group commits). Each commit fsyncs the
	// file twice (fdatasync of the data pages, then of the meta page), so
	// fsyncs per transaction is 2 * Commits / Txns.
	Commits uint64
	// MaxBatch is the largest number of transactions in one commit.
	MaxBatch uint64
	// BytesPut counts key and value bytes handed to bbolt.
	BytesPut uint64
	// CommitTime is the total time spent in commits, fsyncs included.
	CommitTime time.Duration
	// BlockFileBytes is the size of the block file and BlockFileFreeBytes
	// the part of it no block uses (reused before the file grows).
	BlockFileBytes, BlockFileFreeBytes uint64
	// CacheHits and CacheMisses count the runs of consecutive block file
	// units reads found in the cache or fetched from disk; CacheBytes is
	// the cache's size.
	CacheHits, CacheMisses, CacheBytes uint64
}

// Usage is the store's share of its file system.
type Usage struct {
	// FSBytes and FSAvailBytes describe the file system of the store's
	// directory (available to unprivileged users).
	FSBytes, FSAvailBytes uint64
	// StoreBytes is the bbolt file plus the used part of the block file.
	StoreBytes uint64
}

// Usage returns the store's space figures.
func (s *Store) Usage() (Usage, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(s.dir, &fs); err != nil {
		return Usage{}, fmt.Errorf("statfs %s: %w", s.dir, err)
	}
	st, err := os.Stat(filepath.Join(s.dir, storeFileName))
	if err != nil {
		return Usage{}, fmt.Errorf("store file: %w", err)
	}
	units, free := s.bf.stats()
	return Usage{FSBytes: fs.Blocks * uint64(fs.Bsize), FSAvailBytes: fs.Bavail * uint64(fs.Bsize),
		StoreBytes: uint64(st.Size()) + (units-free)*uint64(s.blockSize)}, nil
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	units, free := s.bf.stats()
	hits, misses, cached := s.bf.cache.stats()
	return Stats{
		CacheHits: hits, CacheMisses: misses, CacheBytes: cached,
		BlockFileBytes:     units * uint64(s.blockSize),
		BlockFileFreeBytes: free * uint64(s.blockSize),
		Txns:               s.stats.txns.Load(),
		FailedTxns:         s.stats.failedTxns.Load(),
		Commits:            s.stats.commits.Load(),
		MaxBatch:           s.stats.maxBatch.Load(),
		BytesPut:           s.stats.bytesPut.Load(),
		CommitTime:         time.Duration(s.stats.commitNanos.Load()),
	}
}
