package store

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// ListCursor is an opaque position in a collection listing: objects after
// it are listed next. The empty cursor is the start.
type ListCursor string

// CursorAfter returns the cursor that lists the objects sorting after o
// (Compare order), e.g. to resume a backfill scan at an object.
func CursorAfter(o ObjectID) ListCursor {
	return ListCursor(appendObjSuffix(nil, o.Normalize()))
}

// ObjectPage is one page of a collection listing.
type ObjectPage struct {
	Objects []ObjectID
	// Next is the cursor of the following page, empty when the listing is
	// complete.
	Next ListCursor
}

// DefaultListLimit is the page size of listings when the limit is 0.
const DefaultListLimit = 1000

// ListObjects lists up to limit objects of collection c after cursor, in
// Compare order (bit-reversed hash, namespace, key, name). A limit of 0
// means DefaultListLimit. Pages are stable: objects created or removed
// between calls do not make a listing skip or repeat the others.
func (s *Store) ListObjects(ctx context.Context, c CollID, after ListCursor, limit int) (ObjectPage, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	var page ObjectPage
	err := s.view(ctx, func(r *reader) error {
		if _, err := r.coll(c); err != nil {
			return err
		}
		prefix := collKey(c)
		seek := append(append([]byte{}, prefix...), after...)
		cur := r.tx.Bucket(bucketOnodes).Cursor()
		k, _ := cur.Seek(seek)
		if k != nil && after != "" && bytes.Equal(k, seek) {
			k, _ = cur.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if len(page.Objects) == limit {
				page.Next = ListCursor(page.lastSuffix())
				return nil
			}
			o, err := decodeObjSuffix(c.Pool, k[collKeyLen:])
			if err != nil {
				return &CorruptError{Coll: c, Block: -1, What: fmt.Sprintf("onode key %x: %v", k, err)}
			}
			page.Objects = append(page.Objects, o)
		}
		return nil
	})
	return page, err
}

func (p *ObjectPage) lastSuffix() []byte {
	return appendObjSuffix(nil, p.Objects[len(p.Objects)-1])
}

// CollectionInfo describes a collection.
type CollectionInfo struct {
	ID      CollID
	Created time.Time
	// Objects and Bytes count the objects and the sum of their sizes.
	Objects, Bytes uint64
	// Incomplete is set while an import is filling the collection and
	// stays set if the import was interrupted.
	Incomplete bool
}

// ListCollections returns every collection, the meta collection first,
// then PGs by pool and seed.
func (s *Store) ListCollections(ctx context.Context) ([]CollectionInfo, error) {
	var out []CollectionInfo
	err := s.view(ctx, func(r *reader) error {
		cur := r.tx.Bucket(bucketColls).Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			id, err := decodeCollKey(k)
			if err != nil {
				return &CorruptError{Coll: MetaColl, Block: -1, What: fmt.Sprintf("collection key %x", k)}
			}
			rec, err := decodeCollValue(id, k, v)
			if err != nil {
				return err
			}
			out = append(out, collInfo(id, rec))
		}
		return nil
	})
	return out, err
}

// Collection returns the description of collection c, or ErrNoCollection.
func (s *Store) Collection(ctx context.Context, c CollID) (CollectionInfo, error) {
	var info CollectionInfo
	err := s.view(ctx, func(r *reader) error {
		rec, err := r.coll(c)
		info = collInfo(c, rec)
		return err
	})
	return info, err
}

func collInfo(id CollID, rec collRecord) CollectionInfo {
	return CollectionInfo{ID: id, Created: rec.created, Objects: rec.objects, Bytes: rec.bytes,
		Incomplete: rec.flags&collFlagIncomplete != 0}
}
