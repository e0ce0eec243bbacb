package mon

// mapState is the monitor's replicated state machine: the current OSDMap,
// the incrementals of the newest epochs (for subscribers), and the replies
// to recently applied commands (so a retried command is answered, not
// applied twice). Every committed raft entry is applied in one bbolt
// transaction together with the applied index, so a restart resumes exactly
// where the store left off.

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/failpoint"
	"github.com/gorados/gorados/proto/pb"
)

const (
	// defaultHistoryEpochs is how many incrementals are kept (Ceph's
	// mon_min_osdmap_epochs).
	defaultHistoryEpochs = 500
	// requestCacheMax bounds the remembered command replies.
	requestCacheMax = 10000
)

// applyOutcome is what a proposer learns about its committed entry.
type applyOutcome struct {
	Epoch cluster.Epoch
}

type mapState struct {
	db      *bolt.DB
	history uint64

	mu        sync.RWMutex
	idx       uint64
	cur       *cluster.OSDMap // nil until the bootstrap entry is applied
	curBytes  []byte
	oldestInc cluster.Epoch // oldest stored incremental, 0 when none
	nRequests int
	epochCh   chan struct{} // closed and replaced at every new epoch
}

func loadMapState(db *bolt.DB, history uint64) (*mapState, error) {
	if history == 0 {
		history = defaultHistoryEpochs
	}
	s := &mapState{db: db, history: history, epochCh: make(chan struct{})}
	err := db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketState)
		s.idx = keyU64(st.Get(keyApplied))
		if b := st.Get(keyFullMap); b != nil {
			m, err := decodeMap(b)
			if err != nil {
				return fmt.Errorf("current map: %w", err)
			}
			s.cur, s.curBytes = m, append([]byte(nil), b...)
		}
		if k, _ := tx.Bucket(bucketIncrementals).Cursor().First(); k != nil {
			s.oldestInc = cluster.Epoch(keyU64(k))
		}
		s.nRequests = tx.Bucket(bucketRequestOrder).Stats().KeyN
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptStore, err)
	}
	return s, nil
}

func (s *mapState) applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.idx
}

func (s *mapState) noteApplied(index uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index > s.idx {
		s.idx = index
	}
}

// current returns the current map (shared, read-only) and its encoding.
func (s *mapState) current() (*cluster.OSDMap, []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur, s.curBytes
}

// epochChanged returns a channel closed when the next epoch is applied.
func (s *mapState) epochChanged() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.epochCh
}

// apply implements applier. A rejected entry (an incremental built on a map
// that changed meanwhile) changes nothing but the applied index, on every
// monitor alike, and returns ErrConflict to its proposer.
func (s *mapState) apply(index uint64, payload []byte) (any, error) {
	var e pb.MonLogEntry
	if err := proto.Unmarshal(payload, &e); err != nil {
		s.noteApplied(index)
		return nil, fmt.Errorf("%w: undecodable log entry %d: %w", ErrConflict, index, err)
	}
	s.mu.RLock()
	cur := s.cur
	s.mu.RUnlock()
	next, incBytes, err := s.nextMap(cur, &e)
	if err != nil {
		s.noteApplied(index)
		return nil, err
	}
	nextBytes, err := encodeMap(next)
	if err != nil {
		s.noteApplied(index)
		return nil, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	if err := s.persist(index, next, nextBytes, incBytes, e.GetRequests()); err != nil {
		return nil, fmt.Errorf("%w: apply entry %d: %w", ErrCorruptStore, index, err)
	}
	return applyOutcome{Epoch: next.Epoch}, nil
}

// nextMap computes the map an entry leads to from cur.
func (s *mapState) nextMap(cur *cluster.OSDMap, e *pb.MonLogEntry) (*cluster.OSDMap, []byte, error) {
	if len(e.GetFullMap()) > 0 {
		if cur != nil {
			return nil, nil, fmt.Errorf("%w: cluster already created (fsid %s)", ErrConflict, cur.FSID)
		}
		m, err := decodeMap(e.GetFullMap())
		if err != nil {
			return nil, nil, fmt.Errorf("%w: bootstrap map: %w", ErrConflict, err)
		}
		return m, nil, nil
	}
	if cur == nil {
		return nil, nil, fmt.Errorf("%w: incremental before the cluster was created", ErrConflict)
	}
	inc, err := decodeInc(e.GetIncremental())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	next, err := applyInc(cur, inc)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return next, e.GetIncremental(), nil
}

// persist writes the new epoch, its incremental, the request replies and
// the applied index in one transaction, then publishes the new map.
func (s *mapState) persist(index uint64, next *cluster.OSDMap, nextBytes, incBytes []byte, reqs []*pb.MonRequestRecord) error {
	oldest := s.oldestInc
	added := 0
	if err := failpoint.Eval(fpBeforeApply); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketState)
		if err := st.Put(keyFullMap, nextBytes); err != nil {
			return err
		}
		if err := st.Put(keyFSID, []byte(next.FSID.String())); err != nil {
			return err
		}
		if err := st.Put(keyApplied, u64key(index)); err != nil {
			return err
		}
		var err error
		if incBytes != nil {
			if oldest, err = s.putIncremental(tx, next.Epoch, incBytes); err != nil {
				return err
			}
		}
		added, err = s.putRequests(tx, index, reqs)
		return err
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.idx, s.cur, s.curBytes, s.oldestInc = index, next, nextBytes, oldest
	s.nRequests += added
	close(s.epochCh)
	s.epochCh = make(chan struct{})
	s.mu.Unlock()
	return failpoint.Eval(fpAfterApplyReply)
}

// putIncremental stores the incremental of epoch and trims the history to
// the newest s.history epochs; it returns the oldest epoch kept.
func (s *mapState) putIncremental(tx *bolt.Tx, epoch cluster.Epoch, inc []byte) (cluster.Epoch, error) {
	b := tx.Bucket(bucketIncrementals)
	if err := b.Put(u64key(uint64(epoch)), inc); err != nil {
		return 0, err
	}
	if uint64(epoch) > s.history {
		if err := deleteThrough(b, uint64(epoch)-s.history); err != nil {
			return 0, err
		}
	}
	k, _ := b.Cursor().First()
	return cluster.Epoch(keyU64(k)), nil
}

func requestKey(clientID string, seq uint64) []byte {
	return append(append([]byte(clientID), 0), u64key(seq)...)
}

// putRequests records command replies, keyed by client and sequence, and
// drops the oldest beyond requestCacheMax.
func (s *mapState) putRequests(tx *bolt.Tx, index uint64, reqs []*pb.MonRequestRecord) (int, error) {
	rb, ob := tx.Bucket(bucketRequests), tx.Bucket(bucketRequestOrder)
	for i, r := range reqs {
		if r.GetClientId() == "" {
			continue
		}
		b, err := proto.Marshal(r)
		if err != nil {
			return 0, err
		}
		k := requestKey(r.GetClientId(), r.GetSeq())
		if err := rb.Put(k, b); err != nil {
			return 0, err
		}
		if err := ob.Put(u64key(index<<16|uint64(i)), k); err != nil {
			return 0, err
		}
	}
	return len(reqs) - s.trimRequests(rb, ob, s.nRequests+len(reqs)), nil
}

func (s *mapState) trimRequests(rb, ob *bolt.Bucket, n int) int {
	removed := 0
	c := ob.Cursor()
	for k, v := c.First(); k != nil && n-removed > requestCacheMax; k, v = c.First() {
		_ = rb.Delete(v)
		_ = c.Delete()
		removed++
	}
	return removed
}

// lookupRequest returns the reply of an already applied command.
func (s *mapState) lookupRequest(clientID string, seq uint64) *pb.MonCommandReply {
	if clientID == "" {
		return nil
	}
	var out *pb.MonCommandReply
	_ = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRequests).Get(requestKey(clientID, seq))
		if v == nil {
			return nil
		}
		var r pb.MonRequestRecord
		if proto.Unmarshal(v, &r) == nil {
			out = r.GetReply()
		}
		return nil
	})
	return out
}

// snapshotData implements applier: the full map and the remembered replies.
func (s *mapState) snapshotData() ([]byte, error) {
	_, cur := s.current()
	snap := &pb.MonSnapshot{FullMap: cur}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRequests).ForEach(func(_, v []byte) error {
			var r pb.MonRequestRecord
			if err := proto.Unmarshal(v, &r); err != nil {
				return err
			}
			snap.Requests = append(snap.Requests, &r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return proto.Marshal(snap)
}

// restore implements applier: the state becomes the snapshot's; the
// incremental history restarts at the snapshot's epoch, so subscribers that
// are further behind receive a full map.
func (s *mapState) restore(index uint64, data []byte) error {
	var snap pb.MonSnapshot
	if err := proto.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("%w: snapshot: %w", ErrCorruptStore, err)
	}
	var m *cluster.OSDMap
	if len(snap.GetFullMap()) > 0 {
		var err error
		if m, err = decodeMap(snap.GetFullMap()); err != nil {
			return fmt.Errorf("%w: snapshot map: %w", ErrCorruptStore, err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketIncrementals, bucketRequests, bucketRequestOrder} {
			if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		st := tx.Bucket(bucketState)
		if err := st.Put(keyApplied, u64key(index)); err != nil {
			return err
		}
		if m == nil {
			return st.Delete(keyFullMap)
		}
		if err := st.Put(keyFullMap, snap.GetFullMap()); err != nil {
			return err
		}
		_, err := s.putRequests(tx, index, snap.GetRequests())
		return err
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.idx, s.cur, s.curBytes, s.oldestInc = index, m, snap.GetFullMap(), 0
	s.nRequests = len(snap.GetRequests())
	close(s.epochCh)
	s.epochCh = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// incrementalsAfter returns the stored incrementals of epochs from+1 up to
// at most max of them, or ok=false when some are trimmed (the caller then
// sends a full map).
func (s *mapState) incrementalsAfter(from cluster.Epoch, max int) (incs [][]byte, ok bool) {
	s.mu.RLock()
	oldest, cur := s.oldestInc, s.cur
	s.mu.RUnlock()
	if cur == nil || from >= cur.Epoch {
		return nil, true
	}
	if oldest == 0 || from+1 < oldest {
		return nil, false
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIncrementals).Cursor()
		want := uint64(from) + 1
		for k, v := c.Seek(u64key(want)); k != nil && len(incs) < max; k, v = c.Next() {
			if keyU64(k) != want {
				break
			}
			incs = append(incs, append([]byte(nil), v...))
			want++
		}
		return nil
	})
	return incs, len(incs) > 0
}
