package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/internal/failpoint"
	"github.com/gorados/gorados/proto/pb"
)

// FailpointDropReply is evaluated after an OSD answered an op; when it
// returns an error the client discards the answer as if the connection had
// dropped, and resends the same request (same reqid). Tests use it to check
// that a resent write is applied once.
const FailpointDropReply = "clientDropReply"

// reply is what the retry loop reads from any OSD answer.
type reply interface {
	GetResult() pb.Result
	GetMessage() string
	GetOsdEpoch() uint64
}

// call is one request as the retry loop sees it: how to find its PG in a
// map, and how to send it to a target. send is called once per attempt
// with the map the target was computed from.
type call struct {
	pool int64
	pgOf func(m *cluster.OSDMap) (cluster.PGID, error)
	send func(ctx context.Context, cli pb.ObjectServiceClient, m *cluster.OSDMap, pg cluster.PGID) (reply, error)
}

// target is where one attempt goes.
type target struct {
	pg   cluster.PGID
	osd  int32
	addr string
}

// runError is a failure of the retry loop itself (as opposed to an op
// result): its kind and explanation become the OpError.
type runError struct {
	kind  error
	msg   string
	cause error
}

// Error returns the explanation.
func (e *runError) Error() string { return e.msg }

// run sends cl to the acting primary of its PG until an OSD gives a final
// answer, resending the same request across map changes, redirects and
// transient failures, within ctx and Config.OpTimeout.
func (c *Conn) run(ctx context.Context, cl *call) (reply, error) {
	if c.isClosed() {
		return nil, &runError{kind: ErrClosed, msg: "the connection was closed"}
	}
	c.stats.ops.Add(1)
	if c.cfg.OpTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.OpTimeout)
		defer cancel()
	}
	r := retrier{c: c, cl: cl, backoff: c.cfg.BackoffMin}
	for {
		if c.isClosed() {
			return nil, &runError{kind: ErrClosed, msg: "the connection was closed"}
		}
		rep, done, err := r.step(ctx)
		if done || err != nil {
			return rep, err
		}
		if err := ctx.Err(); err != nil {
			return nil, r.timeout(err)
		}
	}
}

// retrier holds the state of one run: the backoff and the last problem
// seen, reported if the deadline passes.
type retrier struct {
	c       *Conn
	cl      *call
	backoff time.Duration
	last    string
}

// step makes one attempt. done reports a final answer (rep, possibly
// with a non-OK result); otherwise the caller loops.
func (r *retrier) step(ctx context.Context) (rep reply, done bool, err error) {
	m := r.c.cur.Load()
	t, err := r.target(m)
	if err != nil {
		return nil, false, r.noTarget(ctx, m, err)
	}
	rep, err = r.attempt(ctx, m, t)
	var final *runError
	if errors.As(err, &final) {
		return nil, false, final
	}
	if err != nil {
		return nil, false, r.attemptFailed(ctx, t, err)
	}
	return r.judge(ctx, m, t, rep)
}

// target computes the acting primary of the call's PG in m.
func (r *retrier) target(m *cluster.OSDMap) (target, error) {
	pg, err := r.cl.pgOf(m)
	if err != nil {
		return target{}, err
	}
	pl := r.c.placements.of(m, pg)
	p := pl.primary
	if p == cluster.NoOSD || !m.IsUp(p) || m.OSDs[p].PublicAddr == "" {
		return target{pg: pg, osd: p}, fmt.Errorf("%w: PG %s has no up acting primary in map epoch %d (acting %v)", errNoPrimary, pg, m.Epoch, pl.acting)
	}
	return target{pg: pg, osd: p, addr: m.OSDs[p].PublicAddr}, nil
}

// noTarget handles a map in which the call has nowhere to go: the pool is
// gone (final, after checking with the monitors) or the PG has no primary
// (wait for a map that gives it one).
func (r *retrier) noTarget(ctx context.Context, m *cluster.OSDMap, err error) error {
	if errors.Is(err, cluster.ErrNoSuchPool) {
		return r.poolGone(ctx, m.Epoch)
	}
	var final *runError
	if errors.As(err, &final) {
		return final
	}
	r.last = err.Error()
	r.c.refresh(ctx, m.Epoch)
	if r.c.cur.Load().Epoch == m.Epoch {
		r.sleep(ctx)
	}
	return nil
}

// poolGone confirms with the monitors that the pool is not in the newest
// map (it may have been deleted and the client may be the last to know),
// then reports ErrPoolNotFound; it returns nil if the pool is back.
func (r *retrier) poolGone(ctx context.Context, seen cluster.Epoch) error {
	r.c.refresh(ctx, seen)
	if m := r.c.cur.Load(); m.Pool(r.cl.pool) == nil {
		return &runError{kind: ErrPoolNotFound,
			msg: fmt.Sprintf("pool id %d is not in map epoch %d: it was deleted; reopen the pool by name or create it again", r.cl.pool, m.Epoch)}
	}
	return nil
}

// attempt sends the call to t once. The attempt is bounded by
// AttemptTimeout and abandoned early if a new map moves the PG's primary.
func (r *retrier) attempt(ctx context.Context, m *cluster.OSDMap, t target) (reply, error) {
	cli, err := r.c.osds.client(t.addr)
	if errors.Is(err, ErrClosed) {
		return nil, &runError{kind: ErrClosed, msg: "the connection was closed", cause: err}
	}
	if err != nil {
		return nil, &runError{kind: ErrIO, cause: err,
			msg: fmt.Sprintf("the map gives osd.%d the unusable address %q (%v): check the OSD's --public-addr", t.osd, t.addr, err)}
	}
	actx, cancel := context.WithTimeout(ctx, r.c.cfg.AttemptTimeout)
	defer cancel()
	var moved atomic.Bool
	go r.watchRetarget(actx, t, func() { moved.Store(true); cancel() })
	r.c.stats.attempts.Add(1)
	rep, err := r.cl.send(actx, cli, m, t.pg)
	if err == nil && failpoint.Eval(FailpointDropReply) != nil {
		err = status.Error(codes.Unavailable, "reply dropped by failpoint "+FailpointDropReply)
	}
	if err != nil && moved.Load() {
		return nil, errRetargeted
	}
	return rep, err
}

var errRetargeted = errors.New("the PG's primary changed while the op was in flight")

// watchRetarget calls moved when a map installed while the attempt runs
// sends the PG elsewhere (the op must follow it, as Ceph's Objecter
// resends on map changes), and returns when ctx ends.
func (r *retrier) watchRetarget(ctx context.Context, t target, moved func()) {
	for {
		m, changed := r.c.snapshot()
		if nt, err := r.target(m); err != nil || nt != t {
			moved()
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// attemptFailed classifies an RPC failure: permanent ones end the run,
// transient ones lead to a resend after a backoff.
func (r *retrier) attemptFailed(ctx context.Context, t target, err error) error {
	if errors.Is(err, errRetargeted) {
		r.c.stats.retargets.Add(1)
		r.last = err.Error()
		return nil
	}
	if dl, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(dl) {
		return nil // the caller reports the timeout with the previous problem
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.ResourceExhausted:
		return &runError{kind: ErrTooBig, cause: err,
			msg: fmt.Sprintf("the request or its reply exceeds the message size limit (%s); keep ops under the object size limit", st.Message())}
	case codes.Unimplemented, codes.Unauthenticated, codes.PermissionDenied:
		return &runError{kind: ErrIO, cause: err,
			msg: fmt.Sprintf("osd.%d at %s refused the call (%s): is it a gorados OSD of this version?", t.osd, t.addr, st.Message())}
	}
	r.c.stats.transportErrors.Add(1)
	r.last = fmt.Sprintf("osd.%d at %s: %v", t.osd, t.addr, err)
	r.sleep(ctx)
	return nil
}

// judge acts on an OSD's answer: redirects and retry answers lead to a
// resend, anything else is final.
func (r *retrier) judge(ctx context.Context, m *cluster.OSDMap, t target, rep reply) (reply, bool, error) {
	osdEpoch := cluster.Epoch(rep.GetOsdEpoch())
	switch rep.GetResult() {
	case pb.Result_RESULT_NOT_PRIMARY, pb.Result_RESULT_STALE_EPOCH:
		r.c.stats.redirects.Add(1)
		r.last = fmt.Sprintf("osd.%d (epoch %d) answered %v to a map of epoch %d: %s", t.osd, osdEpoch, rep.GetResult(), m.Epoch, rep.GetMessage())
		r.awaitNewer(ctx, m.Epoch, osdEpoch)
		return nil, false, nil
	case pb.Result_RESULT_AGAIN:
		r.c.stats.agains.Add(1)
		r.last = fmt.Sprintf("osd.%d: PG %s not ready: %s", t.osd, t.pg, rep.GetMessage())
		r.sleep(ctx)
		return nil, false, nil
	case pb.Result_RESULT_NO_SUCH_POOL:
		r.awaitNewer(ctx, m.Epoch, osdEpoch)
		if err := r.poolGone(ctx, m.Epoch); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	return rep, true, nil
}

// awaitNewer waits for the map an OSD knows (osdEpoch) when it is newer
// than the client's (mine); when it is not, the OSD and the client
// disagree on the same epoch, which a fresh map from the monitors and a
// backoff resolve.
func (r *retrier) awaitNewer(ctx context.Context, mine, osdEpoch cluster.Epoch) {
	if osdEpoch > mine {
		_ = r.c.waitForEpoch(ctx, osdEpoch)
		return
	}
	r.c.refresh(ctx, mine)
	r.sleep(ctx)
}

// sleep pauses for the current backoff with full jitter, then doubles it.
func (r *retrier) sleep(ctx context.Context) {
	d := time.Duration(rand.Int64N(int64(r.backoff))) + r.backoff/2
	r.backoff = min(2*r.backoff, r.c.cfg.BackoffMax)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-r.c.done:
	}
}

// timeout builds the error of a run whose context ended.
func (r *retrier) timeout(ctxErr error) error {
	if r.c.isClosed() {
		return &runError{kind: ErrClosed, msg: "the connection was closed"}
	}
	last := r.last
	if last == "" {
		last = "no OSD answered yet"
	}
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		return &runError{kind: ErrTimeout, cause: ctxErr,
			msg: fmt.Sprintf("no final answer before the deadline (last problem: %s): check that the OSDs are up (`radosctl osd tree`) and the PG active, or allow more time", last)}
	}
	return &runError{kind: ctxErr, msg: fmt.Sprintf("canceled (last problem: %s)", last)}
}
