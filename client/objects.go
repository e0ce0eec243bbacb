package client

import (
	"context"
	"sort"
)

// The single-step operations below are WriteOps and ReadOps of one step;
// their errors name the operation instead of "operate".

func (io *IOContext) write1(ctx context.Context, name, oid string, op *WriteOp) error {
	_, err := io.execute(ctx, name, oid, op.ops)
	return err
}

func (io *IOContext) read1(ctx context.Context, name, oid string, op *ReadOp) error {
	rep, err := io.execute(ctx, name, oid, op.ops)
	if err != nil {
		return err
	}
	for i, fill := range op.fills {
		fill(rep.GetResults()[i])
	}
	return nil
}

// Write writes data at offset of the object, creating it if needed.
func (io *IOContext) Write(ctx context.Context, oid string, data []byte, offset uint64) error {
	return io.write1(ctx, "write", oid, NewWriteOp().Write(data, offset))
}

// WriteFull replaces the object's data with data, creating it if needed.
func (io *IOContext) WriteFull(ctx context.Context, oid string, data []byte) error {
	return io.write1(ctx, "write-full", oid, NewWriteOp().WriteFull(data))
}

// Append appends data to the object, creating it if needed.
func (io *IOContext) Append(ctx context.Context, oid string, data []byte) error {
	return io.write1(ctx, "append", oid, NewWriteOp().Append(data))
}

// Truncate sets the object's size.
func (io *IOContext) Truncate(ctx context.Context, oid string, size uint64) error {
	return io.write1(ctx, "truncate", oid, NewWriteOp().Truncate(size))
}

// Create creates an empty object; with exclusive it fails with ErrExists
// when the object exists.
func (io *IOContext) Create(ctx context.Context, oid string, exclusive bool) error {
	return io.write1(ctx, "create", oid, NewWriteOp().Create(exclusive))
}

// Remove deletes the object (ErrNotFound when it does not exist).
func (io *IOContext) Remove(ctx context.Context, oid string) error {
	return io.write1(ctx, "remove", oid, NewWriteOp().Remove())
}

// Read reads length bytes at offset (length 0: to the end). It returns
// fewer bytes at the object's end, and ErrNotFound when the object does
// not exist.
func (io *IOContext) Read(ctx context.Context, oid string, offset, length uint64) ([]byte, error) {
	op := NewReadOp()
	s := op.Read(offset, length)
	if err := io.read1(ctx, "read", oid, op); err != nil {
		return nil, err
	}
	return s.Data, nil
}

// Stat returns the object's size and modification time.
func (io *IOContext) Stat(ctx context.Context, oid string) (ObjectStat, error) {
	op := NewReadOp()
	s := op.Stat()
	if err := io.read1(ctx, "stat", oid, op); err != nil {
		return ObjectStat{}, err
	}
	return s.ObjectStat, nil
}

// SetXattr sets the extended attribute name of the object.
func (io *IOContext) SetXattr(ctx context.Context, oid, name string, value []byte) error {
	return io.write1(ctx, "setxattr", oid, NewWriteOp().SetXattr(name, value))
}

// GetXattr returns the extended attribute name (ErrNoData when absent).
func (io *IOContext) GetXattr(ctx context.Context, oid, name string) ([]byte, error) {
	op := NewReadOp()
	s := op.GetXattr(name)
	if err := io.read1(ctx, "getxattr", oid, op); err != nil {
		return nil, err
	}
	return s.Value, nil
}

// RmXattr removes the extended attribute name (ErrNoData when absent).
func (io *IOContext) RmXattr(ctx context.Context, oid, name string) error {
	return io.write1(ctx, "rmxattr", oid, NewWriteOp().RmXattr(name))
}

// ListXattrs returns every extended attribute of the object.
func (io *IOContext) ListXattrs(ctx context.Context, oid string) (map[string][]byte, error) {
	op := NewReadOp()
	s := op.GetXattrs()
	if err := io.read1(ctx, "listxattr", oid, op); err != nil {
		return nil, err
	}
	return s.Xattrs, nil
}

// SetOmap sets omap keys of the object, creating it if needed.
func (io *IOContext) SetOmap(ctx context.Context, oid string, pairs map[string][]byte) error {
	return io.write1(ctx, "setomapval", oid, NewWriteOp().SetOmap(pairs))
}

// GetOmapValues returns one page of the object's omap: up to maxReturn
// pairs (0: the OSD's page limit) whose keys sort after startAfter and
// begin with prefix, and whether more follow.
func (io *IOContext) GetOmapValues(ctx context.Context, oid, startAfter, prefix string, maxReturn uint32) ([]OmapEntry, bool, error) {
	op := NewReadOp()
	s := op.GetOmapValues(startAfter, prefix, maxReturn)
	if err := io.read1(ctx, "listomapvals", oid, op); err != nil {
		return nil, false, err
	}
	return s.Entries, s.More, nil
}

// GetAllOmapValues returns every omap pair of the object whose key begins
// with prefix, fetching as many pages as needed (each page is one
// consistent read; pages are not one snapshot).
func (io *IOContext) GetAllOmapValues(ctx context.Context, oid, prefix string) ([]OmapEntry, error) {
	var all []OmapEntry
	after := ""
	for {
		page, more, err := io.GetOmapValues(ctx, oid, after, prefix, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			return all, nil
		}
		after = page[len(page)-1].Key
	}
}

// GetOmapValuesByKeys returns the values of the given keys that exist.
func (io *IOContext) GetOmapValuesByKeys(ctx context.Context, oid string, keys ...string) (map[string][]byte, error) {
	op := NewReadOp()
	s := op.GetOmapValuesByKeys(keys...)
	if err := io.read1(ctx, "getomapval", oid, op); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(s.Entries))
	for _, e := range s.Entries {
		out[e.Key] = e.Value
	}
	return out, nil
}

// ListOmapKeys returns every omap key of the object, in order, fetching as
// many pages as needed.
func (io *IOContext) ListOmapKeys(ctx context.Context, oid string) ([]string, error) {
	var all []string
	after := ""
	for {
		op := NewReadOp()
		s := op.GetOmapKeys(after, 0)
		if err := io.read1(ctx, "listomapkeys", oid, op); err != nil {
			return nil, err
		}
		all = append(all, s.Keys...)
		if !s.More || len(s.Keys) == 0 {
			return all, nil
		}
		after = s.Keys[len(s.Keys)-1]
	}
}

// RmOmapKeys removes omap keys of the object; absent keys are ignored.
func (io *IOContext) RmOmapKeys(ctx context.Context, oid string, keys ...string) error {
	return io.write1(ctx, "rmomapkey", oid, NewWriteOp().RmOmapKeys(keys...))
}

// ClearOmap removes every omap key and the header of the object.
func (io *IOContext) ClearOmap(ctx context.Context, oid string) error {
	return io.write1(ctx, "clearomap", oid, NewWriteOp().ClearOmap())
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
