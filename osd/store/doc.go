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
// # Data in checksummed blocks: inline in bbolt or in the block file
//
// Object data is cut into blocks (32 KiB by default, fixed per store at
// Create). A block is stored inline, as one bbolt value (crc32c of the
// payload, then the payload), or in the block file DIR/store.blocks, one
// block per unit of the block size, referenced from bbolt by a record
// holding the unit and the payload's crc32c (blockfile.go, schema.go).
// Every read verifies every block it touches; a mismatch is a
// *CorruptError (ErrCorrupt) naming the collection, object and block,
// never wrong bytes. Metadata values carry a crc32c over key and payload.
//
// A write that covers at least Options.BlockFileMin bytes (64 KiB) of whole
// blocks writes them to fresh units of the block file, on the submitter's
// goroutine and with O_DIRECT|O_DSYNC, before the transaction reaches the
// committer; the group commit then switches the references in bbolt. This
// is copy-on-write: a crash before the commit leaves the new units
// unreferenced, and the allocation bitmap is rebuilt at Open from the
// references, so unreferenced units are simply free. Units a commit stops
// referring to are reused only after every read that started before the
// commit has ended. Smaller writes, and the partial blocks at the edges of
// large ones, stay inline. A write replaces only the blocks it touches,
// merging partial ones inline, so a 4 KiB overwrite inside a 4 MiB object
// rewrites one 32 KiB block into bbolt (about 78 KB reach write(2)), not
// the object.
//
// Format 1 kept every block inline. The block file exists because of what
// the kernel charges for writing through the page cache: on the test
// machine a buffered 4 MiB pwrite plus fdatasync ran at 360 MB/s and cost
// 12 ms of CPU, while an O_DIRECT|O_DSYNC pwrite of the same 4 MiB ran at
// 1.6 GB/s for 0.3 ms of CPU. bbolt writes every page it changes with a
// buffered pwrite, which made 4 MiB writes CPU-bound on a three-replica
// cluster of one 2-core machine (docs/BENCHMARKS.md). With the block file,
// BenchmarkWrite stores 4 MiB objects at 1.8 GB/s and 0.9 ms of CPU each
// (16 writers), against 0.7 GB/s and 4.4 ms inline. The block file needs no
// fsync of its own (O_DSYNC makes each write durable before it is
// referenced) and the commit keeps its two. Reads use O_DIRECT too: the
// test machine's memory manager pages out file pages read once within
// seconds, so the page cache cost CPU without serving later reads. Where
// O_DIRECT is refused (tmpfs), the block file is read and written through
// the page cache (writes with O_DSYNC), which is slower but as safe.
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
