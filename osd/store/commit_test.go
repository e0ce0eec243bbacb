package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorados/gorados/internal/failpoint"
)

// holdCommitter blocks the committer at FailpointBeforeCommit of its next
// batch. It returns a function that waits until the committer is blocked,
// and one that releases it (and disarms the point).
func holdCommitter(t *testing.T) (waitHeld func(), release func()) {
	t.Helper()
	held, rel := make(chan struct{}), make(chan struct{})
	var once sync.Once
	disable := failpoint.EnableFunc(FailpointBeforeCommit, func() error {
		once.Do(func() { close(held); <-rel })
		return nil
	})
	var relOnce sync.Once
	release = func() { relOnce.Do(func() { close(rel); disable() }) }
	t.Cleanup(release)
	return func() { <-held }, release
}

// waitQueued polls until n transactions are queued behind the committer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		q := len(s.queue)
		s.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d transactions queued", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func submit(t *testing.T, s *Store, build func(*Txn)) *Pending {
	t.Helper()
	txn := NewTxn()
	build(txn)
	p, err := s.Submit(bg, txn)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGroupCommitBatchesConcurrentWriters holds the committer on a first
// transaction while 15 writers submit: all 15 must then share one commit.
func TestGroupCommitBatchesConcurrentWriters(t *testing.T) {
	s := newStore(t, Options{})
	before := s.Stats()
	waitHeld, release := holdCommitter(t)
	first := submit(t, s, func(x *Txn) { x.Touch(testPG, obj("first")) })
	waitHeld()
	var wg sync.WaitGroup
	errs := make(chan error, 15)
	for i := 0; i < 15; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txn := NewTxn()
			txn.Write(testPG, obj(fmt.Sprint("w", i)), 0, pattern(i, 5000))
			errs <- s.Apply(bg, txn)
		}()
	}
	waitQueued(t, s, 15)
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Err(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if commits, txns := st.Commits-before.Commits, st.Txns-before.Txns; commits != 2 || txns != 16 || st.MaxBatch != 15 {
		t.Fatalf("%d commits for %d transactions (largest batch %d), want 2 commits, batch of 15", commits, txns, st.MaxBatch)
	}
}

// TestFailingTxnDoesNotHurtItsBatch puts transactions that fail at
// execution time in one batch with good ones: each failure is reported to
// its own submitter only, and every good transaction is applied exactly
// once.
func TestFailingTxnDoesNotHurtItsBatch(t *testing.T) {
	s := newStore(t, Options{Limits: Limits{ObjectSize: 10_000}})
	mustApply(t, s, func() *Txn { x := NewTxn(); x.Touch(testPG, obj("exists")); return x }())
	before := s.Stats()
	waitHeld, release := holdCommitter(t)
	plug := submit(t, s, func(x *Txn) { x.Touch(testPG, obj("plug")) })
	waitHeld()
	ps := []*Pending{
		submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("A")) }),
		submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("x")); x.Create(testPG, obj("exists")) }),
		submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("B")) }),
		submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), make([]byte, 10_000)) }), // past the limit
		submit(t, s, func(x *Txn) { x.Create(testPG, obj("new")); x.Append(testPG, obj("log"), []byte("C")) }),
		submit(t, s, func(x *Txn) { x.Create(testPG, obj("new")) }), // created by the previous one
		submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("D")) }),
	}
	want := []error{nil, ErrExists, nil, ErrTooLarge, nil, ErrExists, nil}
	waitQueued(t, s, len(ps))
	release()
	if err := plug.Err(); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if err := p.Err(); (want[i] == nil) != (err == nil) || (err != nil && !errors.Is(err, want[i])) {
			t.Errorf("txn %d: %v, want %v", i, err, want[i])
		}
	}
	checkBytes(t, "log object", mustRead(t, s, testPG, obj("log")), []byte("ABCD"))
	st := s.Stats()
	if st.Commits-before.Commits != 2 || st.FailedTxns-before.FailedTxns != 3 {
		t.Fatalf("%d commits, %d failed; want 2 commits and 3 failures", st.Commits-before.Commits, st.FailedTxns-before.FailedTxns)
	}
}

// TestFlushFailureRetriesBatchOnce makes bbolt "refuse" one transaction
// while it is flushed: the batch is rolled back and committed again without
// it; the other transactions are applied once.
func TestFlushFailureRetriesBatchOnce(t *testing.T) {
	s := newStore(t, Options{})
	before := s.Stats()
	waitHeld, release := holdCommitter(t)
	plug := submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("0")) })
	waitHeld()
	a := submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("a")) })
	bad := submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("X")) })
	c := submit(t, s, func(x *Txn) { x.Append(testPG, obj("log"), []byte("c")) })
	injected := errors.New("disk says no")
	testHookFlush = func(x *Txn) error {
		if x == bad.txn {
			return injected
		}
		return nil
	}
	defer func() { testHookFlush = nil }()
	waitQueued(t, s, 3)
	release()
	for _, p := range []*Pending{plug, a, c} {
		if err := p.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := bad.Err(); !errors.Is(err, injected) {
		t.Fatalf("refused txn: %v", err)
	}
	checkBytes(t, "log object", mustRead(t, s, testPG, obj("log")), []byte("0ac"))
	if st := s.Stats(); st.Commits-before.Commits != 2 || st.Txns-before.Txns != 3 {
		t.Fatalf("%d commits of %d txns, want 2 and 3", st.Commits-before.Commits, st.Txns-before.Txns)
	}
}

// TestCommitFailureFailsStore injects a commit failure: the batch is
// reported failed, the store refuses writes but serves reads, and after a
// reopen the failed batch is absent.
func TestCommitFailureFailsStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, func() *Txn {
		x := NewTxn()
		x.CreateCollection(testPG)
		x.WriteFull(testPG, obj("a"), []byte("good"))
		return x
	}())
	if err := failpoint.Enable(FailpointBeforeCommit, "error"); err != nil {
		t.Fatal(err)
	}
	txn := NewTxn()
	txn.WriteFull(testPG, obj("a"), []byte("lost"))
	err = s.Apply(bg, txn)
	failpoint.Disable(FailpointBeforeCommit)
	wantErr(t, err, ErrFailed)
	wantErr(t, err, failpoint.ErrInjected)
	txn = NewTxn()
	txn.Touch(testPG, obj("b"))
	_, err = s.Submit(bg, txn)
	wantErr(t, err, ErrFailed)
	checkBytes(t, "read after failure", mustRead(t, s, testPG, obj("a")), []byte("good"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkBytes(t, "after reopen", mustRead(t, s, testPG, obj("a")), []byte("good"))
	txn = NewTxn()
	txn.Touch(testPG, obj("b"))
	mustApply(t, s, txn)
}

// TestAckFailureAfterCommit injects an error after the commit: the caller
// sees an error, yet the transaction is durable (an unknown outcome, which
// the PG layer resolves with its log).
func TestAckFailureAfterCommit(t *testing.T) {
	s := newStore(t, Options{})
	if err := failpoint.Enable(FailpointAfterCommitBeforeAck, "error"); err != nil {
		t.Fatal(err)
	}
	txn := NewTxn()
	txn.WriteFull(testPG, obj("a"), []byte("durable"))
	err := s.Apply(bg, txn)
	failpoint.Disable(FailpointAfterCommitBeforeAck)
	wantErr(t, err, failpoint.ErrInjected)
	checkBytes(t, "committed", mustRead(t, s, testPG, obj("a")), []byte("durable"))
}

func TestWaitContextAndCloseDrains(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Options{MaxQueuedTxns: 3})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, func() *Txn { x := NewTxn(); x.CreateCollection(testPG); return x }())
	waitHeld, release := holdCommitter(t)
	plug := submit(t, s, func(x *Txn) { x.Touch(testPG, obj("plug")) })
	waitHeld()
	queued := []*Pending{
		submit(t, s, func(x *Txn) { x.Touch(testPG, obj("q1")) }),
		submit(t, s, func(x *Txn) { x.Touch(testPG, obj("q2")) }),
	}
	// The queue is full (plug + 2): Submit waits, bounded by its context.
	ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	_, err = s.Submit(ctx, func() *Txn { x := NewTxn(); x.Touch(testPG, obj("q3")); return x }())
	cancel()
	wantErr(t, err, context.DeadlineExceeded)
	// Waiting with an expired context reports it; the transaction stays
	// queued and commits later.
	ctx, cancel = context.WithTimeout(bg, time.Millisecond)
	wantErr(t, queued[0].Wait(ctx), context.DeadlineExceeded)
	cancel()
	// A context that ended before Submit is refused even when there is room.
	done, cancelDone := context.WithCancel(bg)
	cancelDone()
	_, err = s.Submit(done, func() *Txn { x := NewTxn(); x.Touch(testPG, obj("q4")); return x }())
	wantErr(t, err, context.Canceled)

	closed := make(chan error)
	go func() { closed <- s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for _, p := range append(queued, plug) {
		if err := p.Err(); err != nil {
			t.Fatalf("queued transaction lost at Close: %v", err)
		}
	}
	_, err = s.Submit(bg, func() *Txn { x := NewTxn(); x.Touch(testPG, obj("late")); return x }())
	wantErr(t, err, ErrClosed)
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, _ := s.ListObjects(bg, testPG, "", 0)
	if len(page.Objects) != 3 {
		t.Fatalf("%d objects after reopen, want 3", len(page.Objects))
	}
}
