package osd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/gorados/gorados/osd/store"
)

// The functions below back `osd store list|export|import|get --data DIR`,
// the offline tool for a stopped OSD (as ceph-objectstore-tool). They open
// the store themselves and fail with store.ErrLocked while the OSD runs.

func openStore(dir string, readOnly bool) (*store.Store, error) {
	st, err := store.Open(dir, store.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, fmt.Errorf("open the object store in %s: %w", dir, err)
	}
	return st, nil
}

// parseColl parses a PG id ("1.1a") as a store collection.
func parseColl(pgid string) (store.CollID, error) {
	c, err := store.ParseCollID(pgid)
	if err != nil {
		return c, fmt.Errorf("PG id %q: %w (write POOL.HEXSEED, e.g. 1.1a)", pgid, err)
	}
	return c, nil
}

// StoreList writes one JSON line per object, ["PGID",{object}] as
// ceph-objectstore-tool --op list does; pgid "" lists every PG.
func StoreList(ctx context.Context, dir, pgid string, w io.Writer) error {
	st, err := openStore(dir, true)
	if err != nil {
		return err
	}
	defer st.Close()
	enc := json.NewEncoder(w)
	emit := func(c store.CollID, o store.ObjectID) error {
		return enc.Encode([]any{c.String(), o})
	}
	if pgid == "" {
		return st.WalkObjects(ctx, emit)
	}
	c, err := parseColl(pgid)
	if err != nil {
		return err
	}
	for cursor := store.ListCursor(""); ; {
		page, err := st.ListObjects(ctx, c, cursor, 0)
		if err != nil {
			return err
		}
		for _, o := range page.Objects {
			if err := emit(c, o); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
}

// StoreListPGs writes one line per PG collection: id, objects, bytes.
func StoreListPGs(ctx context.Context, dir string, w io.Writer) error {
	st, err := openStore(dir, true)
	if err != nil {
		return err
	}
	defer st.Close()
	colls, err := st.ListCollections(ctx)
	if err != nil {
		return err
	}
	for _, c := range colls {
		if !c.ID.IsMeta() {
			fmt.Fprintf(w, "%s\t%d objects\t%d bytes\n", c.ID, c.Objects, c.Bytes)
		}
	}
	return nil
}

// StoreExport writes PG pgid to w in the store's export format.
func StoreExport(ctx context.Context, dir, pgid string, w io.Writer) (store.ExportStats, error) {
	c, err := parseColl(pgid)
	if err != nil {
		return store.ExportStats{}, err
	}
	st, err := openStore(dir, true)
	if err != nil {
		return store.ExportStats{}, err
	}
	defer st.Close()
	return st.Export(ctx, c, w)
}

// StoreImport recreates a PG from an export stream.
func StoreImport(ctx context.Context, dir string, r io.Reader) (store.CollID, store.ExportStats, error) {
	st, err := openStore(dir, false)
	if err != nil {
		return store.CollID{}, store.ExportStats{}, err
	}
	defer st.Close()
	return st.Import(ctx, r)
}

// ObjectSelector names an object for StoreGet.
type ObjectSelector struct {
	PG                   string // optional: search only this PG
	Namespace, Key, Name string
}

// StoreGet finds an object of a stopped OSD and returns everything stored
// for it (data checked against its checksums).
func StoreGet(ctx context.Context, dir string, sel ObjectSelector) (*store.ObjectDump, error) {
	st, err := openStore(dir, true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	c, o, err := findObject(ctx, st, sel)
	if err != nil {
		return nil, err
	}
	return st.DumpObject(ctx, c, o)
}

// findObject scans the store (or one PG) for the object: the offline tool
// has no map to compute the placement hash with.
func findObject(ctx context.Context, st *store.Store, sel ObjectSelector) (store.CollID, store.ObjectID, error) {
	var found []store.CollID
	var obj store.ObjectID
	err := st.WalkObjects(ctx, func(c store.CollID, o store.ObjectID) error {
		if (sel.PG == "" || c.String() == sel.PG) && o.Name == sel.Name && o.Namespace == sel.Namespace &&
			(o.Key == sel.Key || (sel.Key == sel.Name && o.Key == "")) {
			found, obj = append(found, c), o
		}
		return nil
	})
	switch {
	case err != nil:
		return store.CollID{}, obj, err
	case len(found) == 0:
		return store.CollID{}, obj, fmt.Errorf("object %q (namespace %q): %w in this store", sel.Name, sel.Namespace, store.ErrNotFound)
	case len(found) > 1:
		sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
		return store.CollID{}, obj, fmt.Errorf("object %q is in several PGs %v: pass --pg", sel.Name, found)
	}
	return found[0], obj, nil
}
