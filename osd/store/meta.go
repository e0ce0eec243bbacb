package store

import (
	"bytes"
	"context"
	"fmt"
)

// OmapEntry is one omap key and its value.
type OmapEntry struct {
	Key   string
	Value []byte
}

// OmapHeader returns the omap header of object o (nil if it has none).
func (s *Store) OmapHeader(ctx context.Context, c CollID, o ObjectID) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		if err == nil {
			out, err = r.omapHeader(c, o, n)
		}
		return err
	})
	return out, err
}

func (r *reader) omapHeader(c CollID, o ObjectID, n onode) ([]byte, error) {
	k := omapHeaderKey(n.nid)
	if v := r.tx.Bucket(bucketOmap).Get(k); v != nil {
		return r.unseal(c, o, k, v, "omap header")
	}
	return nil, nil
}

// OmapGet returns the values of the given omap keys of object o; missing
// keys are absent from the result.
func (s *Store) OmapGet(ctx context.Context, c CollID, o ObjectID, keys ...string) (map[string][]byte, error) {
	var out map[string][]byte
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		if err == nil {
			out, err = r.omapGet(c, o, n, keys)
		}
		return err
	})
	return out, err
}

func (r *reader) omapGet(c CollID, o ObjectID, n onode, keys []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	b := r.tx.Bucket(bucketOmap)
	for _, key := range keys {
		k := omapKey(n.nid, key)
		if v := b.Get(k); v != nil {
			var err error
			if out[key], err = r.unseal(c, o, k, v, "omap key "+quoteShort(key)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// OmapListOptions selects a page of omap entries.
type OmapListOptions struct {
	// After lists keys sorting after this one ("" = from the first; omap
	// keys are never empty).
	After string
	// Prefix lists only keys with this prefix.
	Prefix string
	// Limit bounds the page; 0 means DefaultListLimit.
	Limit int
	// KeysOnly leaves the values out.
	KeysOnly bool
}

// OmapList returns a page of the omap of object o in key order, and
// whether more entries follow.
func (s *Store) OmapList(ctx context.Context, c CollID, o ObjectID, opt OmapListOptions) ([]OmapEntry, bool, error) {
	var out []OmapEntry
	more := false
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		if err == nil {
			out, more, err = r.omapList(c, o, n, opt)
		}
		return err
	})
	return out, more, err
}

func (r *reader) omapList(c CollID, o ObjectID, n onode, opt OmapListOptions) ([]OmapEntry, bool, error) {
	if opt.Limit <= 0 {
		opt.Limit = DefaultListLimit
	}
	var out []OmapEntry
	prefix := omapKey(n.nid, opt.Prefix)
	seek := prefix
	if opt.After != "" && opt.After >= opt.Prefix {
		seek = append(omapKey(n.nid, opt.After), 0) // just past After
	}
	cur := r.tx.Bucket(bucketOmap).Cursor()
	for k, v := cur.Seek(seek); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		if len(out) == opt.Limit {
			return out, true, nil
		}
		e := OmapEntry{Key: string(k[nidLen+1:])}
		if !opt.KeysOnly {
			var err error
			if e.Value, err = r.unseal(c, o, k, v, "omap key "+quoteShort(e.Key)); err != nil {
				return nil, false, err
			}
		}
		out = append(out, e)
	}
	return out, false, nil
}

// PGInfo returns the PG info of collection c, or ErrNotFound if none was
// set.
func (s *Store) PGInfo(ctx context.Context, c CollID) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(r *reader) error {
		var err error
		if _, err = r.coll(c); err == nil {
			out, err = r.pgInfo(c)
		}
		return err
	})
	return out, err
}

func (r *reader) pgInfo(c CollID) ([]byte, error) {
	k := collKey(c)
	v := r.tx.Bucket(bucketPGInfo).Get(k)
	if v == nil {
		return nil, fmt.Errorf("%w: no PG info in %s", ErrNotFound, c)
	}
	return r.unseal(c, ObjectID{}, k, v, "PG info")
}

// PGMeta returns per-PG key of collection c, or ErrNotFound.
func (s *Store) PGMeta(ctx context.Context, c CollID, key string) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(r *reader) error {
		if _, err := r.coll(c); err != nil {
			return err
		}
		k := pgMetaKey(c, key)
		v := r.tx.Bucket(bucketPGMeta).Get(k)
		if v == nil {
			return fmt.Errorf("%w: no PG key %s in %s", ErrNotFound, quoteShort(key), c)
		}
		var err error
		out, err = r.unseal(c, ObjectID{}, k, v, "PG key "+quoteShort(key))
		return err
	})
	return out, err
}

// PGMetaList returns every per-PG key of collection c with the given
// prefix.
func (s *Store) PGMetaList(ctx context.Context, c CollID, prefix string) (map[string][]byte, error) {
	var out map[string][]byte
	err := s.view(ctx, func(r *reader) error {
		var err error
		if _, err = r.coll(c); err == nil {
			out, err = r.pgMetaList(c, prefix)
		}
		return err
	})
	return out, err
}

func (r *reader) pgMetaList(c CollID, prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	cur := r.tx.Bucket(bucketPGMeta).Cursor()
	p := pgMetaKey(c, prefix)
	for k, v := cur.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = cur.Next() {
		key := string(k[collKeyLen:])
		var err error
		if out[key], err = r.unseal(c, ObjectID{}, k, v, "PG key "+quoteShort(key)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LogEntry is one PG log entry as the PG layer stored it.
type LogEntry struct {
	Version EVersion
	Data    []byte
}

// ReadLog returns up to limit PG log entries of collection c with versions
// >= from, in version order (limit 0 means DefaultListLimit). Page with
// from = the last version + 1.
func (s *Store) ReadLog(ctx context.Context, c CollID, from EVersion, limit int) ([]LogEntry, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	var out []LogEntry
	err := s.view(ctx, func(r *reader) error {
		var err error
		if _, err = r.coll(c); err == nil {
			out, err = r.readLog(c, from, limit)
		}
		return err
	})
	return out, err
}

func (r *reader) readLog(c CollID, from EVersion, limit int) ([]LogEntry, error) {
	var out []LogEntry
	prefix := collKey(c)
	cur := r.tx.Bucket(bucketPGLog).Cursor()
	for k, v := cur.Seek(logKey(c, from)); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = cur.Next() {
		e, err := r.logEntry(c, k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// LogBounds returns the versions of the first and last PG log entries of
// collection c (the log's tail and head); ok is false if the log is empty.
func (s *Store) LogBounds(ctx context.Context, c CollID) (first, last EVersion, ok bool, err error) {
	err = s.view(ctx, func(r *reader) error {
		if _, err := r.coll(c); err != nil {
			return err
		}
		prefix := collKey(c)
		cur := r.tx.Bucket(bucketPGLog).Cursor()
		k, _ := cur.Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		var err error
		if first, err = r.logVersion(c, k); err != nil {
			return err
		}
		if k, _ = cur.Seek(prefixEnd(prefix)); k == nil {
			k, _ = cur.Last()
		} else {
			k, _ = cur.Prev()
		}
		last, err = r.logVersion(c, k)
		ok = err == nil
		return err
	})
	return first, last, ok, err
}

func (r *reader) logVersion(c CollID, k []byte) (EVersion, error) {
	v, err := decodeLogVersion(k)
	if err != nil {
		return EVersion{}, &CorruptError{Coll: c, Block: -1, What: fmt.Sprintf("PG log key %x", k)}
	}
	return v, nil
}

func (r *reader) logEntry(c CollID, k, v []byte) (LogEntry, error) {
	ver, err := r.logVersion(c, k)
	if err != nil {
		return LogEntry{}, err
	}
	data, err := r.unseal(c, ObjectID{}, k, v, "PG log entry "+ver.String())
	return LogEntry{Version: ver, Data: data}, err
}
