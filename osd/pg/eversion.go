package pg

import "strconv"

// Eversion is a PG log version: the map epoch the primary was on when it
// started the write, and a per-PG counter that grows by one per log entry.
// Eversions compare epoch first; the zero value ("0'0") means "nothing".
type Eversion struct {
	Epoch   uint64
	Version uint64
}

// Compare returns -1, 0 or +1 as e is older than, equal to or newer than o.
func (e Eversion) Compare(o Eversion) int {
	switch {
	case e.Epoch != o.Epoch:
		return cmpUint(e.Epoch, o.Epoch)
	default:
		return cmpUint(e.Version, o.Version)
	}
}

// Less reports whether e is older than o.
func (e Eversion) Less(o Eversion) bool { return e.Compare(o) < 0 }

// IsZero reports whether e is 0'0.
func (e Eversion) IsZero() bool { return e == Eversion{} }

// String prints Ceph's e'v form, e.g. "473'302".
func (e Eversion) String() string {
	return strconv.FormatUint(e.Epoch, 10) + "'" + strconv.FormatUint(e.Version, 10)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
