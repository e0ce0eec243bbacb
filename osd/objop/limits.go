package objop

import (
	"errors"
	"fmt"
)

// Errors a Reader returns for absent things; any other Reader error is an
// I/O error (including checksum failures), reported as RESULT_IO_ERROR.
var (
	// ErrNoObject: the object does not exist.
	ErrNoObject = errors.New("no such object")
	// ErrNoXattr: the object has no xattr of that name.
	ErrNoXattr = errors.New("no such xattr")
	// ErrBadLimits: a Limits value is unusable.
	ErrBadLimits = errors.New("invalid op limits")
)

// Limits bound what one op may do. The defaults follow Ceph's options
// (osd_max_object_size, osd_max_write_size, osd_max_object_name_len,
// osd_max_object_namespace_len, osd_max_attr_name_len) and the object
// store's own limits for values.
type Limits struct {
	ObjectSize    uint64 // largest object size (and end offset of a write)
	WriteSize     uint64 // data bytes in one op
	NameLen       int
	NamespaceLen  int
	KeyLen        int
	XattrNameLen  int
	XattrValueLen int
	OmapKeyLen    int
	OmapValueLen  int
	// OmapEntries bounds the omap keys set or removed by one op.
	OmapEntries int
	// SubOps bounds the number of sub-ops in one op.
	SubOps int
	// ReturnMax bounds the entries an omap or xattr listing returns per
	// sub-op (used when the client asks for 0 or more).
	ReturnMax int
}

// DefaultLimits returns the defaults: 128 MiB objects, 90 MiB per write op,
// 2,048-byte names and keys, 256-byte namespaces, 100-byte xattr names,
// 64 KiB xattr values, 4 KiB omap keys, 1 MiB omap values and headers.
func DefaultLimits() Limits {
	return Limits{
		ObjectSize: 128 << 20, WriteSize: 90 << 20,
		NameLen: 2048, NamespaceLen: 256, KeyLen: 2048,
		XattrNameLen: 100, XattrValueLen: 64 << 10,
		OmapKeyLen: 4096, OmapValueLen: 1 << 20, OmapEntries: 131072,
		SubOps: 1024, ReturnMax: 1000,
	}
}

// Validate checks that every limit is positive.
func (l Limits) Validate() error {
	for _, v := range []int{l.NameLen, l.NamespaceLen, l.KeyLen, l.XattrNameLen, l.XattrValueLen,
		l.OmapKeyLen, l.OmapValueLen, l.OmapEntries, l.SubOps, l.ReturnMax} {
		if v <= 0 {
			return fmt.Errorf("%w: %+v: every limit must be positive", ErrBadLimits, l)
		}
	}
	if l.ObjectSize == 0 || l.WriteSize == 0 {
		return fmt.Errorf("%w: object and write size limits must be positive", ErrBadLimits)
	}
	return nil
}
