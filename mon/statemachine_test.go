package mon

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

func openTestState(t testing.TB, history uint64) *mapState {
	t.Helper()
	db, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := loadMapState(db, history)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bootstrapEntry(t testing.TB, m *cluster.OSDMap) []byte {
	full, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(&pb.MonLogEntry{FullMap: full})
	return b
}

func incEntry(t testing.TB, cur *cluster.OSDMap, edit func(*cluster.OSDMap)) []byte {
	next := cur.Clone()
	next.Epoch++
	edit(next)
	inc, err := diffMaps(cur, next)
	if err != nil {
		t.Fatal(err)
	}
	ib, _ := inc.Marshal()
	b, _ := proto.Marshal(&pb.MonLogEntry{Incremental: ib})
	return b
}

// TestMapStateAppliesTrimsAndRejectsStale: epochs advance one per entry,
// the history keeps the newest N incrementals, a stale incremental (built on
// an older map) is rejected without changing anything, and a reload from
// the store sees the same state.
func TestMapStateAppliesTrimsAndRejectsStale(t *testing.T) {
	s := openTestState(t, 3)
	if _, err := s.apply(2, bootstrapEntry(t, newTestMap(t))); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.current()
	stale := incEntry(t, cur, func(m *cluster.OSDMap) { m.Flags |= cluster.FlagNoOut })
	for i := uint64(0); i < 6; i++ {
		cur, _ = s.current()
		if _, err := s.apply(3+i, incEntry(t, cur, func(m *cluster.OSDMap) { m.PoolMax++ })); err != nil {
			t.Fatal(err)
		}
	}
	cur, before := s.current()
	if cur.Epoch != 7 {
		t.Fatalf("epoch %d after 6 incrementals from 1, want 7", cur.Epoch)
	}
	if _, err := s.apply(20, stale); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale incremental: %v, want ErrConflict", err)
	}
	if _, after := s.current(); !bytes.Equal(before, after) || s.applied() != 20 {
		t.Fatalf("rejected entry changed the map or did not advance the applied index (%d)", s.applied())
	}
	if incs, ok := s.incrementalsAfter(3, 10); ok {
		t.Fatalf("epoch 4 should be trimmed (history 3), got %d incrementals", len(incs))
	}
	incs, ok := s.incrementalsAfter(4, 10)
	if !ok || len(incs) != 3 {
		t.Fatalf("incrementals after 4: %d, %v; want 3 (epochs 5..7)", len(incs), ok)
	}
	s2, err := loadMapState(s.db, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, b := s2.current(); !bytes.Equal(b, before) || s2.oldestInc != 5 || s2.applied() != 8 {
		t.Fatalf("reload: oldest %d applied %d", s2.oldestInc, s2.applied())
	}
}

// TestMapStateSnapshotRestore: a snapshot carries the map and the request
// replies to another store; its history starts empty.
func TestMapStateSnapshotRestore(t *testing.T) {
	s := openTestState(t, 10)
	if _, err := s.apply(2, bootstrapEntry(t, newTestMap(t))); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.current()
	e := &pb.MonLogEntry{Requests: []*pb.MonRequestRecord{{ClientId: "c1", Seq: 9, Reply: &pb.MonCommandReply{Epoch: 2, Message: "done"}}}}
	next := cur.Clone()
	next.Epoch++
	inc, _ := diffMaps(cur, next)
	e.Incremental, _ = inc.Marshal()
	b, _ := proto.Marshal(e)
	if _, err := s.apply(3, b); err != nil {
		t.Fatal(err)
	}
	data, err := s.snapshotData()
	if err != nil {
		t.Fatal(err)
	}
	r := openTestState(t, 10)
	if err := r.restore(3, data); err != nil {
		t.Fatal(err)
	}
	if rep := r.lookupRequest("c1", 9); rep == nil || rep.GetMessage() != "done" {
		t.Fatalf("request reply lost in the snapshot: %v", rep)
	}
	if m, _ := r.current(); m == nil || m.Epoch != 2 {
		t.Fatalf("restored map %v", m)
	}
	if _, ok := r.incrementalsAfter(1, 10); ok {
		t.Fatal("restored state claims a history it does not have")
	}
	if err := r.restore(4, []byte{0xff, 0xff}); !errors.Is(err, ErrCorruptStore) {
		t.Fatalf("garbage snapshot: %v", err)
	}
}

// FuzzMapStateApply: any committed payload is applied or rejected, never
// panics, and a rejected one leaves the map as it was.
func FuzzMapStateApply(f *testing.F) {
	m := newTestMap(f)
	f.Add(bootstrapEntry(f, m))
	f.Add(incEntry(f, m, func(x *cluster.OSDMap) { x.Flags |= cluster.FlagPause }))
	f.Add([]byte{0x12, 0x03, 1, 2, 3})
	f.Fuzz(func(t *testing.T, payload []byte) {
		s := openTestState(t, 5)
		if _, err := s.apply(2, bootstrapEntry(t, m)); err != nil {
			t.Fatal(err)
		}
		_, before := s.current()
		if _, err := s.apply(3, payload); err != nil {
			if _, after := s.current(); !bytes.Equal(before, after) {
				t.Fatal("a rejected entry changed the map")
			}
		}
	})
}

// FuzzParseMembers: member lists never panic and accepted ones round-trip.
func FuzzParseMembers(f *testing.F) {
	f.Add("a=127.0.0.1:1,b=127.0.0.1:2")
	f.Add("a=[::1]:7,b=h:8")
	f.Add("=,,=")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMembers(s)
		if err != nil {
			return
		}
		again, err := ParseMembers(FormatMembers(ms))
		if err != nil || FormatMembers(again) != FormatMembers(ms) {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

// FuzzMapStateRestore: a snapshot from the network either restores or is
// refused with ErrCorruptStore; it never panics.
func FuzzMapStateRestore(f *testing.F) {
	s := openTestState(f, 5)
	if _, err := s.apply(2, bootstrapEntry(f, newTestMap(f))); err != nil {
		f.Fatal(err)
	}
	good, err := s.snapshotData()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		r := openTestState(t, 5)
		if err := r.restore(7, data); err != nil && !errors.Is(err, ErrCorruptStore) {
			t.Fatalf("restore error of the wrong kind: %v", err)
		}
	})
}
