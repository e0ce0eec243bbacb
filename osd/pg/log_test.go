package pg

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// TestLogAgainstModel drives the log with random appends and trims and
// checks it against a plain model: every request id ever appended is found
// exactly while it is in the log or among the newest DupsTracked trimmed
// ones, with its original version.
func TestLogAgainstModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	const maxDups = 5
	l := NewLog(Eversion{})
	var all []LogEntry // every entry ever appended
	trimmedUpTo := 0   // all[:trimmedUpTo] were trimmed
	epoch := uint64(1)
	for step := range 2000 {
		if rng.IntN(3) > 0 {
			epoch += uint64(rng.IntN(2))
			e := LogEntry{Op: OpModify, Object: ObjectID{Name: "o"},
				Version: Eversion{epoch, uint64(len(all) + 1)}, ReqID: ReqID{Client: 1, Tid: uint64(step)}}
			if err := l.Append(e); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			all = append(all, e)
		} else if len(all) > trimmedUpTo {
			k := trimmedUpTo + rng.IntN(len(all)-trimmedUpTo)
			got, _ := l.TrimTo(all[k].Version, maxDups)
			if len(got) != k+1-trimmedUpTo {
				t.Fatalf("seed %d step %d: trimmed %d, want %d", seed, step, len(got), k+1-trimmedUpTo)
			}
			trimmedUpTo = k + 1
		}
		checkLog(t, seed, l, all, trimmedUpTo, maxDups)
	}
}

func checkLog(t *testing.T, seed uint64, l *Log, all []LogEntry, trimmedUpTo, maxDups int) {
	t.Helper()
	if l.Len() != len(all)-trimmedUpTo {
		t.Fatalf("seed %d: len %d, want %d", seed, l.Len(), len(all)-trimmedUpTo)
	}
	for i, e := range all {
		d, ok := l.Lookup(e.ReqID)
		want := i >= trimmedUpTo-maxDups
		if ok != want || (ok && d.Version != e.Version) {
			t.Fatalf("seed %d: lookup %s (index %d, trimmed %d): %v %s, want found=%v %s",
				seed, e.ReqID, i, trimmedUpTo, ok, d.Version, want, e.Version)
		}
	}
}

func TestLogRejectsBadAppends(t *testing.T) {
	l := NewLog(Eversion{3, 7})
	for _, e := range []LogEntry{
		{Op: OpModify, Object: ObjectID{Name: "a"}, Version: Eversion{3, 7}},
		{Op: OpModify, Object: ObjectID{Name: "a"}, Version: Eversion{2, 9}},
		{Op: OpModify, Version: Eversion{3, 8}},
		{Op: 42, Object: ObjectID{Name: "a"}, Version: Eversion{3, 8}},
	} {
		if err := l.Append(e); !errors.Is(err, ErrBadEntry) {
			t.Errorf("append %s: err %v, want ErrBadEntry", e, err)
		}
	}
}

// A log restored from its persisted entries and dups answers lookups as the
// original did.
func TestRestoreLog(t *testing.T) {
	l := NewLog(Eversion{})
	for i := 1; i <= 10; i++ {
		_ = l.Append(LogEntry{Op: OpModify, Object: ObjectID{Name: "x"}, Version: Eversion{1, uint64(i)}, ReqID: ReqID{Client: 2, Tid: uint64(i)}})
	}
	l.TrimTo(Eversion{1, 6}, 4)
	r, err := RestoreLog(l.Tail(), l.Entries(), l.Dups())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		d1, ok1 := l.Lookup(ReqID{Client: 2, Tid: uint64(i)})
		d2, ok2 := r.Lookup(ReqID{Client: 2, Tid: uint64(i)})
		if ok1 != ok2 || d1 != d2 {
			t.Errorf("tid %d: original %v %+v, restored %v %+v", i, ok1, d1, ok2, d2)
		}
	}
	if r.Tail() != l.Tail() || r.Head() != l.Head() {
		t.Errorf("restored bounds (%s,%s], want (%s,%s]", r.Tail(), r.Head(), l.Tail(), l.Head())
	}
}
