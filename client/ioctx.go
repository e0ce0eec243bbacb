package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

// AllNamespaces, set as the namespace of an IO context, makes ListObjects
// list the objects of every namespace (librados' LIBRADOS_ALL_NSPACES).
// Object operations refuse it.
const AllNamespaces = "\x01"

// IOContext is an open pool plus the namespace and locator key that apply
// to the objects it names (librados' rados_ioctx_t). It is safe for
// concurrent use; SetNamespace and SetLocatorKey affect the operations
// started after them.
type IOContext struct {
	conn     *Conn
	pool     int64
	poolName string
	loc      atomic.Pointer[locator]
}

// locator is the part of an object's name that the IO context supplies.
type locator struct {
	namespace string
	key       string
}

func newIOContext(c *Conn, pool int64, name string) *IOContext {
	io := &IOContext{conn: c, pool: pool, poolName: name}
	io.loc.Store(&locator{})
	return io
}

// PoolName returns the name the pool was opened with.
func (io *IOContext) PoolName() string { return io.poolName }

// PoolID returns the pool's id.
func (io *IOContext) PoolID() int64 { return io.pool }

// SetNamespace sets the namespace of later operations ("" is the default
// namespace; AllNamespaces lists every namespace in ListObjects).
func (io *IOContext) SetNamespace(ns string) {
	l := *io.loc.Load()
	l.namespace = ns
	io.loc.Store(&l)
}

// Namespace returns the current namespace.
func (io *IOContext) Namespace() string { return io.loc.Load().namespace }

// SetLocatorKey makes later operations place objects by key instead of by
// their name, so objects sharing a key share a PG ("" restores placement
// by name). The object is still named by its name.
func (io *IOContext) SetLocatorKey(key string) {
	l := *io.loc.Load()
	l.key = key
	io.loc.Store(&l)
}

// LocatorKey returns the current locator key.
func (io *IOContext) LocatorKey() string { return io.loc.Load().key }

// Object ids are checked on the client too, so a request that cannot
// succeed is not sent; the OSD checks again against its configured limits.
func (io *IOContext) checkTarget(op, oid string, l *locator) error {
	switch {
	case oid == "":
		return io.opError(op, oid, l, -1, &runError{kind: ErrInvalid, msg: "the object name is empty: name objects with 1 to 2,048 bytes"})
	case l.namespace == AllNamespaces:
		return io.opError(op, oid, l, -1, &runError{kind: ErrInvalid, msg: "AllNamespaces only applies to ListObjects: set a namespace for object operations"})
	}
	return nil
}

// execute sends one compound op on oid and returns the OSD's reply, or an
// *OpError for any outcome other than RESULT_OK.
func (io *IOContext) execute(ctx context.Context, op, oid string, ops []*pb.SubOp) (*pb.OpReply, error) {
	l := io.loc.Load()
	if err := io.checkTarget(op, oid, l); err != nil {
		return nil, err
	}
	req := &pb.OpRequest{
		Fsid: io.conn.fsid, Reqid: io.conn.newReqID(), Pool: io.pool, Ops: ops,
		Object: &pb.ObjectLocator{Namespace: []byte(l.namespace), Key: []byte(l.key), Name: []byte(oid)},
	}
	cl := &call{
		pool: io.pool,
		pgOf: func(m *cluster.OSDMap) (cluster.PGID, error) { return m.ObjectToPG(io.pool, oid, l.namespace, l.key) },
		send: func(ctx context.Context, cli pb.ObjectServiceClient, m *cluster.OSDMap, pg cluster.PGID) (reply, error) {
			req.Epoch, req.PgSeed = uint64(m.Epoch), pg.Seed
			return cli.Execute(ctx, req)
		},
	}
	r, err := io.conn.run(ctx, cl)
	if err != nil {
		return nil, io.opError(op, oid, l, -1, err)
	}
	rep := r.(*pb.OpReply)
	if rep.GetDuplicate() {
		io.conn.stats.duplicates.Add(1)
	}
	if rep.GetResult() != pb.Result_RESULT_OK {
		return rep, io.resultError(op, oid, l, rep)
	}
	if len(rep.GetResults()) != len(ops) {
		return rep, io.opError(op, oid, l, -1, &runError{kind: ErrIO,
			msg: fmt.Sprintf("the OSD answered %d results to %d steps: client and OSD versions disagree", len(rep.GetResults()), len(ops))})
	}
	return rep, nil
}

// resultError turns a failed reply into an *OpError naming the failed step.
func (io *IOContext) resultError(op, oid string, l *locator, rep *pb.OpReply) error {
	step := -1
	for i, r := range rep.GetResults() {
		if r.GetResult() != pb.Result_RESULT_OK && r.GetResult() != pb.Result_RESULT_NOT_EXECUTED {
			step = i
			break
		}
	}
	return &OpError{Op: op, Pool: io.poolName, Namespace: l.namespace, Object: oid, Step: step,
		Kind: resultKind(rep.GetResult()), Msg: rep.GetMessage() + resultHint(rep.GetResult())}
}

// opError wraps a retry-loop failure into an *OpError.
func (io *IOContext) opError(op, oid string, l *locator, step int, err error) error {
	e := &OpError{Op: op, Pool: io.poolName, Namespace: l.namespace, Object: oid, Step: step, Kind: ErrIO, Msg: err.Error()}
	var re *runError
	if errors.As(err, &re) {
		e.Kind, e.Msg, e.Cause = re.kind, re.msg, re.cause
	}
	return e
}
