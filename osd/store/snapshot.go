package store

import (
	"context"
	"errors"
	"fmt"

	berrors "go.etcd.io/bbolt/errors"
)

// Snapshot is a consistent, read-only view of the store for an op that
// reads several things of an object (its size, data, xattrs): every call
// sees the same committed state, through one bbolt read transaction
// instead of one per call, and the object's onode is looked up once.
// Results never alias the store's memory and are verified as by the
// Store's own read methods.
//
// Close it promptly and always: while it is open, block file units freed
// after it started are not reused, and bbolt cannot grow its memory map.
// A Snapshot is not safe for concurrent use.
type Snapshot struct {
	r      reader
	gen    uint64
	closed bool
	// last is the onode the previous call looked up.
	last struct {
		ok  bool
		c   CollID
		o   ObjectID
		n   onode
		err error
	}
}

// Snapshot opens a snapshot of the store's last commit.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	gen := s.bf.beginRead()
	tx, err := s.db.Begin(false)
	if err != nil {
		s.endRead(gen)
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("open a store snapshot: %w", err)
	}
	return &Snapshot{r: reader{s: s, tx: tx}, gen: gen}, nil
}

// Close ends the snapshot; later calls fail with ErrClosed.
func (sn *Snapshot) Close() error {
	if sn.closed {
		return ErrClosed
	}
	sn.closed = true
	err := sn.r.tx.Rollback()
	sn.r.s.endRead(sn.gen)
	return err
}

// endRead ends a read registered with beginRead.
func (s *Store) endRead(gen uint64) {
	if err := s.bf.endRead(gen); err != nil {
		s.opts.Logger.Error("object store: block file allocation", "err", err)
	}
}

// onode looks up object o, reusing the previous call's lookup of the same
// object.
func (sn *Snapshot) onode(c CollID, o ObjectID) (onode, error) {
	if sn.closed {
		return onode{}, ErrClosed
	}
	o = o.Normalize()
	if l := &sn.last; l.ok && l.c == c && l.o == o {
		return l.n, l.err
	}
	n, err := sn.r.onode(c, o)
	sn.last.ok, sn.last.c, sn.last.o, sn.last.n, sn.last.err = true, c, o, n, err
	return n, err
}

// Stat is Store.Stat in the snapshot.
func (sn *Snapshot) Stat(c CollID, o ObjectID) (ObjectInfo, error) {
	n, err := sn.onode(c, o)
	if err != nil {
		return ObjectInfo{}, err
	}
	return n.info(), nil
}

// Read is Store.Read in the snapshot.
func (sn *Snapshot) Read(c CollID, o ObjectID, off, length uint64) ([]byte, error) {
	n, err := sn.onode(c, o)
	if err != nil {
		return nil, err
	}
	return sn.r.read(c, o.Normalize(), n, off, length)
}

// GetXattr is Store.GetXattr in the snapshot.
func (sn *Snapshot) GetXattr(c CollID, o ObjectID, name string) ([]byte, error) {
	n, err := sn.onode(c, o)
	if err != nil {
		return nil, err
	}
	return sn.r.getXattr(c, o, n, name)
}

// Xattrs is Store.Xattrs in the snapshot.
func (sn *Snapshot) Xattrs(c CollID, o ObjectID) (map[string][]byte, error) {
	n, err := sn.onode(c, o)
	if err != nil {
		return nil, err
	}
	return sn.r.xattrs(c, o, n)
}

// OmapHeader is Store.OmapHeader in the snapshot.
func (sn *Snapshot) OmapHeader(c CollID, o ObjectID) ([]byte, error) {
	n, err := sn.onode(c, o)
	if err != nil {
		return nil, err
	}
	return sn.r.omapHeader(c, o, n)
}

// OmapGet is Store.OmapGet in the snapshot.
func (sn *Snapshot) OmapGet(c CollID, o ObjectID, keys ...string) (map[string][]byte, error) {
	n, err := sn.onode(c, o)
	if err != nil {
		return nil, err
	}
	return sn.r.omapGet(c, o, n, keys)
}

// OmapList is Store.OmapList in the snapshot.
func (sn *Snapshot) OmapList(c CollID, o ObjectID, opt OmapListOptions) ([]OmapEntry, bool, error) {
	n, err := sn.onode(c, o)
	if err != nil {
		return nil, false, err
	}
	return sn.r.omapList(c, o, n, opt)
}
