// Package objop turns a client's compound op on one object into what the
// OSD must do: for a write op, a validated, resolved transaction (appends
// turned into writes at an offset, preconditions checked) plus per-sub-op
// results; for a read op, the results read through a Reader.
//
// It is the one place that knows the semantics of each sub-op (librados'
// write and read operations). It does no I/O of its own: it reads the
// object's current state through the Reader the caller binds to the object,
// and its output is data. A write op either yields a transaction that the
// store applies whole, or a failure and no transaction, so a rejected op
// leaves the store exactly as it was.
//
// It uses the wire types of proto/pb for sub-ops and transactions, because
// the resolved transaction is exactly what the primary ships to replicas.
package objop
