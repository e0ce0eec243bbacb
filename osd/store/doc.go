// Package store is an OSD's object store: the durable home of the objects,
// attributes, omaps, PG logs and PG infos of the placement groups an OSD
// holds, in one bbolt file per OSD (DIR/store.db).
//
// It owns the on-disk format (schema.go), atomic transactions, durability
// with group commit, checksums, listing order, limits, and the offline
// functions behind `osd store list|export|import|get`. It must not know
// about networks, maps or peering: PG log entries, PG infos and per-PG keys
// are opaque bytes the PG layer supplies, and object hashes come from the
// caller.
//
// # Model
//
// A collection (CollID) holds one PG's objects plus its log, info and
// per-PG keys; MetaColl holds the OSD's own objects. Objects are named like
// Ceph's hobject_t (ObjectID: pool, namespace, locator key, name, 32-bit
// hash) and listed in Ceph's order: bit-reversed hash, namespace, effective
// key, name (Compare), with paged cursors (ListObjects).
//
// # Transactions
//
// A Txn carries every change of one op: data (Write, WriteFull, Append,
// Truncate, Zero, Create, Remove), xattrs, omap, object versions, and the
// PG layer's log entries (AppendLog, TrimLog, RewindLog), PG info and
// per-PG keys. Apply returns once the whole transaction is durable; after a
// crash it is wholly there or wholly absent. Submit queues a transaction
// and returns a Pending, so the PG layer can pipeline the ops of a PG:
// transactions commit in submission order.
//
// Execution happens in two steps. Submit validates what needs no store
// access (ids, names, sizes, offsets; ErrInvalid, ErrTooLarge) and seals
// the data blocks a write covers completely, on the caller's goroutine.
// The committer then executes each transaction into a private overlay
// (view.go) that reads through to bbolt: every rule that depends on the
// store's contents (ErrExists, ErrNotFound, size limits of appends, a
// corrupt block under a partial write) is checked there, and only a
// transaction that executed completely is flushed into the shared bbolt
// transaction. A rejected transaction leaves no trace and does not affect
// the others of its batch; nothing is executed twice (bbolt's DB.Batch,
// which re-runs functions after a failure, is not used).
//
// # Durability and group commit
//
// One committer goroutine takes everything queued (up to
// Options.MaxBatchTxns and MaxBatchBytes) and commits it as one bbolt
// transaction: two fdatasyncs for the whole batch, however many
// transactions it holds. Transactions that arrive during a commit's fsyncs
// form the next batch, so batches grow with concurrency without any timer:
// 16 concurrent writers share a commit 8 at a time (0.25 fsyncs per
// transaction; see docs/BENCHMARKS.md, "Object store"). If a commit fails,
// its transactions fail and the store refuses further writes (ErrFailed)
// until it is reopened, since the state of unsynced pages is unknown.
//
// Failpoints (internal/failpoint) mark the boundaries: osdBeforeCommit
// (a crash loses the batch) and osdAfterCommitBeforeAck (a crash keeps it
// although nobody was acknowledged). The crash test kills a child process
// at both and at random points and checks every acknowledged transaction.
//
// # Data in bbolt, in checksummed blocks
//
// Object data is cut into blocks (32 KiB by default, fixed per store at
// Create), each one bbolt value: crc32c (Castagnoli) of the payload, then
// the payload. Every read verifies every block it touches; a mismatch is a
// *CorruptError (ErrCorrupt) naming the collection, object and block, never
// wrong bytes. Metadata values carry a crc32c over key and payload. A write
// replaces only the blocks it touches, merging partial ones, so a 4 KiB
// overwrite inside a 4 MiB object rewrites one block: about 78 KB reach
// write(2) per such op (bbolt copies the leaf holding the block and its
// neighbour, the branch pages above it and a meta page), not 4 MiB.
//
// Data lives in bbolt rather than in extent files indexed by bbolt because
// the measurements did not reward the extra machinery. A 4 MiB write into
// bbolt hands 1.07 times its size to write(2) (the leaf pages around the
// blocks, branch pages, the meta page) and ran at 180-640 MB/s on the
// shared test machine, in the same range as the floor an extent file would
// pay, 110-590 MB/s for pwrite plus fdatasync of the data alone before the
// metadata commit it would still need (BenchmarkBaselineFile, run
// alternately with BenchmarkWrite). CPU per 4 MiB transaction was 4.5-6.3
// ms, against 1.2-10 ms for the bare pwrite, whose cost is mostly kernel
// time here. Extent files would also need a third fsync per commit, an
// allocator and crash-safe reuse of freed extents, or a garbage collector;
// bbolt gives atomicity of data and metadata in one commit for free. If
// bbolt's copying of large values ever becomes an OSD's limit, extent
// files for large blocks are the next step.
//
// The block size trades the cost of small overwrites against that of
// large writes; measured with BenchmarkBlockSize (16 writers):
//
//	block    4 MiB write: written/op   4 KiB overwrite: written/op, CPU/op
//	16 KiB   4.74 MB                    46 KB, ~120 µs
//	32 KiB   4.48 MB                    78 KB, ~200 µs
//	64 KiB   4.36 MB                    141 KB, ~310 µs
//	256 KiB  4.36 MB                    516 KB
//
// 32 KiB keeps large writes within 3% of the largest blocks and halves the
// cost of small overwrites relative to 64 KiB.
//
// bbolt is opened with NoFreelistSync (the freelist is rebuilt at open
// instead of being rewritten by every commit) and grows its file in 64 MiB
// steps, since each growth costs an fsync.
//
// # Offline tool
//
// Export writes a collection to a versioned, checksummed stream (format in
// export.go); Import recreates it in another store, marked incomplete until
// its last record is checked; PurgeCollection removes a collection in
// bounded transactions; DumpObject and WalkObjects serve `get` and `list`.
// Open the store with Options{ReadOnly: true} to share it with other
// readers; a running OSD holds an exclusive lock (ErrLocked).
package store
