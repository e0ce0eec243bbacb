// Package client is the Go client library for gorados, in the spirit of
// librados and go-ceph: connect to the monitors, keep the cluster map current,
// compute each object's primary OSD with the placement code and send it the
// operation, resending across map changes and transient errors.
//
// Its public API uses Go types, never protobuf types.
package client
