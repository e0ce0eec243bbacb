package osd

import "sync"

// shard runs closures one at a time on its own goroutine. Every PG belongs
// to one shard, and everything that touches a PG (client ops, repops,
// peering messages, maps, commits) runs on it: ops of one PG are
// serialized, different PGs proceed in parallel on all cores.
//
// The queue is unbounded so that posting never blocks: a shard posts to
// itself and to others from completion callbacks, and a bounded queue could
// deadlock there. Client admission is bounded elsewhere (per-PG in-flight
// writes wait on objects, the store bounds queued transactions).
type shard struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []func()
	stopped bool
	done    chan struct{}
}

func newShard() *shard {
	s := &shard{done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.run()
	return s
}

// post queues f; it returns false if the shard has stopped.
func (s *shard) post(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.queue = append(s.queue, f)
	s.cond.Signal()
	return true
}

func (s *shard) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.stopped {
			s.cond.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, f := range batch {
			f()
		}
	}
}

// stop lets the shard finish what is queued, then end.
func (s *shard) stop() {
	s.mu.Lock()
	s.stopped = true
	s.cond.Signal()
	s.mu.Unlock()
	<-s.done
}
