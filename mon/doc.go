// Package mon implements the monitor: a Raft node (go.etcd.io/raft/v3) whose
// log, HardState and snapshots live in bbolt, the map state machine that turns
// commands into one Incremental per committed batch, the gRPC services for
// commands and map subscriptions, and the monitor's metrics.
//
// It must not reach into OSD internals; OSDs talk to it only through its gRPC
// API.
package mon
