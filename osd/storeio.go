package osd

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/gorados/gorados/cluster"
	"github.com/gorados/gorados/osd/objop"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
	"github.com/gorados/gorados/proto/pb"
)

// This file adapts between the wire/PG-layer types and the object store.

// collOf returns the store collection of a PG.
func collOf(id cluster.PGID) store.CollID { return store.PG(id.Pool, id.Seed) }

// storeObject returns the store's id of an object of pool p.
func storeObject(p *cluster.Pool, loc *pb.ObjectLocator) store.ObjectID {
	key := loc.GetKey()
	if len(key) == 0 {
		key = loc.GetName()
	}
	return store.ObjectID{
		Pool: p.ID, Namespace: string(loc.GetNamespace()), Key: string(loc.GetKey()),
		Name: string(loc.GetName()), Hash: p.HashKey(string(key), string(loc.GetNamespace())),
	}.Normalize()
}

// pgObject returns the PG layer's id of a store object.
func pgObject(o store.ObjectID) pg.ObjectID {
	return pg.ObjectID{Namespace: o.Namespace, Key: o.Key, Name: o.Name}
}

func toStoreVersion(v pg.Eversion) store.EVersion {
	return store.EVersion{Epoch: uint32(v.Epoch), Version: v.Version}
}

func fromStoreVersion(v store.EVersion) pg.Eversion {
	return pg.Eversion{Epoch: uint64(v.Epoch), Version: v.Version}
}

// addTxOps appends a resolved transaction to a store transaction.
func addTxOps(t *store.Txn, c store.CollID, o store.ObjectID, ops []*pb.TxOp) {
	for _, op := range ops {
		switch x := op.GetOp().(type) {
		case *pb.TxOp_Touch:
			t.Touch(c, o)
		case *pb.TxOp_Write:
			t.Write(c, o, x.Write.GetOffset(), x.Write.GetData())
		case *pb.TxOp_Truncate:
			t.Truncate(c, o, x.Truncate.GetSize())
		case *pb.TxOp_Remove:
			t.Remove(c, o)
		case *pb.TxOp_SetXattr:
			t.SetXattr(c, o, string(x.SetXattr.GetName()), x.SetXattr.GetValue())
		case *pb.TxOp_RmXattr:
			t.RmXattr(c, o, string(x.RmXattr.GetName()))
		case *pb.TxOp_OmapSetVals:
			kv := make(map[string][]byte, len(x.OmapSetVals.GetEntries()))
			for _, e := range x.OmapSetVals.GetEntries() {
				kv[string(e.GetKey())] = e.GetValue()
			}
			t.OmapSet(c, o, kv)
		case *pb.TxOp_OmapRmKeys:
			keys := make([]string, len(x.OmapRmKeys.GetKeys()))
			for i, k := range x.OmapRmKeys.GetKeys() {
				keys[i] = string(k)
			}
			t.OmapRm(c, o, keys...)
		case *pb.TxOp_OmapClear:
			t.OmapClear(c, o)
		case *pb.TxOp_OmapSetHeader:
			t.OmapSetHeader(c, o, x.OmapSetHeader.GetHeader())
		}
	}
}

// txnMtime returns the mtime the primary stamped on a resolved transaction.
func txnMtime(ops []*pb.TxOp) time.Time {
	for _, op := range ops {
		if op.GetMtimeUnixNano() != 0 {
			return time.Unix(0, op.GetMtimeUnixNano())
		}
	}
	return time.Time{}
}

// objectReader reads one object's committed state for package objop,
// through one store snapshot opened on first use: every sub-op of an op
// sees the same state, and the object is looked up once. close must be
// called when the op is done with it.
type objectReader struct {
	ctx  context.Context
	st   *store.Store
	c    store.CollID
	o    store.ObjectID
	snap *store.Snapshot
}

// snapshot returns the reader's snapshot, opening it on first use.
func (r *objectReader) snapshot() (*store.Snapshot, error) {
	if r.snap == nil {
		sn, err := r.st.Snapshot(r.ctx)
		if err != nil {
			return nil, err
		}
		r.snap = sn
	}
	return r.snap, nil
}

// close ends the reader's snapshot.
func (r *objectReader) close() {
	if r.snap != nil {
		r.snap.Close()
		r.snap = nil
	}
}

// mapErr translates store errors into objop's.
func mapErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return objop.ErrNoObject
	case errors.Is(err, store.ErrNoXattr):
		return objop.ErrNoXattr
	}
	return err
}

// info returns the object's store metadata, including its version.
func (r *objectReader) info() (store.ObjectInfo, error) {
	sn, err := r.snapshot()
	if err != nil {
		return store.ObjectInfo{}, err
	}
	oi, err := sn.Stat(r.c, r.o)
	return oi, mapErr(err)
}

func (r *objectReader) Stat() (objop.Meta, error) {
	oi, err := r.info()
	if err != nil {
		return objop.Meta{}, err
	}
	return objop.Meta{Size: oi.Size, MtimeUnixNano: oi.Mtime.UnixNano()}, nil
}

func (r *objectReader) Read(off, n uint64) ([]byte, error) {
	sn, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	b, err := sn.Read(r.c, r.o, off, n)
	return b, mapErr(err)
}

func (r *objectReader) Xattr(name string) ([]byte, error) {
	sn, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	b, err := sn.GetXattr(r.c, r.o, name)
	return b, mapErr(err)
}

func (r *objectReader) Xattrs() ([]*pb.Xattr, error) {
	sn, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	m, err := sn.Xattrs(r.c, r.o)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]*pb.Xattr, 0, len(m))
	for k, v := range m {
		out = append(out, &pb.Xattr{Name: []byte(k), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].Name) < string(out[j].Name) })
	return out, nil
}

func (r *objectReader) OmapHeader() ([]byte, error) {
	sn, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	b, err := sn.OmapHeader(r.c, r.o)
	return b, mapErr(err)
}

func (r *objectReader) OmapVals(after, prefix string, max int) ([]*pb.OmapEntry, bool, error) {
	sn, err := r.snapshot()
	if err != nil {
		return nil, false, err
	}
	es, more, err := sn.OmapList(r.c, r.o, store.OmapListOptions{After: after, Prefix: prefix, Limit: max})
	if err != nil {
		return nil, false, mapErr(err)
	}
	out := make([]*pb.OmapEntry, len(es))
	for i, e := range es {
		out[i] = &pb.OmapEntry{Key: []byte(e.Key), Value: e.Value}
	}
	return out, more, nil
}

func (r *objectReader) OmapValsByKeys(keys []string) ([]*pb.OmapEntry, error) {
	sn, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	m, err := sn.OmapGet(r.c, r.o, keys...)
	if err != nil {
		return nil, mapErr(err)
	}
	found := make([]string, 0, len(m))
	for k := range m {
		found = append(found, k)
	}
	sort.Strings(found)
	out := make([]*pb.OmapEntry, len(found))
	for i, k := range found {
		out[i] = &pb.OmapEntry{Key: []byte(k), Value: m[k]}
	}
	return out, nil
}

// dupKey is the per-PG store key of a persisted dup: "dup/" and the
// version, zero-padded so that key order is version order.
func dupKey(v pg.Eversion) string {
	var b strings.Builder
	b.WriteString(dupKeyPrefix)
	b.WriteString(pad(v.Epoch, 10))
	b.WriteByte('.')
	b.WriteString(pad(v.Version, 20))
	return b.String()
}

const dupKeyPrefix = "dup/"

func pad(v uint64, width int) string {
	s := []byte("00000000000000000000")[:width]
	for i := width - 1; i >= 0 && v > 0; i-- {
		s[i] = byte('0' + v%10)
		v /= 10
	}
	return string(s)
}
