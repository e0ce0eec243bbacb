package mon

// raftStorage implements raft.Storage over bbolt. Raft's log, HardState and
// newest snapshot live in the monitor's store next to the applied map state,
// so one file holds everything and restarts need no replay beyond the
// entries after the applied index.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// keyLogOffset stores the index and term of the last entry discarded by
// compaction (16 bytes). raft asks for the term of that entry when it
// matches logs, so it is kept after the entry itself is gone.
var keyLogOffset = []byte("log_offset")

type raftStorage struct {
	db *bolt.DB

	mu sync.Mutex
	raftState
}

// raftState is the in-memory view of what the store holds. Writers change a
// copy inside a bbolt transaction and adopt it after the commit succeeds.
type raftState struct {
	hardState  *raftpb.HardState
	snap       *raftpb.Snapshot
	offsetIdx  uint64 // last discarded index; the log holds (offsetIdx, last]
	offsetTerm uint64
	last       uint64
}

var _ raft.Storage = (*raftStorage)(nil)

// openRaftStorage loads raft's state from db, which must already hold the
// buckets of schema.go.
func openRaftStorage(db *bolt.DB) (*raftStorage, error) {
	s := &raftStorage{db: db, raftState: raftState{hardState: &raftpb.HardState{}, snap: raftpb.EnsureSnapshot(nil)}}
	err := db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRaft)
		if v := rb.Get(keyHardState); v != nil {
			if err := proto.Unmarshal(v, s.hardState); err != nil {
				return fmt.Errorf("hard state: %w", err)
			}
		}
		if v := rb.Get(keySnapshot); v != nil {
			if err := proto.Unmarshal(v, s.snap); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			s.snap = raftpb.EnsureSnapshot(s.snap)
		}
		if v := rb.Get(keyLogOffset); v != nil {
			if len(v) != 16 {
				return fmt.Errorf("log offset has %d bytes, want 16", len(v))
			}
			s.offsetIdx = binary.BigEndian.Uint64(v)
			s.offsetTerm = binary.BigEndian.Uint64(v[8:])
		}
		return s.loadLogBounds(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: raft state: %w", ErrCorruptStore, err)
	}
	return s, nil
}

// loadLogBounds finds the last index and checks that the log starts right
// after the compaction offset.
func (s *raftState) loadLogBounds(tx *bolt.Tx) error {
	s.last = s.offsetIdx
	c := tx.Bucket(bucketRaftLog).Cursor()
	k, _ := c.First()
	if k == nil {
		return nil
	}
	if keyU64(k) != s.offsetIdx+1 {
		return fmt.Errorf("log starts at index %d but compaction offset is %d", keyU64(k), s.offsetIdx)
	}
	k, _ = c.Last()
	s.last = keyU64(k)
	return nil
}

// InitialState implements raft.Storage.
func (s *raftStorage) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := raftpb.EnsureConfState(s.snap.GetMetadata().GetConfState())
	return proto.Clone(s.hardState).(*raftpb.HardState), proto.Clone(cs).(*raftpb.ConfState), nil
}

// Entries implements raft.Storage.
func (s *raftStorage) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lo <= s.offsetIdx {
		return nil, raft.ErrCompacted
	}
	if hi > s.last+1 || lo >= hi {
		return nil, raft.ErrUnavailable
	}
	var out []*raftpb.Entry
	var size uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRaftLog).Cursor()
		for k, v := c.Seek(u64key(lo)); k != nil && keyU64(k) < hi; k, v = c.Next() {
			e := &raftpb.Entry{}
			if err := proto.Unmarshal(v, e); err != nil {
				return fmt.Errorf("%w: log entry %d: %w", ErrCorruptStore, keyU64(k), err)
			}
			size += uint64(len(v))
			if len(out) > 0 && size > maxSize {
				break
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 || out[0].GetIndex() != lo {
		return nil, raft.ErrUnavailable
	}
	return out, nil
}

// Term implements raft.Storage.
func (s *raftStorage) Term(i uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case i == s.offsetIdx:
		return s.offsetTerm, nil
	case i < s.offsetIdx:
		return 0, raft.ErrCompacted
	case i > s.last:
		return 0, raft.ErrUnavailable
	}
	var term uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRaftLog).Get(u64key(i))
		if v == nil {
			return raft.ErrUnavailable
		}
		e := &raftpb.Entry{}
		if err := proto.Unmarshal(v, e); err != nil {
			return fmt.Errorf("%w: log entry %d: %w", ErrCorruptStore, i, err)
		}
		term = e.GetTerm()
		return nil
	})
	return term, err
}

// LastIndex implements raft.Storage.
func (s *raftStorage) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, nil
}

// FirstIndex implements raft.Storage.
func (s *raftStorage) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offsetIdx + 1, nil
}

// Snapshot implements raft.Storage.
func (s *raftStorage) Snapshot() (*raftpb.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return proto.Clone(s.snap).(*raftpb.Snapshot), nil
}

// Save durably stores what a raft Ready asks for, in one transaction: a
// snapshot received from the leader (which replaces the whole log), new
// entries (which truncate any conflicting tail) and the HardState.
//
// A HardState that only advances Commit is kept in memory and not written
// (as etcd's MustSync): the commit index is recovered from the leader after
// a restart, and fsyncing it would cost a disk flush per epoch. It reaches
// the disk with the next append or snapshot; the node starts raft with an
// applied index no higher than the stored commit (see appliedForRestart).
func (s *raftStorage) Save(hs *raftpb.HardState, ents []*raftpb.Entry, snap *raftpb.Snapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ents) == 0 && raft.IsEmptySnap(snap) && commitOnly(s.hardState, hs) {
		s.hardState = proto.Clone(hs).(*raftpb.HardState)
		return nil
	}
	next := s.raftState
	err := s.db.Update(func(tx *bolt.Tx) error {
		if !raft.IsEmptySnap(snap) {
			if err := next.putSnapshot(tx, snap, true); err != nil {
				return err
			}
		}
		if err := next.appendEntries(tx, ents); err != nil {
			return err
		}
		if !raft.IsEmptyHardState(hs) {
			return next.putHardState(tx, hs)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save raft state: %w", err)
	}
	s.raftState = next
	return nil
}

// commitOnly reports whether next differs from prev in Commit alone.
func commitOnly(prev, next *raftpb.HardState) bool {
	return next != nil && next.GetTerm() == prev.GetTerm() && next.GetVote() == prev.GetVote()
}

func (s *raftState) putHardState(tx *bolt.Tx, hs *raftpb.HardState) error {
	b, err := proto.Marshal(hs)
	if err != nil {
		return err
	}
	s.hardState = proto.Clone(hs).(*raftpb.HardState)
	return tx.Bucket(bucketRaft).Put(keyHardState, b)
}

// putSnapshot stores snap as the newest snapshot. With replaceLog (a
// snapshot from the leader) the whole log is discarded, as raft expects;
// otherwise (a local snapshot) the log is kept for Compact to trim.
func (s *raftState) putSnapshot(tx *bolt.Tx, snap *raftpb.Snapshot, replaceLog bool) error {
	b, err := proto.Marshal(snap)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketRaft).Put(keySnapshot, b); err != nil {
		return err
	}
	s.snap = proto.Clone(snap).(*raftpb.Snapshot)
	if !replaceLog {
		return nil
	}
	if err := deleteFrom(tx.Bucket(bucketRaftLog), 0); err != nil {
		return err
	}
	md := snap.GetMetadata()
	s.last = md.GetIndex()
	return s.putOffset(tx, md.GetIndex(), md.GetTerm())
}

func (s *raftState) putOffset(tx *bolt.Tx, idx, term uint64) error {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], idx)
	binary.BigEndian.PutUint64(b[8:], term)
	s.offsetIdx, s.offsetTerm = idx, term
	return tx.Bucket(bucketRaft).Put(keyLogOffset, b[:])
}

// appendEntries writes ents, dropping the part already compacted and
// truncating the stored log from the first new index on.
func (s *raftState) appendEntries(tx *bolt.Tx, ents []*raftpb.Entry) error {
	for len(ents) > 0 && ents[0].GetIndex() <= s.offsetIdx {
		ents = ents[1:]
	}
	if len(ents) == 0 {
		return nil
	}
	first := ents[0].GetIndex()
	if first > s.last+1 {
		return fmt.Errorf("append at index %d leaves a gap after last index %d", first, s.last)
	}
	lb := tx.Bucket(bucketRaftLog)
	if first <= s.last {
		if err := deleteFrom(lb, first); err != nil {
			return err
		}
	}
	for _, e := range ents {
		b, err := proto.Marshal(e)
		if err != nil {
			return err
		}
		if err := lb.Put(u64key(e.GetIndex()), b); err != nil {
			return err
		}
	}
	s.last = ents[len(ents)-1].GetIndex()
	return nil
}

// deleteFrom deletes every key >= from in an index-keyed bucket.
func deleteFrom(b *bolt.Bucket, from uint64) error {
	c := b.Cursor()
	for k, _ := c.Seek(u64key(from)); k != nil; k, _ = c.Seek(u64key(from)) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// deleteThrough deletes every key <= through in an index-keyed bucket.
func deleteThrough(b *bolt.Bucket, through uint64) error {
	c := b.Cursor()
	for k, _ := c.First(); k != nil && keyU64(k) <= through; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// errSnapshotTooOld is returned when a snapshot at or before the current one
// is requested; the caller simply skips it.
var errSnapshotTooOld = errors.New("snapshot index not newer than the current snapshot")

// CreateSnapshot stores a snapshot of the applied state at index i and then
// discards the log up to i-keep, so the store stays bounded while a follower
// that is slightly behind can still catch up from the log.
func (s *raftStorage) CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte, keep uint64) error {
	if i <= s.snapIndex() {
		return errSnapshotTooOld
	}
	term, err := s.Term(i)
	if err != nil {
		return fmt.Errorf("snapshot at %d: %w", i, err)
	}
	snap := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
		Index: new(i), Term: new(term), ConfState: proto.Clone(cs).(*raftpb.ConfState),
	}}
	compactTo := uint64(0)
	if i > keep {
		compactTo = i - keep
	}
	var compactTerm uint64
	compact := compactTo >= s.firstIndexLocked()
	if compact {
		if compactTerm, err = s.Term(compactTo); err != nil {
			return fmt.Errorf("compact to %d: %w", compactTo, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.raftState
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := next.putSnapshot(tx, snap, false); err != nil {
			return err
		}
		// The stored commit must not fall behind the compacted log.
		if err := next.putHardState(tx, next.hardState); err != nil {
			return err
		}
		if !compact {
			return nil
		}
		if err := deleteThrough(tx.Bucket(bucketRaftLog), compactTo); err != nil {
			return err
		}
		return next.putOffset(tx, compactTo, compactTerm)
	})
	if err != nil {
		return fmt.Errorf("create snapshot at %d: %w", i, err)
	}
	s.raftState = next
	return nil
}

func (s *raftStorage) snapIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap.GetMetadata().GetIndex()
}

func (s *raftStorage) firstIndexLocked() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offsetIdx + 1
}
