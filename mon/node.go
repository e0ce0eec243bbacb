package mon

// raftNode runs the raft state machine of go.etcd.io/raft/v3: it ticks the
// clock, persists each Ready to bbolt, sends messages, applies committed
// entries to the map state machine, answers ReadIndex requests, takes
// snapshots and compacts the log. Proposals and reads wait on channels that
// the loop completes.

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/gorados/gorados/internal/failpoint"
)

// applier is the replicated state machine driven by the node.
type applier interface {
	// apply applies the payload of the committed entry at index and returns
	// the result handed to the proposer (if it is waiting on this node).
	// Entries at or below the applied index are skipped by the applier.
	apply(index uint64, payload []byte) (any, error)
	// applied returns the index of the last applied entry.
	applied() uint64
	// noteApplied records that index carried no payload (an empty entry).
	noteApplied(index uint64)
	// snapshotData returns the state at applied() for a raft snapshot.
	snapshotData() ([]byte, error)
	// restore replaces the state with a snapshot received from the leader.
	restore(index uint64, data []byte) error
}

// nodeConfig tunes the raft node; zero fields take the defaults below.
type nodeConfig struct {
	ID             uint64
	TickInterval   time.Duration // default 50ms
	ElectionTicks  int           // default 20 (1 s)
	HeartbeatTicks int           // default 2
	SnapshotEvery  uint64        // applied entries between snapshots, default 1000
	SnapshotKeep   uint64        // log entries kept behind a snapshot, default 200
}

func (c *nodeConfig) setDefaults() {
	if c.TickInterval == 0 {
		c.TickInterval = 50 * time.Millisecond
	}
	if c.ElectionTicks == 0 {
		c.ElectionTicks = 20
	}
	if c.HeartbeatTicks == 0 {
		c.HeartbeatTicks = 2
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 1000
	}
	if c.SnapshotKeep == 0 {
		c.SnapshotKeep = 200
	}
}

// Failpoints at the monitor's durability boundaries (see package
// internal/failpoint): around the raft save of each Ready, and around the
// transaction that applies a new epoch.
const (
	fpBeforeRaftSave  = "monBeforeRaftSave"
	fpAfterRaftSave   = "monAfterRaftSave"
	fpBeforeApply     = "monBeforeApplyCommit"
	fpAfterApplyReply = "monAfterApplyBeforeReply"
)

type applyResult struct {
	val any
	err error
}

type raftNode struct {
	cfg     nodeConfig
	node    raft.Node
	storage *raftStorage
	sm      applier
	send    func([]*raftpb.Message)
	log     *slog.Logger

	confState *raftpb.ConfState
	snapIndex uint64

	lead      atomic.Uint64
	term      atomic.Uint64
	commit    atomic.Uint64
	isLeader  atomic.Bool
	idCounter atomic.Uint64

	mu         sync.Mutex
	proposals  map[uint64]chan applyResult
	reads      map[uint64]chan uint64
	appliedCh  chan struct{} // closed and replaced after every apply batch
	leaderCh   chan struct{} // closed and replaced on every leader change
	fatalErr   error
	stopped    chan struct{}
	done       chan struct{}
	onLeader   func(isLeader bool)
	onSnapshot func()

	// heard holds, per raft id, when a message from that peer last arrived
	// (unix nanoseconds). Status uses it to say who is in quorum: raft's own
	// RecentActive flag is cleared at every check-quorum round and would
	// show healthy peers as out of quorum until their next heartbeat reply.
	heardMu sync.Mutex
	heard   map[uint64]int64
}

// newRaftNode restarts raft from storage (which was bootstrapped with an
// initial snapshot and HardState, see bootstrapStore) and returns a node
// that is not running yet.
func newRaftNode(cfg nodeConfig, storage *raftStorage, sm applier, log *slog.Logger) *raftNode {
	cfg.setDefaults()
	snap, _ := storage.Snapshot()
	n := &raftNode{
		cfg: cfg, storage: storage, sm: sm, log: log,
		confState: raftpb.EnsureConfState(snap.GetMetadata().GetConfState()),
		snapIndex: snap.GetMetadata().GetIndex(),
		proposals: map[uint64]chan applyResult{}, reads: map[uint64]chan uint64{}, heard: map[uint64]int64{},
		appliedCh: make(chan struct{}), leaderCh: make(chan struct{}),
		stopped: make(chan struct{}), done: make(chan struct{}),
	}
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	n.idCounter.Store(binary.BigEndian.Uint64(seed[:]) &^ (1 << 63))
	rc := &raft.Config{
		ID: cfg.ID, ElectionTick: cfg.ElectionTicks, HeartbeatTick: cfg.HeartbeatTicks,
		Storage: storage, Applied: appliedForRestart(storage, sm),
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, MaxUncommittedEntriesSize: 64 << 20,
		CheckQuorum: true, PreVote: true, ReadOnlyOption: raft.ReadOnlySafe,
		Logger: raftLogger{log.With("component", "raft")},
	}
	n.node = raft.RestartNode(rc)
	return n
}

// appliedForRestart is the applied index raft starts from: the state
// machine's, capped by the commit index on disk (which may lag, see
// raftStorage.Save). Entries between the two are delivered again once the
// leader confirms the commit, and the applier skips them.
func appliedForRestart(storage *raftStorage, sm applier) uint64 {
	hs, _, _ := storage.InitialState()
	return min(sm.applied(), hs.GetCommit())
}

// start runs the node loop until stop is called or persisting fails.
func (n *raftNode) start() { go n.run() }

func (n *raftNode) run() {
	defer close(n.done)
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			n.node.Tick()
		case rd := <-n.node.Ready():
			if err := n.handleReady(rd); err != nil {
				n.fail(err)
				return
			}
			n.node.Advance()
		case <-n.stopped:
			n.node.Stop()
			n.failWaiters(ErrStopped)
			return
		}
	}
}

// handleReady persists before sending, as raft requires for followers, then
// applies committed entries.
func (n *raftNode) handleReady(rd raft.Ready) error {
	// A leader may send its appends before its own write reaches the disk
	// (raft thesis 10.2.1): the entry commits once a quorum has it durably,
	// whichever members that quorum holds. Followers must persist first.
	if rd.SoftState != nil {
		n.noteSoftState(rd.SoftState)
	}
	leaderSent := n.isLeader.Load() && raft.IsEmptySnap(rd.Snapshot)
	if leaderSent {
		n.send(rd.Messages)
	}
	if err := failpoint.Eval(fpBeforeRaftSave); err != nil {
		return err
	}
	if err := n.storage.Save(rd.HardState, rd.Entries, rd.Snapshot); err != nil {
		return err
	}
	if err := failpoint.Eval(fpAfterRaftSave); err != nil {
		return err
	}
	if rd.HardState != nil {
		n.term.Store(rd.HardState.GetTerm())
		n.commit.Store(rd.HardState.GetCommit())
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := n.restoreSnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if !leaderSent {
		n.send(rd.Messages)
	}
	if err := n.applyEntries(rd.CommittedEntries); err != nil {
		return err
	}
	n.answerReads(rd.ReadStates)
	return n.maybeSnapshot()
}

func (n *raftNode) restoreSnapshot(snap *raftpb.Snapshot) error {
	md := snap.GetMetadata()
	if err := n.sm.restore(md.GetIndex(), snap.GetData()); err != nil {
		return fmt.Errorf("restore snapshot at %d: %w", md.GetIndex(), err)
	}
	n.confState = raftpb.EnsureConfState(md.GetConfState())
	n.snapIndex = md.GetIndex()
	n.notifyApplied()
	if n.onSnapshot != nil {
		n.onSnapshot()
	}
	return nil
}

func (n *raftNode) noteSoftState(ss *raft.SoftState) {
	old := n.lead.Swap(ss.Lead)
	leader := ss.RaftState == raft.StateLeader
	wasLeader := n.isLeader.Swap(leader)
	if wasLeader && !leader {
		// Proposals in flight may or may not commit under the next leader;
		// their callers retry with the same request id.
		n.failProposals(fmt.Errorf("%w: leadership lost while the change was in flight", ErrNotLeader))
	}
	if old != ss.Lead || wasLeader != leader {
		n.mu.Lock()
		close(n.leaderCh)
		n.leaderCh = make(chan struct{})
		n.mu.Unlock()
		n.log.Info("raft leader changed", "leader", ss.Lead, "state", ss.RaftState.String())
		if n.onLeader != nil {
			n.onLeader(leader)
		}
	}
}

// applyEntries applies committed entries in order. Normal entries carry an
// 8-byte proposal id followed by the state machine's payload.
func (n *raftNode) applyEntries(ents []*raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	for _, e := range ents {
		if e.GetIndex() <= n.sm.applied() {
			continue
		}
		if e.GetType() != raftpb.EntryNormal || len(e.GetData()) < 8 {
			n.sm.noteApplied(e.GetIndex())
			continue
		}
		id := binary.BigEndian.Uint64(e.GetData())
		val, err := n.sm.apply(e.GetIndex(), e.GetData()[8:])
		if errors.Is(err, ErrCorruptStore) {
			return err
		}
		n.complete(id, applyResult{val, err})
	}
	n.notifyApplied()
	return nil
}

func (n *raftNode) notifyApplied() {
	n.mu.Lock()
	close(n.appliedCh)
	n.appliedCh = make(chan struct{})
	n.mu.Unlock()
}

func (n *raftNode) complete(id uint64, r applyResult) {
	n.mu.Lock()
	ch := n.proposals[id]
	delete(n.proposals, id)
	n.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}

func (n *raftNode) answerReads(rs []raft.ReadState) {
	if len(rs) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, r := range rs {
		if len(r.RequestCtx) != 8 {
			continue
		}
		id := binary.BigEndian.Uint64(r.RequestCtx)
		if ch := n.reads[id]; ch != nil {
			ch <- r.Index
			delete(n.reads, id)
		}
	}
}

// maybeSnapshot snapshots the applied state every SnapshotEvery entries and
// compacts the log behind it so the store stays bounded.
func (n *raftNode) maybeSnapshot() error {
	applied := n.sm.applied()
	if applied < n.snapIndex+n.cfg.SnapshotEvery {
		return nil
	}
	data, err := n.sm.snapshotData()
	if err != nil {
		return fmt.Errorf("snapshot state: %w", err)
	}
	err = n.storage.CreateSnapshot(applied, n.confState, data, n.cfg.SnapshotKeep)
	if err != nil && !errors.Is(err, errSnapshotTooOld) {
		return err
	}
	n.snapIndex = applied
	return nil
}

func (n *raftNode) fail(err error) {
	n.log.Error("raft node stopped", "err", err)
	n.mu.Lock()
	n.fatalErr = err
	n.mu.Unlock()
	n.node.Stop()
	n.failWaiters(fmt.Errorf("%w: %w", ErrStopped, err))
}

func (n *raftNode) failWaiters(err error) {
	n.failProposals(err)
}

func (n *raftNode) failProposals(err error) {
	n.mu.Lock()
	ps := n.proposals
	n.proposals = map[uint64]chan applyResult{}
	n.mu.Unlock()
	for _, ch := range ps {
		ch <- applyResult{err: err}
	}
}

// stop ends the loop and waits for it.
func (n *raftNode) stop() {
	select {
	case <-n.stopped:
	default:
		close(n.stopped)
	}
	<-n.done
}

// err returns the error that stopped the node, if any.
func (n *raftNode) err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fatalErr
}

func (n *raftNode) nextID() uint64 { return n.idCounter.Add(1) }

// propose replicates payload and returns the state machine's result for it.
// It fails with ErrNotLeader when this node is not (or stops being) the
// leader, in which case the entry may still commit later.
func (n *raftNode) propose(ctx context.Context, payload []byte) (any, error) {
	if !n.isLeader.Load() {
		return nil, ErrNotLeader
	}
	id := n.nextID()
	ch := make(chan applyResult, 1)
	n.mu.Lock()
	if n.fatalErr != nil {
		n.mu.Unlock()
		return nil, ErrStopped
	}
	n.proposals[id] = ch
	n.mu.Unlock()
	data := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint64(data, id)
	data = append(data, payload...)
	if err := n.node.Propose(ctx, data); err != nil {
		n.dropProposal(id)
		return nil, fmt.Errorf("%w: propose: %w", ErrNotLeader, err)
	}
	select {
	case r := <-ch:
		return r.val, r.err
	case <-ctx.Done():
		n.dropProposal(id)
		return nil, fmt.Errorf("%w: %w", ErrNoQuorum, ctx.Err())
	}
}

func (n *raftNode) dropProposal(id uint64) {
	n.mu.Lock()
	delete(n.proposals, id)
	n.mu.Unlock()
}

// readBarrier waits until this node has applied everything committed before
// the call (raft ReadIndex), so a read that follows is linearizable. It
// retries while there is no leader and fails with ErrNoQuorum when ctx ends.
func (n *raftNode) readBarrier(ctx context.Context) error {
	for {
		idx, err := n.readIndexOnce(ctx)
		if err == nil {
			return n.waitApplied(ctx, idx)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrNoQuorum, ctx.Err())
		}
	}
}

func (n *raftNode) readIndexOnce(ctx context.Context) (uint64, error) {
	id := n.nextID()
	ch := make(chan uint64, 1)
	n.mu.Lock()
	n.reads[id] = ch
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.reads, id)
		n.mu.Unlock()
	}()
	if err := n.node.ReadIndex(ctx, u64key(id)); err != nil {
		return 0, err
	}
	// raft drops a read silently when there is no leader; retry after a
	// short wait instead of waiting for ctx alone.
	t := time.NewTimer(10 * n.cfg.TickInterval)
	defer t.Stop()
	select {
	case idx := <-ch:
		return idx, nil
	case <-t.C:
		return 0, ErrNoQuorum
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.done:
		return 0, ErrStopped
	}
}

// waitApplied blocks until the state machine has applied index.
func (n *raftNode) waitApplied(ctx context.Context, index uint64) error {
	for {
		n.mu.Lock()
		ch := n.appliedCh
		n.mu.Unlock()
		if n.sm.applied() >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNoQuorum, ctx.Err())
		case <-n.done:
			return ErrStopped
		}
	}
}

// leaderChanged returns a channel closed at the next leader change.
func (n *raftNode) leaderChanged() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leaderCh
}

// step hands a message received from a peer to raft.
func (n *raftNode) step(ctx context.Context, m *raftpb.Message) error {
	n.heardMu.Lock()
	n.heard[m.GetFrom()] = time.Now().UnixNano()
	n.heardMu.Unlock()
	return n.node.Step(ctx, m)
}

// recentlyHeard reports whether a message from peer id arrived within the
// last two election timeouts.
func (n *raftNode) recentlyHeard(id uint64) bool {
	n.heardMu.Lock()
	at, ok := n.heard[id]
	n.heardMu.Unlock()
	window := 2 * time.Duration(n.cfg.ElectionTicks) * n.cfg.TickInterval
	return ok && time.Since(time.Unix(0, at)) < window
}

// raftLogger adapts slog to raft's Logger; raft's chatty info lines go to
// debug level.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) Debug(v ...any)              { r.l.Debug(fmt.Sprint(v...)) }
func (r raftLogger) Debugf(f string, v ...any)   { r.l.Debug(fmt.Sprintf(f, v...)) }
func (r raftLogger) Info(v ...any)               { r.l.Debug(fmt.Sprint(v...)) }
func (r raftLogger) Infof(f string, v ...any)    { r.l.Debug(fmt.Sprintf(f, v...)) }
func (r raftLogger) Warning(v ...any)            { r.l.Warn(fmt.Sprint(v...)) }
func (r raftLogger) Warningf(f string, v ...any) { r.l.Warn(fmt.Sprintf(f, v...)) }
func (r raftLogger) Error(v ...any)              { r.l.Error(fmt.Sprint(v...)) }
func (r raftLogger) Errorf(f string, v ...any)   { r.l.Error(fmt.Sprintf(f, v...)) }
func (r raftLogger) Fatal(v ...any)              { r.Panic(v...) }
func (r raftLogger) Fatalf(f string, v ...any)   { r.Panicf(f, v...) }
func (r raftLogger) Panic(v ...any)              { panic(fmt.Sprint(v...)) }
func (r raftLogger) Panicf(f string, v ...any)   { panic(fmt.Sprintf(f, v...)) }
