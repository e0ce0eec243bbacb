package store

import "context"

// The functions in this file serve the offline store tool (`osd store
// list|export|import|get --data DIR`, like ceph-objectstore-tool) on a
// stopped OSD; Export, Import and PurgeCollection live in export.go and
// import.go. Open the store with Options{ReadOnly: true} for list, get and
// export.

// ObjectDump is everything stored for one object.
type ObjectDump struct {
	Coll       CollID
	ID         ObjectID
	Info       ObjectInfo
	Data       []byte
	Xattrs     map[string][]byte
	OmapHeader []byte
	Omap       []OmapEntry
}

// DumpObject returns object o with its data, xattrs and whole omap, read
// from one snapshot and verified.
func (s *Store) DumpObject(ctx context.Context, c CollID, o ObjectID) (*ObjectDump, error) {
	o = o.Normalize()
	d := &ObjectDump{Coll: c, ID: o}
	err := s.view(ctx, func(r *reader) error {
		n, err := r.onode(c, o)
		if err != nil {
			return err
		}
		d.Info = n.info()
		if d.Data, err = r.read(c, o, n, 0, 0); err != nil {
			return err
		}
		if d.Xattrs, err = r.xattrs(c, o, n); err != nil {
			return err
		}
		if d.OmapHeader, err = r.omapHeader(c, o, n); err != nil {
			return err
		}
		after := ""
		for {
			page, more, err := r.omapList(c, o, n, OmapListOptions{After: after})
			if err != nil {
				return err
			}
			d.Omap = append(d.Omap, page...)
			if !more {
				return nil
			}
			after = page[len(page)-1].Key
		}
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// WalkObjects calls fn for every object of every collection, collection by
// collection in ListCollections order, objects in listing order. It stops
// at fn's first error and returns it.
func (s *Store) WalkObjects(ctx context.Context, fn func(CollID, ObjectID) error) error {
	colls, err := s.ListCollections(ctx)
	if err != nil {
		return err
	}
	for _, c := range colls {
		cur := ListCursor("")
		for {
			page, err := s.ListObjects(ctx, c.ID, cur, 0)
			if err != nil {
				return err
			}
			for _, o := range page.Objects {
				if err := fn(c.ID, o); err != nil {
					return err
				}
			}
			if page.Next == "" {
				break
			}
			cur = page.Next
		}
	}
	return nil
}
