package pg

import "fmt"

// ReqID identifies one client request across resends: the client instance
// (global id and incarnation) and the request's transaction id.
type ReqID struct {
	Client      uint64
	Incarnation uint64
	Tid         uint64
}

// IsZero reports whether r is unset (log entries written by the OSD itself,
// such as recovery, carry no request id).
func (r ReqID) IsZero() bool { return r == ReqID{} }

// String prints "client.ID.INCARNATION:TID".
func (r ReqID) String() string {
	return fmt.Sprintf("client.%d.%d:%d", r.Client, r.Incarnation, r.Tid)
}

// ObjectID names an object within a pool: namespace, locator key and name.
type ObjectID struct {
	Namespace string
	Key       string
	Name      string
}

// String prints "name", "ns/name" or "ns/name@key", the short form used in
// traces.
func (o ObjectID) String() string {
	s := o.Name
	if o.Namespace != "" {
		s = o.Namespace + "/" + s
	}
	if o.Key != "" {
		s += "@" + o.Key
	}
	return s
}

// OpType is the kind of change a log entry records. The numbers are Ceph's
// pg_log_entry_t op codes, so logs read the same to a Ceph user.
type OpType uint8

// Log entry kinds.
const (
	// OpModify: the object was created or changed.
	OpModify OpType = 1
	// OpDelete: the object was removed.
	OpDelete OpType = 3
	// OpError: a write failed; the entry only records its result so that
	// a resend gets the same answer.
	OpError OpType = 10
)

// String names the op as traces print it.
func (t OpType) String() string {
	switch t {
	case OpModify:
		return "modify"
	case OpDelete:
		return "delete"
	case OpError:
		return "error"
	}
	return fmt.Sprintf("op(%d)", uint8(t))
}

func (t OpType) valid() bool { return t == OpModify || t == OpDelete || t == OpError }

// LogEntry records one change to one object of a PG.
type LogEntry struct {
	Op     OpType
	Object ObjectID
	// Version is the entry's own version; PriorVersion the version of the
	// previous entry for the same object (0'0 when the object did not
	// exist before).
	Version      Eversion
	PriorVersion Eversion
	// UserVersion is the object's user-visible version after the change.
	UserVersion uint64
	ReqID       ReqID
	// ReturnCode is the op's result as a negative errno (0 for success).
	ReturnCode int32
	// MtimeUnixNano is the modification time the primary stamped.
	MtimeUnixNano int64
}

// String prints the entry the way traces show it.
func (e LogEntry) String() string {
	return fmt.Sprintf("%s %s %s prior=%s uv=%d %s rc=%d",
		e.Version, e.Op, e.Object, e.PriorVersion, e.UserVersion, e.ReqID, e.ReturnCode)
}

// Dup is what survives of a log entry once it is trimmed: enough to answer a
// resent request with its original result.
type Dup struct {
	ReqID       ReqID
	Version     Eversion
	UserVersion uint64
	ReturnCode  int32
}

// dupOf returns the dup record of e.
func dupOf(e LogEntry) Dup {
	return Dup{ReqID: e.ReqID, Version: e.Version, UserVersion: e.UserVersion, ReturnCode: e.ReturnCode}
}
