// Package mon implements the monitor: a Raft node (go.etcd.io/raft/v3) whose
// log, HardState and snapshots live in bbolt, the map state machine that turns
// commands into one Incremental per committed batch, the gRPC services for
// commands and map subscriptions, and the monitor's metrics.
//
// Files, from the core outwards:
//   - commands.go: the pure core, Execute(map, command) on a private copy of
//     the pending map (no I/O, no clock); golden traces in testdata/commands.
//   - statemachine.go: applies committed entries (one epoch each) to bbolt,
//     keeps the newest incrementals and the replies of applied commands.
//   - batcher.go: the leader's batching of commands into one incremental.
//   - raftstore.go, node.go, transport.go: raft.Storage over bbolt, the node
//     loop (persist, send, apply, snapshot, ReadIndex) and gRPC transport.
//   - monitor.go, api.go, grpcerr.go, metrics.go: wiring, the Mon gRPC
//     service (forwarding to the leader, linearizable reads, subscriptions),
//     error codes, Prometheus metrics and /healthz.
//   - schema.go: every bbolt bucket and key.
//
// It must not reach into OSD internals; OSDs talk to it only through its gRPC
// API (client/monclient).
package mon
