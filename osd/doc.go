// Package osd implements the object storage daemon: the object store, the
// placement groups (log, peering, replication), heartbeats, the map cache and
// the public and cluster gRPC servers. Storage, peering and networking live in
// separate files and sub-packages.
package osd
