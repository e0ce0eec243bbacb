package osd

import (
	"fmt"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/osd/store"
)

func newTxn() *store.Txn { return store.NewTxn() }

// fatal reports a failure after which the OSD cannot go on safely.
func (o *OSD) fatal(id cluster.PGID, err error) {
	o.log.Error("fatal store failure", "pg", id, "err", err)
	o.cfg.Fatal(fmt.Errorf("pg %s: %w", id, err))
}

// opDataBytes counts the data bytes an op carries (writes) or returned
// (reads are counted by the caller from the reply).
func opDataBytes(op *clientOp) int {
	n := 0
	for _, s := range op.req.GetOps() {
		n += len(s.GetWrite().GetData()) + len(s.GetWriteFull().GetData()) + len(s.GetAppend().GetData())
	}
	for _, r := range op.results {
		n += len(r.GetData())
	}
	return n
}
