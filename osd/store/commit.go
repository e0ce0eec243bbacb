package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gorados/gorados/internal/failpoint"
	bolt "go.etcd.io/bbolt"
)

// Failpoints evaluated by the committer (see internal/failpoint). Tests arm
// them to crash the process at the durability boundaries.
const (
	// FailpointBeforeCommit is evaluated after a batch has executed, just
	// before the bbolt commit: a crash here must lose the whole batch, and
	// an injected error fails the batch and the store (ErrFailed).
	FailpointBeforeCommit = "osdBeforeCommit"
	// FailpointAfterCommitBeforeAck is evaluated after the commit's fsyncs,
	// before the batch's waiters are told: a crash here must keep the
	// whole batch although nobody was acknowledged. An injected error is
	// delivered to the waiters as an unknown outcome (the batch is durable).
	FailpointAfterCommitBeforeAck = "osdAfterCommitBeforeAck"
)

// testHookFlush, if set by a test, runs before a transaction's changes are
// flushed into bbolt; an error simulates a failure inside bbolt.
var testHookFlush func(*Txn) error

// Pending is a submitted transaction. Its Done channel closes once the
// transaction has been committed (durable: fsynced) or rejected.
type Pending struct {
	txn  *Txn
	done chan struct{}
	err  error
	// flushed is set when the transaction went into the batch's bbolt
	// transaction (it is committed if the batch is).
	flushed bool
}

// Done returns a channel closed when the transaction has completed.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Err returns the transaction's outcome once Done is closed: nil if it is
// committed and durable.
func (p *Pending) Err() error {
	<-p.done
	return p.err
}

// Wait waits for the transaction to complete and returns its outcome. If
// ctx ends first, Wait returns ctx's error: the transaction is still
// queued and may yet commit.
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.done: // a completed transaction reports its outcome even if ctx ended
		return p.err
	default:
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the object store commit (the transaction may still commit): %w", ctx.Err())
	}
}

// Apply submits t and waits until it is durable. It returns nil only after
// the transaction has been committed and fsynced; an error from validation
// or execution means nothing of t was applied. If ctx ends while t is
// queued, Apply returns ctx's error and t may still commit.
func (s *Store) Apply(ctx context.Context, t *Txn) error {
	p, err := s.Submit(ctx, t)
	if err != nil {
		return err
	}
	return p.Wait(ctx)
}

// Submit validates t and queues it for the next group commit without
// waiting for it. Transactions commit in the order they were submitted, so
// the PG layer can pipeline the ops of one PG. Submit waits only if
// Options.MaxQueuedTxns transactions are already queued. Static errors
// (ErrInvalid, ErrTooLarge) are returned at once; errors that depend on
// the store's contents (ErrNotFound, ErrExists, ...) come from the
// Pending.
func (s *Store) Submit(ctx context.Context, t *Txn) (*Pending, error) {
	if t == nil || t.submitted {
		return nil, fmt.Errorf("%w: nil transaction, or one submitted before (build a new Txn per op)", ErrInvalid)
	}
	if s.opts.ReadOnly {
		return nil, fmt.Errorf("%w: the store is open read-only", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.validate(t); err != nil {
		return nil, err
	}
	t.submitted = true
	if t.mtime.IsZero() {
		t.mtime = time.Now()
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for room in the object store queue: %w", ctx.Err())
	}
	if err := s.prepare(t); err != nil {
		<-s.slots
		s.abandon(t)
		return nil, err
	}
	p := &Pending{txn: t, done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refusing(); err != nil {
		<-s.slots
		s.abandon(t)
		return nil, err
	}
	s.queue = append(s.queue, p)
	s.cond.Signal()
	return p, nil
}

// refusing returns why the store takes no more transactions, if it does
// not. The caller holds s.mu.
func (s *Store) refusing() error {
	if s.closed {
		return ErrClosed
	}
	if s.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}
	return nil
}

// commitLoop is the committer: it takes whatever is queued (up to the
// batch limits) and commits it as one bbolt transaction, so transactions
// that arrive during a commit's fsyncs share the next one.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	for {
		batch := s.takeBatch()
		if batch == nil {
			return
		}
		s.commitBatch(batch)
	}
}

// takeBatch waits for queued transactions and removes a batch from the
// queue; it returns nil when the store is closed and the queue drained.
func (s *Store) takeBatch() []*Pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) == 0 && !s.closed {
		s.cond.Wait()
	}
	n, size := 0, 0
	for n < len(s.queue) && n < s.opts.MaxBatchTxns && (n == 0 || size < s.opts.MaxBatchBytes) {
		size += s.queue[n].txn.dataBytes
		n++
	}
	if n == 0 {
		return nil
	}
	batch := append([]*Pending(nil), s.queue[:n]...)
	clear(s.queue[:n])
	s.queue = s.queue[n:]
	return batch
}

// commitBatch executes, commits and acknowledges one batch.
func (s *Store) commitBatch(batch []*Pending) {
	s.awaitIO(batch)
	start := time.Now()
	s.mu.Lock()
	err := s.failed // a closing store still commits what was queued
	s.mu.Unlock()
	info := CommitInfo{}
	var retired []uint64
	if err == nil {
		info, retired, err = s.commitOnce(batch)
	}
	info.Duration = time.Since(start)
	if err != nil {
		s.failBatch(batch, err)
		info.Err = err
	} else {
		// Cache before retiring: a unit the batch wrote and then freed
		// again leaves the cache with its retirement.
		s.cacheWritten(batch)
		if err := s.bf.retire(retired); err != nil {
			s.opts.Logger.Error("object store: block file allocation", "err", err)
		}
		s.stats.commits.Add(1)
		s.stats.commitNanos.Add(uint64(info.Duration))
		s.stats.bytesPut.Add(info.BytesPut)
		s.stats.txns.Add(uint64(info.Txns))
		if uint64(info.Txns) > s.stats.maxBatch.Load() {
			s.stats.maxBatch.Store(uint64(info.Txns))
		}
		ackErr := failpoint.Eval(FailpointAfterCommitBeforeAck)
		for _, p := range batch {
			if p.err == nil && ackErr != nil {
				p.err = fmt.Errorf("acknowledging a committed transaction (the outcome is unknown to the caller): %w", ackErr)
			}
		}
	}
	s.stats.failedTxns.Add(uint64(info.Failed))
	if s.opts.OnCommit != nil {
		s.opts.OnCommit(info)
	}
	s.ack(batch)
}

// awaitIO waits for the block file writes of the batch's transactions;
// one whose writes failed is rejected before it is executed.
func (s *Store) awaitIO(batch []*Pending) {
	for _, p := range batch {
		if p.txn.io == nil {
			continue
		}
		<-p.txn.io
		if p.txn.ioErr != nil {
			p.err = fmt.Errorf("%w: %w", errNotExecuted, p.txn.ioErr)
			s.opts.Logger.Error("object store: a block file write failed; the transaction is rejected", "err", p.txn.ioErr)
		}
	}
}

// commitOnce runs the batch in one bbolt transaction and commits it. A
// transaction whose changes bbolt refuses while they are flushed poisons
// the bbolt transaction: then the batch is rolled back and executed again
// without it. Nothing was committed, so no transaction runs twice. It
// returns the block file units the committed transactions stopped
// referring to.
func (s *Store) commitOnce(batch []*Pending) (CommitInfo, []uint64, error) {
	for refused := 0; ; refused++ {
		info, retired, flushFailed, err := s.tryCommit(batch)
		if flushFailed < 0 {
			info.Failed += refused
			return info, retired, err
		}
		batch[flushFailed].err = err
		s.opts.Logger.Error("object store: bbolt refused a validated transaction; it was rejected and its batch retried", "err", err)
	}
}

// tryCommit executes the batch's transactions that have not failed yet
// into one bbolt transaction and commits it. It returns the units the
// batch retired and the index of a transaction whose flush failed (and
// its error) or -1.
func (s *Store) tryCommit(batch []*Pending) (CommitInfo, []uint64, int, error) {
	tx, err := s.db.Begin(true)
	if err != nil {
		return CommitInfo{}, nil, -1, err
	}
	nextNID := s.nextNID
	info, retired, failedAt, err := s.execBatch(tx, batch, &nextNID)
	if err == nil {
		err = s.putNextNID(tx, nextNID)
	}
	if err == nil {
		err = failpoint.Eval(FailpointBeforeCommit)
	}
	if err != nil {
		tx.Rollback()
		return info, nil, failedAt, err
	}
	if err := tx.Commit(); err != nil {
		return info, nil, -1, fmt.Errorf("bbolt commit: %w", err)
	}
	s.nextNID = nextNID
	return info, retired, -1, nil
}

// execBatch executes each transaction into its own view and flushes the
// views of those that succeed. Rejected transactions get their error in
// Pending.err and leave no trace.
func (s *Store) execBatch(tx *bolt.Tx, batch []*Pending, nextNID *uint64) (CommitInfo, []uint64, int, error) {
	var buckets [numBuckets]*bolt.Bucket
	for i, name := range allBuckets {
		buckets[i] = tx.Bucket(name)
	}
	info := CommitInfo{}
	var retired []uint64
	for i, p := range batch {
		if p.err != nil && (errors.Is(p.err, errFlush) || errors.Is(p.err, errNotExecuted)) {
			continue // refused by bbolt in an earlier attempt, or its block file writes failed
		}
		p.err, p.flushed = nil, false
		v := newView(&buckets)
		nidBefore := *nextNID
		x := newTxnExec(s, v, p.txn, nextNID)
		if err := x.run(); err != nil {
			p.err = err
			*nextNID = nidBefore // a rejected transaction leaves no trace
			info.Failed++
			continue
		}
		if err := s.flush(v, p.txn); err != nil {
			return info, nil, i, fmt.Errorf("%w: %w", errFlush, err)
		}
		retired = append(retired, x.retired...)
		p.flushed = true
		info.Txns++
		info.BytesPut += v.putBytes
	}
	return info, retired, -1, nil
}

// errNotExecuted marks a transaction rejected before execution because
// its block file writes failed.
var errNotExecuted = errors.New("object store could not write the transaction's data")

// errFlush marks a transaction bbolt refused while it was flushed.
var errFlush = errors.New("object store could not apply the transaction")

func (s *Store) flush(v *view, t *Txn) error {
	if testHookFlush != nil {
		if err := testHookFlush(t); err != nil {
			return err
		}
	}
	return v.flush()
}

func (s *Store) putNextNID(tx *bolt.Tx, next uint64) error {
	if next == s.nextNID {
		return nil
	}
	return tx.Bucket(bucketMeta).Put(keyNextNID, sealUvarint(keyNextNID, next))
}

// failBatch fails every transaction of a batch whose commit failed, and
// the store with it: after a failed fsync the state of the file's pages is
// unknown, so the store takes no more writes until it is reopened.
func (s *Store) failBatch(batch []*Pending, err error) {
	s.opts.Logger.Error("object store commit failed; refusing further writes until restart", "err", err)
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	s.mu.Unlock()
	for _, p := range batch {
		if p.err == nil || !errors.Is(p.err, errFlush) {
			p.err = fmt.Errorf("%w: %w", ErrFailed, err)
		}
	}
}

// ack completes every transaction of a batch. The block file units of
// the rejected ones were never referenced and are freed at once.
func (s *Store) ack(batch []*Pending) {
	for _, p := range batch {
		if !p.flushed && len(p.txn.runs) > 0 && !s.isFailed() {
			s.releaseRuns(p.txn)
		}
		s.recycleBlocks(p.txn)
		p.txn = nil // let the data go
		close(p.done)
		<-s.slots
	}
}

// isFailed reports whether a commit failed. After that the allocation
// state is left alone: the store is reopened (and rebuilt) before it
// writes again.
func (s *Store) isFailed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed != nil
}

// cacheWritten caches the block file data of the committed transactions
// that asked for it.
func (s *Store) cacheWritten(batch []*Pending) {
	for _, p := range batch {
		if !p.flushed {
			continue
		}
		for _, r := range p.txn.written {
			s.bf.cache.put(r.start, r.data)
		}
		p.txn.written = nil
	}
}
