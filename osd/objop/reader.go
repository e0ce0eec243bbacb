package objop

import "github.com/gorados/gorados/proto/pb"

// Meta is an object's metadata as the store keeps it.
type Meta struct {
	Size          uint64
	MtimeUnixNano int64
}

// Reader reads the committed state of one object. Methods return
// ErrNoObject when the object does not exist and ErrNoXattr for an absent
// xattr; any other error is an I/O error.
type Reader interface {
	Stat() (Meta, error)
	// Read returns up to n bytes at off (fewer at the end of the object).
	Read(off, n uint64) ([]byte, error)
	Xattr(name string) ([]byte, error)
	// Xattrs returns every xattr, sorted by name.
	Xattrs() ([]*pb.Xattr, error)
	OmapHeader() ([]byte, error)
	// OmapVals returns up to max entries with keys after startAfter that
	// start with prefix, in key order, and whether more remain.
	OmapVals(startAfter, prefix string, max int) ([]*pb.OmapEntry, bool, error)
	// OmapValsByKeys returns the entries of keys that exist, in key order.
	OmapValsByKeys(keys []string) ([]*pb.OmapEntry, error)
}
