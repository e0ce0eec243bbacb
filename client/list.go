package client

import (
	"context"
	"fmt"
	"iter"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/proto/pb"
)

// ObjectEntry names one object found by ListObjects.
type ObjectEntry struct {
	Namespace string
	// Key is the object's locator key, "" when it is placed by name.
	Key  string
	Name string
}

// ListObjects iterates over the objects of the pool in the IO context's
// namespace (every namespace with AllNamespaces), PG by PG and page by
// page, each page read from the PG's acting primary. Objects written or
// removed during the listing may or may not appear. The first error ends
// the iteration (it is yielded with a zero entry).
//
// The PGs to visit are those of the map when the listing starts; if the
// pool's pg_num changes during the listing, the iteration ends with
// ErrInvalid and should be restarted.
func (io *IOContext) ListObjects(ctx context.Context) iter.Seq2[ObjectEntry, error] {
	return func(yield func(ObjectEntry, error) bool) {
		ns := io.Namespace()
		p := io.conn.cur.Load().Pool(io.pool)
		if p == nil {
			yield(ObjectEntry{}, io.listError(ns, &runError{kind: ErrPoolNotFound,
				msg: fmt.Sprintf("pool id %d is not in the map: it was deleted; reopen it by name", io.pool)}))
			return
		}
		for seed := uint32(0); seed < p.PGNum; seed++ {
			if !io.listPG(ctx, cluster.PGID{Pool: io.pool, Seed: seed}, p.PGNum, ns, yield) {
				return
			}
		}
	}
}

// listPG yields the objects of one PG; it returns false when the
// iteration must stop (the consumer stopped or an error was yielded).
func (io *IOContext) listPG(ctx context.Context, pg cluster.PGID, pgNum uint32, ns string, yield func(ObjectEntry, error) bool) bool {
	var cursor []byte
	for {
		rep, err := io.listPage(ctx, pg, pgNum, ns, cursor)
		if err != nil {
			yield(ObjectEntry{}, err)
			return false
		}
		for _, o := range rep.GetObjects() {
			if !yield(ObjectEntry{Namespace: string(o.GetNamespace()), Key: string(o.GetKey()), Name: string(o.GetName())}, nil) {
				return false
			}
		}
		cursor = rep.GetNextCursor()
		if len(cursor) == 0 {
			return true
		}
	}
}

// errPGNumChanged ends a listing whose pool was split or merged meanwhile.
var errPGNumChanged = &runError{kind: ErrInvalid, msg: "the pool's pg_num changed during the listing: restart it"}

// listPage fetches one page of a PG listing through the retry loop.
func (io *IOContext) listPage(ctx context.Context, pg cluster.PGID, pgNum uint32, ns string, cursor []byte) (*pb.ListObjectsReply, error) {
	req := &pb.ListObjectsRequest{Fsid: io.conn.fsid, Pool: io.pool, PgSeed: pg.Seed, Cursor: cursor}
	if ns == AllNamespaces {
		req.AllNamespaces = true
	} else {
		req.Namespace = []byte(ns)
	}
	cl := &call{
		pool: io.pool,
		pgOf: func(m *cluster.OSDMap) (cluster.PGID, error) {
			p := m.Pool(io.pool)
			switch {
			case p == nil:
				return pg, fmt.Errorf("%w: pool %d", cluster.ErrNoSuchPool, io.pool)
			case p.PGNum != pgNum:
				return pg, errPGNumChanged
			}
			return pg, nil
		},
		send: func(ctx context.Context, cli pb.ObjectServiceClient, m *cluster.OSDMap, pg cluster.PGID) (reply, error) {
			req.Epoch = uint64(m.Epoch)
			return cli.ListObjects(ctx, req)
		},
	}
	r, err := io.conn.run(ctx, cl)
	if err != nil {
		return nil, io.listError(ns, err)
	}
	rep := r.(*pb.ListObjectsReply)
	if rep.GetResult() != pb.Result_RESULT_OK {
		return nil, &OpError{Op: "ls", Pool: io.poolName, Namespace: ns, Object: pg.String(), Step: -1,
			Kind: resultKind(rep.GetResult()), Msg: rep.GetMessage() + resultHint(rep.GetResult())}
	}
	return rep, nil
}

func (io *IOContext) listError(ns string, err error) error {
	return io.opError("ls", "", &locator{namespace: ns}, -1, err)
}
