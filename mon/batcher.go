package mon

// The batcher runs on the leader. Commands arriving within one short window
// are executed one after another on a private copy of the pending map; the
// window's changes become one Incremental, one raft entry and, once
// committed, exactly one new epoch. Only one batch is in flight at a time,
// so epochs are strictly consecutive, and a batch that lost a race with an
// older leader's entry is re-executed on the newer map.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/crush"
	"github.com/gorados/gorados/proto/pb"
)

const (
	batchMax         = 1024
	batchRetries     = 5
	proposalDeadline = 10 * time.Second
)

type request struct {
	cmd      Command
	clientID string
	seq      uint64
	reply    chan cmdReply
	tries    int
}

type cmdReply struct {
	reply *pb.MonCommandReply
	err   error
}

type batcher struct {
	mon *Monitor
	in  chan *request
	// readyTerm is the raft term in which this leader has applied every
	// entry committed by earlier leaders; batches wait for it so they are
	// built on the newest map instead of losing a race on apply.
	readyTerm uint64
}

// submit queues a command and waits for its reply.
func (b *batcher) submit(ctx context.Context, r *request) (*pb.MonCommandReply, error) {
	r.reply = make(chan cmdReply, 1)
	select {
	case b.in <- r:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNoQuorum, ctx.Err())
	case <-b.mon.stopped:
		return nil, ErrStopped
	}
	select {
	case rep := <-r.reply:
		return rep.reply, rep.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNoQuorum, ctx.Err())
	}
}

func (b *batcher) run() {
	for {
		var first *request
		select {
		case first = <-b.in:
		case <-b.mon.stopped:
			return
		}
		b.commit(b.collect(first))
	}
}

// collect gathers the requests arriving within the batch window. The window
// opens when the batcher is ready, not when the first request arrived: under
// load the clients answered by the previous batch send their next commands
// within it, so one epoch carries them all.
func (b *batcher) collect(first *request) []*request {
	batch := []*request{first}
	t := time.NewTimer(b.mon.cfg.BatchWindow)
	defer t.Stop()
	for len(batch) < batchMax {
		select {
		case r := <-b.in:
			batch = append(batch, r)
		case <-t.C:
			return batch
		case <-b.mon.stopped:
			return batch
		}
	}
	return batch
}

type executed struct {
	req   *request
	reply *pb.MonCommandReply
}

// catchUp makes sure a new leader has applied its predecessors' entries.
func (b *batcher) catchUp() error {
	term := b.mon.node.term.Load()
	if term == b.readyTerm {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), proposalDeadline)
	defer cancel()
	if err := b.mon.node.readBarrier(ctx); err != nil {
		return err
	}
	b.readyTerm = term
	return nil
}

// commit executes a batch and proposes its incremental.
func (b *batcher) commit(batch []*request) {
	if err := b.catchUp(); err != nil {
		failAll(batch, err)
		return
	}
	base, _ := b.mon.sm.current()
	if base == nil {
		failAll(batch, fmt.Errorf("%w: the cluster is still being created", ErrNoQuorum))
		return
	}
	pending, done, changed := b.execute(base, batch)
	if !changed {
		for _, e := range done {
			e.reply.Epoch = uint64(base.Epoch)
			e.req.reply <- cmdReply{reply: e.reply}
		}
		return
	}
	pending.Modified = time.Now().UTC()
	start := time.Now()
	epoch, err := b.propose(base, pending, done)
	b.mon.metrics.proposalSeconds.Observe(time.Since(start).Seconds())
	if errors.Is(err, ErrConflict) {
		b.retry(done, err)
		return
	}
	for _, e := range done {
		if err != nil {
			e.req.reply <- cmdReply{err: err}
			continue
		}
		e.reply.Epoch = uint64(epoch)
		e.req.reply <- cmdReply{reply: e.reply}
	}
}

// execute runs each command on a copy of the pending map; a failing
// command is answered at once and leaves the pending map untouched.
func (b *batcher) execute(base *cluster.OSDMap, batch []*request) (*cluster.OSDMap, []executed, bool) {
	pending := base.Clone()
	pending.Epoch = base.Epoch + 1
	var done []executed
	changed := false
	for _, r := range batch {
		if prev := b.mon.sm.lookupRequest(r.clientID, r.seq); prev != nil {
			r.reply <- cmdReply{reply: prev}
			continue
		}
		trial := pending.Clone()
		res, err := Execute(trial, r.cmd, b.mon.cfg.Limits)
		if err != nil {
			r.reply <- cmdReply{err: err}
			continue
		}
		if res.Changed {
			pending, changed = trial, true
		}
		rep := &pb.MonCommandReply{Message: res.Message, OsdId: res.OSDID, Fsid: base.FSID.String()}
		done = append(done, executed{req: r, reply: rep})
	}
	return pending, done, changed
}

// propose replicates the incremental base -> pending with the replies it
// answers and returns the committed epoch.
func (b *batcher) propose(base, pending *cluster.OSDMap, done []executed) (cluster.Epoch, error) {
	inc, err := diffMaps(base, pending)
	if err != nil {
		return 0, fmt.Errorf("diff epoch %d: %w", pending.Epoch, err)
	}
	incBytes, err := encodeInc(inc)
	if err != nil {
		return 0, err
	}
	entry := &pb.MonLogEntry{Incremental: incBytes}
	for _, e := range done {
		e.reply.Epoch = uint64(pending.Epoch)
		entry.Requests = append(entry.Requests, &pb.MonRequestRecord{ClientId: e.req.clientID, Seq: e.req.seq, Reply: e.reply})
	}
	return b.proposeEntry(entry)
}

func (b *batcher) proposeEntry(entry *pb.MonLogEntry) (cluster.Epoch, error) {
	payload, err := proto.Marshal(entry)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), proposalDeadline)
	defer cancel()
	out, err := b.mon.node.propose(ctx, payload)
	if err != nil {
		return 0, err
	}
	return out.(applyOutcome).Epoch, nil
}

// retry re-queues the commands of a batch that lost a race, unless they
// have been retried too often.
func (b *batcher) retry(done []executed, cause error) {
	for _, e := range done {
		e.req.tries++
		if e.req.tries > batchRetries {
			e.req.reply <- cmdReply{err: fmt.Errorf("%w: gave up after %d attempts: %w", ErrNoQuorum, batchRetries, cause)}
			continue
		}
		go func(r *request) {
			select {
			case b.in <- r:
			case <-b.mon.stopped:
				r.reply <- cmdReply{err: ErrStopped}
			}
		}(e.req)
	}
}

func failAll(batch []*request, err error) {
	for _, r := range batch {
		r.reply <- cmdReply{err: err}
	}
}

// bootstrapCluster proposes the epoch-1 map with a fresh fsid. It runs on a
// new leader that has no map yet; if another leader created the cluster
// first, the entry is rejected on apply and nothing changes.
func (b *batcher) bootstrapCluster() error {
	var fsid cluster.UUID
	if _, err := rand.Read(fsid[:]); err != nil {
		return err
	}
	fsid[6] = fsid[6]&0x0f | 0x40 // version 4
	fsid[8] = fsid[8]&0x3f | 0x80 // RFC 4122 variant
	now := time.Now().UTC()
	m := cluster.New(fsid, now)
	m.Epoch = 1
	m.SetCrush(crush.NewDefaultMap())
	full, err := encodeMap(m)
	if err != nil {
		return err
	}
	_, err = b.proposeEntry(&pb.MonLogEntry{FullMap: full})
	if errors.Is(err, ErrConflict) {
		return nil
	}
	return err
}
