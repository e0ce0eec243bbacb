package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Reads run in their own bbolt read transaction, see the last commit, and
// verify every value they return: data blocks against their crc32c,
// metadata against its envelope. Results never alias bbolt's memory; data
// may be shared with the block cache, which never modifies it.

// ObjectInfo is what Stat returns.
type ObjectInfo struct {
	Size  uint64
	Mtime time.Time
	// Version and UserVersion are the values the PG layer set with
	// SetVersion (zero if it never did).
	Version     EVersion
	UserVersion uint64
}

// reader wraps one bbolt read transaction.
type reader struct {
	s  *Store
	tx *bolt.Tx
}

// view runs fn in a read transaction after checking ctx.
func (s *Store) view(ctx context.Context, fn func(r *reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Units the read may find referenced stay allocated until it ends.
	gen := s.bf.beginRead()
	defer s.endRead(gen)
	err := s.db.View(func(tx *bolt.Tx) error { return fn(&reader{s: s, tx: tx}) })
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// coll returns collection c's record, or ErrNoCollection.
func (r *reader) coll(c CollID) (collRecord, error) {
	if err := c.validate(); err != nil {
		return collRecord{}, err
	}
	k := collKey(c)
	v := r.tx.Bucket(bucketColls).Get(k)
	if v == nil {
		return collRecord{}, fmt.Errorf("%w: %s", ErrNoCollection, c)
	}
	return decodeCollValue(c, k, v)
}

// onode returns object o's onode, or ErrNoCollection / ErrNotFound.
func (r *reader) onode(c CollID, o ObjectID) (onode, error) {
	if _, err := r.coll(c); err != nil {
		return onode{}, err
	}
	o = o.Normalize()
	if err := r.s.validateObject(c, o); err != nil {
		return onode{}, err
	}
	k := objKey(c, o)
	v := r.tx.Bucket(bucketOnodes).Get(k)
	if v == nil {
		return onode{}, fmt.Errorf("%w: object %s in %s", ErrNotFound, o, c)
	}
	return decodeOnodeValue(c, o, k, v)
}

// Stat returns the size, mtime and versions of object o.
func (s *Store) Stat(ctx context.Context, c CollID, o ObjectID) (ObjectInfo, error) {
	var info ObjectInfo
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		info = n.info()
		return err
	})
	return info, err
}

func (n onode) info() ObjectInfo {
	return ObjectInfo{Size: n.size, Mtime: n.mtime, Version: n.version, UserVersion: n.userVersion}
}

// Read returns up to length bytes of object o from offset off; length 0
// reads to the end, and a read past the end returns fewer bytes (none at
// or past the end), as in RADOS. Every block read is verified: a checksum
// mismatch returns a *CorruptError naming the object and block. The result
// may be shared with the store's block cache (Options.CacheBytes): do not
// modify it.
func (s *Store) Read(ctx context.Context, c CollID, o ObjectID, off, length uint64) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		if err == nil {
			out, err = r.read(c, o.Normalize(), n, off, length)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// read reads [off, off+length) of the object of onode n (length 0: to the
// end).
func (r *reader) read(c CollID, o ObjectID, n onode, off, length uint64) ([]byte, error) {
	end := n.size
	if length != 0 && length < n.size-min(off, n.size) {
		end = off + length
	}
	if off >= end {
		return []byte{}, nil
	}
	if end-off > r.s.limits.ObjectSize {
		return nil, fmt.Errorf("%w: a read of %d bytes of object %s is over the object size limit %d; read it in ranges",
			ErrTooLarge, end-off, o, r.s.limits.ObjectSize)
	}
	if out, done, err := r.readRun(c, o, n, off, end); done {
		return out, err
	}
	out := make([]byte, end-off)
	if err := r.readBlocks(c, o, n, off, out); err != nil {
		return nil, err
	}
	return out, nil
}

// readBlocks copies [off, off+len(out)) of the object into out, which must
// be zeroed (holes stay zero): the inline blocks, then those in the block
// file.
func (r *reader) readBlocks(c CollID, o ObjectID, n onode, off uint64, out []byte) error {
	if err := r.readInline(c, o, n, off, out); err != nil {
		return err
	}
	return r.readExtents(c, o, n, off, out)
}

// readInline copies the inline blocks of [off, off+len(out)) into out.
func (r *reader) readInline(c CollID, o ObjectID, n onode, off uint64, out []byte) error {
	bs := uint64(r.s.blockSize)
	end := off + uint64(len(out))
	cur := r.tx.Bucket(bucketData).Cursor()
	lastKey := blockKey(n.nid, uint32((end-1)/bs))
	for k, v := cur.Seek(blockKey(n.nid, uint32(off/bs))); k != nil && bytes.Compare(k, lastKey) <= 0; k, v = cur.Next() {
		index := uint64(keyBlockIndex(k))
		payload, err := unsealBlock(v, r.s.blockSize)
		if err == nil && index*bs+uint64(len(payload)) > n.size {
			err = fmt.Errorf("payload of %d bytes extends past the object size %d", len(payload), n.size)
		}
		if err != nil {
			return &CorruptError{Coll: c, Object: o, Block: int64(index), What: "data block: " + err.Error()}
		}
		start := index * bs
		lo, hi := max(off, start), min(end, start+uint64(len(payload)))
		if lo < hi {
			copy(out[lo-off:hi-off], payload[lo-start:hi-start])
		}
	}
	return nil
}

// keyBlockIndex returns the block index of a data key.
func keyBlockIndex(k []byte) uint32 {
	return uint32(k[nidLen])<<24 | uint32(k[nidLen+1])<<16 | uint32(k[nidLen+2])<<8 | uint32(k[nidLen+3])
}

// GetXattr returns xattr name of object o, or ErrNoXattr.
func (s *Store) GetXattr(ctx context.Context, c CollID, o ObjectID, name string) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		if err == nil {
			out, err = r.getXattr(c, o, n, name)
		}
		return err
	})
	return out, err
}

func (r *reader) getXattr(c CollID, o ObjectID, n onode, name string) ([]byte, error) {
	k := xattrKey(n.nid, name)
	v := r.tx.Bucket(bucketXattrs).Get(k)
	if v == nil {
		return nil, fmt.Errorf("%w: %s on object %s", ErrNoXattr, quoteShort(name), o)
	}
	return r.unseal(c, o, k, v, "xattr "+quoteShort(name))
}

// Xattrs returns every xattr of object o.
func (s *Store) Xattrs(ctx context.Context, c CollID, o ObjectID) (map[string][]byte, error) {
	var out map[string][]byte
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		if err == nil {
			out, err = r.xattrs(c, o, n)
		}
		return err
	})
	return out, err
}

func (r *reader) xattrs(c CollID, o ObjectID, n onode) (map[string][]byte, error) {
	out := map[string][]byte{}
	prefix := nidKey(n.nid)
	cur := r.tx.Bucket(bucketXattrs).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		name := string(k[nidLen:])
		var err error
		if out[name], err = r.unseal(c, o, k, v, "xattr "+quoteShort(name)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unseal checks a metadata envelope and returns a copy of its payload.
func (r *reader) unseal(c CollID, o ObjectID, k, v []byte, what string) ([]byte, error) {
	p, err := unseal(k, v)
	if err != nil {
		return nil, &CorruptError{Coll: c, Object: o.Normalize(), Block: -1, What: what + ": " + err.Error()}
	}
	return append([]byte{}, p...), nil
}
