package mon

import (
	"errors"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

func ent(i, t uint64) *raftpb.Entry {
	return &raftpb.Entry{Index: new(i), Term: new(t), Data: []byte{byte(i)}}
}

func openTestRaftStorage(t *testing.T, dir string) *raftStorage {
	t.Helper()
	db, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := openRaftStorage(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSave(t *testing.T, s *raftStorage, hs *raftpb.HardState, ents []*raftpb.Entry, snap *raftpb.Snapshot) {
	t.Helper()
	if err := s.Save(hs, ents, snap); err != nil {
		t.Fatal(err)
	}
}

func checkBounds(t *testing.T, s *raftStorage, first, last uint64) {
	t.Helper()
	f, _ := s.FirstIndex()
	l, _ := s.LastIndex()
	if f != first || l != last {
		t.Fatalf("bounds = [%d,%d], want [%d,%d]", f, l, first, last)
	}
}

func TestRaftStorageAppendTruncateRestart(t *testing.T) {
	dir := t.TempDir()
	s := openTestRaftStorage(t, dir)
	checkBounds(t, s, 1, 0)
	hs := &raftpb.HardState{Term: new(uint64(2)), Vote: new(uint64(1)), Commit: new(uint64(3))}
	mustSave(t, s, hs, []*raftpb.Entry{ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)}, nil)
	checkBounds(t, s, 1, 4)
	// A new leader overwrites the tail from index 3 on.
	mustSave(t, s, nil, []*raftpb.Entry{ent(3, 3)}, nil)
	checkBounds(t, s, 1, 3)
	if term, err := s.Term(3); err != nil || term != 3 {
		t.Fatalf("Term(3) = %d, %v; want 3", term, err)
	}
	if _, err := s.Term(4); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("Term(4) error = %v, want ErrUnavailable", err)
	}
	s.db.Close()

	s2 := openTestRaftStorage(t, dir)
	checkBounds(t, s2, 1, 3)
	got, _, _ := s2.InitialState()
	if got.GetTerm() != 2 || got.GetVote() != 1 || got.GetCommit() != 3 {
		t.Fatalf("hard state after restart = %v", got)
	}
	es, err := s2.Entries(1, 4, 1<<20)
	if err != nil || len(es) != 3 || es[2].GetTerm() != 3 {
		t.Fatalf("Entries(1,4) = %v, %v", es, err)
	}
	// maxSize smaller than one entry still returns one entry.
	es, err = s2.Entries(1, 4, 1)
	if err != nil || len(es) != 1 {
		t.Fatalf("Entries with tiny maxSize = %d entries, %v; want 1", len(es), err)
	}
}

func TestRaftStorageSnapshotCompactRestart(t *testing.T) {
	dir := t.TempDir()
	s := openTestRaftStorage(t, dir)
	var ents []*raftpb.Entry
	for i := uint64(1); i <= 20; i++ {
		ents = append(ents, ent(i, 1))
	}
	mustSave(t, s, nil, ents, nil)
	cs := &raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	if err := s.CreateSnapshot(15, cs, []byte("state@15"), 5); err != nil {
		t.Fatal(err)
	}
	checkBounds(t, s, 11, 20)
	if _, err := s.Entries(5, 12, 1<<20); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("Entries below the offset: %v, want ErrCompacted", err)
	}
	if term, err := s.Term(10); err != nil || term != 1 {
		t.Fatalf("Term(offset) = %d, %v", term, err)
	}
	if _, err := s.Term(9); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("Term(9) = %v, want ErrCompacted", err)
	}
	if err := s.CreateSnapshot(15, cs, nil, 5); !errors.Is(err, errSnapshotTooOld) {
		t.Fatalf("repeated snapshot: %v", err)
	}
	s.db.Close()

	s2 := openTestRaftStorage(t, dir)
	checkBounds(t, s2, 11, 20)
	snap, _ := s2.Snapshot()
	if snap.GetMetadata().GetIndex() != 15 || string(snap.GetData()) != "state@15" {
		t.Fatalf("snapshot after restart = %v", snap)
	}
	_, gotCS, _ := s2.InitialState()
	if len(gotCS.GetVoters()) != 3 {
		t.Fatalf("conf state after restart = %v", gotCS)
	}
}

func TestRaftStorageSnapshotFromLeaderReplacesLog(t *testing.T) {
	s := openTestRaftStorage(t, t.TempDir())
	mustSave(t, s, nil, []*raftpb.Entry{ent(1, 1), ent(2, 1)}, nil)
	snap := &raftpb.Snapshot{Data: []byte("x"), Metadata: &raftpb.SnapshotMetadata{
		Index: new(uint64(50)), Term: new(uint64(4)), ConfState: &raftpb.ConfState{Voters: []uint64{1}},
	}}
	mustSave(t, s, nil, []*raftpb.Entry{ent(51, 4)}, snap)
	checkBounds(t, s, 51, 51)
	if term, _ := s.Term(50); term != 4 {
		t.Fatalf("Term(50) = %d, want 4", term)
	}
	// A gap is refused rather than silently stored.
	if err := s.Save(nil, []*raftpb.Entry{ent(60, 4)}, nil); err == nil {
		t.Fatal("append with a gap succeeded")
	}
	checkBounds(t, s, 51, 51)
}

func TestOpenStoreRejectsCorruptFile(t *testing.T) {
	dir := t.TempDir()
	if err := writeFile(dir+"/"+storeFileName, []byte("this is not a bbolt file at all, just text padding to look like something")); err != nil {
		t.Fatal(err)
	}
	_, err := openStore(dir)
	if !errors.Is(err, ErrCorruptStore) {
		t.Fatalf("openStore on garbage: %v, want ErrCorruptStore", err)
	}
}

// TestRaftStorageCommitOnlyNotWritten: a HardState that only advances the
// commit index stays in memory (no fsync per epoch) until the next append
// or snapshot writes it, so the stored commit never trails the compacted log.
func TestRaftStorageCommitOnlyNotWritten(t *testing.T) {
	dir := t.TempDir()
	s := openTestRaftStorage(t, dir)
	hs := func(commit uint64) *raftpb.HardState {
		return &raftpb.HardState{Term: new(uint64(1)), Vote: new(uint64(1)), Commit: new(commit)}
	}
	var ents []*raftpb.Entry
	for i := uint64(1); i <= 10; i++ {
		ents = append(ents, ent(i, 1))
	}
	mustSave(t, s, hs(3), ents, nil)
	mustSave(t, s, hs(9), nil, nil)
	if got, _, _ := s.InitialState(); got.GetCommit() != 9 {
		t.Fatalf("in-memory commit %d, want 9", got.GetCommit())
	}
	s.db.Close()
	s = openTestRaftStorage(t, dir)
	if got, _, _ := s.InitialState(); got.GetCommit() != 3 {
		t.Fatalf("stored commit %d after a commit-only save, want 3 (not written)", got.GetCommit())
	}
	mustSave(t, s, hs(9), nil, nil)
	if err := s.CreateSnapshot(8, &raftpb.ConfState{Voters: []uint64{1}}, nil, 2); err != nil {
		t.Fatal(err)
	}
	s.db.Close()
	s = openTestRaftStorage(t, dir)
	if got, _, _ := s.InitialState(); got.GetCommit() != 9 {
		t.Fatalf("stored commit %d after a snapshot, want 9", got.GetCommit())
	}
	// A vote change is always written.
	mustSave(t, s, &raftpb.HardState{Term: new(uint64(2)), Vote: new(uint64(3)), Commit: new(uint64(9))}, nil, nil)
	s.db.Close()
	s = openTestRaftStorage(t, dir)
	if got, _, _ := s.InitialState(); got.GetTerm() != 2 || got.GetVote() != 3 {
		t.Fatalf("term/vote change not stored: %v", got)
	}
}
