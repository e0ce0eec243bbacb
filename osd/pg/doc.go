// Package pg is the pure core of a placement group on one OSD: versions
// (eversions), PG log entries, the in-memory log with its request-id index and
// its bounded dup list, PG info, and the PG state machine.
//
// The state machine follows etcd raft's shape: events enter through Step,
// time through Tick, and everything the PG wants done leaves as one Ready value
// (messages per peer, info and log changes to persist, client acks, state
// changes) that the daemon executes before calling Advance. Nothing here does
// I/O, starts goroutines, reads clocks or draws random numbers, so every
// behaviour can be replayed from a trace (see testdata/).
//
// This package must not know about gRPC, the object store or the network. The
// encodings in codec.go are the bytes the daemon persists and sends; they are
// opaque to everyone else.
package pg
